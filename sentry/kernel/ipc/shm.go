package ipc

import (
	"encoding/binary"
	"fmt"
	"time"

	"moat/sentry/mm"

	"golang.org/x/sys/unix"
)

var le = binary.LittleEndian

// Shared memory limits: Linux's defaults (SHMMAX and SHMALL are "no
// limit" in practice; SHMMNI is 4096 segments).
const (
	ShmMax  = ^uint64(0) - 1<<24
	ShmAll  = ^uint64(0) - 1<<24
	ShmMni  = 4096
	ShmMin  = 1
	ShmSeg  = ShmMni
	shmDest = 0o1000 // SHM_DEST: removed, destroyed at the last detach
	shmLock = 0o2000 // SHM_LOCKED
)

// Shm is a shared memory segment: a host memfd of its size, mapped
// shared by every attachment.
type Shm struct {
	p            Perm
	ns           *Namespace
	size         uint64
	fd           int
	nattch       int
	atime, dtime time.Time
	cpid, lpid   int32
}

func (s *Shm) perm() *Perm { return &s.p }

// ShmGet implements shmget(2).
func (ns *Namespace) ShmGet(c Cred, key int32, size uint64, flg int) (int32, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	check := func(s *Shm) error {
		if s.size < size {
			return unix.EINVAL
		}
		return nil
	}
	mk := func() (*Shm, error) {
		if size < ShmMin || size > ShmMax {
			return nil, unix.EINVAL
		}
		pages := (size + mm.PageSize - 1) / mm.PageSize
		if ns.shmTotal+pages < ns.shmTotal || ns.shmTotal+pages > ShmAll {
			return nil, unix.ENOSPC
		}
		if len(ns.shm.objs) >= ns.shm.max {
			return nil, unix.ENOSPC
		}
		// One host memfd per segment: mm maps it shared at each
		// shmat; its pages are allocated as they are touched.
		fd, err := unix.MemfdCreate("moat-sysv-shm", unix.MFD_CLOEXEC)
		if err != nil {
			return nil, unix.ENOMEM
		}
		if err := unix.Ftruncate(fd, int64(pages*mm.PageSize)); err != nil {
			unix.Close(fd)
			return nil, unix.ENOMEM
		}
		ns.shmTotal += pages
		return &Shm{ns: ns, size: size, fd: fd, cpid: c.PID}, nil
	}
	return get(&ns.shm, c, key, flg, check, mk)
}

// destroyLocked frees s (removed and detached).
//
// Preconditions: ns.mu is locked.
func (ns *Namespace) destroyShmLocked(s *Shm) {
	if s.fd >= 0 {
		unix.Close(s.fd)
		s.fd = -1
		ns.shmTotal -= (s.size + mm.PageSize - 1) / mm.PageSize
	}
}

// ShmAttach checks that c may attach segment id (read-only or not, exec
// or not) and returns the file to map and its size. The returned
// mapping holds an attachment until the caller's Release: mm's
// references keep it attached once mapped.
func (ns *Namespace) ShmAttach(c Cred, id int32, readOnly, exec bool) (ShmMapping, uint64, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	s, err := ns.shm.byID(id)
	if err != nil {
		return ShmMapping{}, 0, err
	}
	may := uint32(4)
	if !readOnly {
		may |= 2
	}
	if exec {
		may |= 1
	}
	if !s.p.Permits(c, may) {
		return ShmMapping{}, 0, unix.EACCES
	}
	s.nattch++
	s.atime = time.Now()
	s.lpid = c.PID
	return ShmMapping{s: s, ro: readOnly}, s.size, nil
}

// ShmDetached records a detach by pid (shmdt).
func (ns *Namespace) ShmDetached(m ShmMapping, pid int32) {
	ns.mu.Lock()
	m.s.dtime = time.Now()
	m.s.lpid = pid
	ns.mu.Unlock()
}

// ShmMapping is a segment as mm maps it: a comparable value, so that
// the pieces of one attachment are the same file. Each mm reference is
// one attachment (shm_nattch), as each vma is on Linux.
type ShmMapping struct {
	s  *Shm
	ro bool
}

var (
	_ mm.MappedFile    = ShmMapping{}
	_ mm.MappedFileRef = ShmMapping{}
	_ mm.MappedFileID  = ShmMapping{}
)

// Segment reports whether m maps a segment (the zero value does not).
func (m ShmMapping) Segment() bool { return m.s != nil }

// SameSegment reports whether f is a mapping of the same segment as m.
func (m ShmMapping) SameSegment(f mm.MappedFile) bool {
	o, ok := f.(ShmMapping)
	return ok && o.s == m.s
}

// Size returns the segment's size.
func (m ShmMapping) Size() uint64 { return m.s.size }

// HostFD implements mm.MappedFile.
func (m ShmMapping) HostFD() int {
	m.s.ns.mu.Lock()
	defer m.s.ns.mu.Unlock()
	return m.s.fd
}

// MapName implements mm.MappedFile: Linux shows "/SYSV<key> (deleted)".
func (m ShmMapping) MapName() string {
	m.s.ns.mu.Lock()
	defer m.s.ns.mu.Unlock()
	return fmt.Sprintf("/SYSV%08x (deleted)", uint32(m.s.p.Key))
}

// OpenFlags implements mm.MappedFile: SHM_RDONLY attachments are
// read-only, so mprotect cannot make them writable.
func (m ShmMapping) OpenFlags() int {
	if m.ro {
		return unix.O_RDONLY
	}
	return unix.O_RDWR
}

// MapDevIno implements mm.MappedFileID: the inode number is the
// segment's identifier, as /proc/self/maps shows on Linux.
func (m ShmMapping) MapDevIno() (dev, ino uint64) {
	return unix.Mkdev(0, 1), uint64(uint32(m.s.p.ID))
}

// IncRef implements mm.MappedFileRef: one more attachment (shmat, fork,
// a split of the mapping).
func (m ShmMapping) IncRef() {
	m.s.ns.mu.Lock()
	m.s.nattch++
	m.s.ns.mu.Unlock()
}

// DecRef implements mm.MappedFileRef: one attachment fewer; a segment
// removed with IPC_RMID is destroyed at the last.
func (m ShmMapping) DecRef() {
	ns := m.s.ns
	ns.mu.Lock()
	defer ns.mu.Unlock()
	m.s.nattch--
	if m.s.nattch == 0 && m.s.p.Mode&shmDest != 0 {
		ns.shm.remove(m.s)
		ns.destroyShmLocked(m.s)
	}
}

// Release drops the attachment ShmAttach took.
func (m ShmMapping) Release() { m.DecRef() }

// shmid64DSSize is sizeof(struct shmid64_ds) on 64-bit Linux.
const shmid64DSSize = 112

// ShmCtl commands beyond IPC_*.
const (
	ShmLock   = 11
	ShmUnlock = 12
	ShmStat   = 13
	ShmInfo   = 14
	// ShmStatAny is SHM_STAT_ANY: SHM_STAT without the read check.
	ShmStatAny = 15
)

// ShmCtl implements shmctl(2) for the commands that read or write buf
// (IPC_STAT, SHM_STAT, IPC_INFO, SHM_INFO: filled; IPC_SET: read) and
// the others. It returns the call's result.
func (ns *Namespace) ShmCtl(c Cred, id int32, cmd int, buf []byte) (int32, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	switch cmd {
	case IPCInfo:
		// struct shminfo64: shmmax, shmmin, shmmni, shmseg, shmall.
		clear(buf)
		le.PutUint64(buf[0:], ShmMax)
		le.PutUint64(buf[8:], ShmMin)
		le.PutUint64(buf[16:], ShmMni)
		le.PutUint64(buf[24:], ShmSeg)
		le.PutUint64(buf[32:], ShmAll)
		return int32(max(ns.shm.highest(), 0)), nil
	case ShmInfo:
		// struct shm_info: used_ids, shm_tot, shm_rss, shm_swp,
		// swap_attempts, swap_successes.
		clear(buf)
		le.PutUint32(buf[0:], uint32(len(ns.shm.objs)))
		le.PutUint64(buf[8:], ns.shmTotal)
		le.PutUint64(buf[16:], 0)
		return int32(max(ns.shm.highest(), 0)), nil
	case IPCStat, ShmStat, ShmStatAny:
		var s *Shm
		var err error
		if cmd == IPCStat {
			s, err = ns.shm.byID(id)
		} else {
			s, err = ns.shm.byIndex(id)
		}
		if err != nil {
			return 0, err
		}
		if cmd != ShmStatAny && !s.p.Permits(c, 4) {
			return 0, unix.EACCES
		}
		clear(buf[:shmid64DSSize])
		s.p.Encode(buf)
		le.PutUint64(buf[48:], s.size)
		le.PutUint64(buf[56:], uint64(unixTime(s.atime)))
		le.PutUint64(buf[64:], uint64(unixTime(s.dtime)))
		le.PutUint64(buf[72:], uint64(unixTime(s.p.changeTime)))
		le.PutUint32(buf[80:], uint32(s.cpid))
		le.PutUint32(buf[84:], uint32(s.lpid))
		le.PutUint64(buf[88:], uint64(s.nattch))
		if cmd == IPCStat {
			return 0, nil
		}
		return s.p.ID, nil
	case IPCSet, IPCRmid, ShmLock, ShmUnlock:
		s, err := ns.shm.byID(id)
		if err != nil {
			return 0, err
		}
		switch cmd {
		case ShmLock, ShmUnlock:
			// Without CAP_IPC_LOCK only the owner may lock (and
			// RLIMIT_MEMLOCK applies; moat does not pin pages).
			if c.UID != s.p.UID && c.UID != s.p.CUID && !c.IPCOwner && !c.SysAdmin {
				return 0, unix.EPERM
			}
			if cmd == ShmLock {
				s.p.Mode |= shmLock
			} else {
				s.p.Mode &^= shmLock
			}
			return 0, nil
		}
		if !s.p.mayChange(c) {
			return 0, unix.EPERM
		}
		s.p.changeTime = time.Now()
		if cmd == IPCSet {
			s.p.setFrom(buf)
			return 0, nil
		}
		// IPC_RMID: the key is freed at once; the segment lives on
		// (and keeps its identifier) while attached.
		s.p.Mode |= shmDest
		s.p.Key = IPCPrivate
		if s.nattch == 0 {
			ns.shm.remove(s)
			ns.destroyShmLocked(s)
		}
		return 0, nil
	}
	return 0, unix.EINVAL
}
