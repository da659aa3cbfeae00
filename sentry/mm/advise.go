package mm

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// madvise(2) advice values (asm-generic/mman-common.h) that x/sys/unix
// does not name on every architecture.
const (
	madvDontNeedLocked = 24
	madvCollapse       = 25
	madvPopulateRead   = 22
	madvPopulateWrite  = 23
	madvHWPoison       = 100
	madvSoftOffline    = 101
)

// rangeArgs checks the (addr, length) pair madvise, msync, mlock and
// mincore take: addr page aligned (EINVAL), length rounded up to pages.
// A range that wraps fails with overflowErr, the errno each call uses.
func rangeArgs(addr, length uintptr, overflowErr unix.Errno) (start, end uintptr, err error) {
	if addr%PageSize != 0 {
		return 0, 0, unix.EINVAL
	}
	l, ok := pageUp(length)
	if !ok || addr+l < addr {
		return 0, 0, overflowErr
	}
	return addr, addr + l, nil
}

// MAdvise implements madvise(2). MADV_DONTNEED (and DONTNEED_LOCKED)
// gives private mappings fresh pages: zeros for anonymous memory, the
// file's contents for a file mapping; shared mappings keep their data, as
// on Linux. The other hints Linux accepts change nothing here
// (MADV_DONTFORK included: a forked child still gets the range).
// MADV_FREE is accepted on private anonymous memory only (EINVAL
// elsewhere, as Linux); MADV_REMOVE, MADV_WIPEONFORK and unknown advice
// fail with EINVAL (MADV_REMOVE on shared mappings with EOPNOTSUPP, as on
// a file system that cannot punch holes), MADV_HWPOISON and
// MADV_SOFT_OFFLINE with EPERM. A range with unmapped pages fails with
// ENOMEM after the mapped parts were handled.
func (m *MemoryManager) MAdvise(addr, length uintptr, advice int) error {
	var dontNeed, anonOnly, sharedRemove bool
	switch advice {
	case unix.MADV_NORMAL, unix.MADV_RANDOM, unix.MADV_SEQUENTIAL, unix.MADV_WILLNEED,
		unix.MADV_DONTFORK, unix.MADV_DOFORK, unix.MADV_MERGEABLE, unix.MADV_UNMERGEABLE,
		unix.MADV_HUGEPAGE, unix.MADV_NOHUGEPAGE, unix.MADV_DONTDUMP, unix.MADV_DODUMP,
		unix.MADV_COLD, unix.MADV_PAGEOUT, madvPopulateRead, madvPopulateWrite, madvCollapse,
		unix.MADV_KEEPONFORK:
	case unix.MADV_DONTNEED, madvDontNeedLocked:
		dontNeed = true
	case unix.MADV_FREE:
		anonOnly = true
	case unix.MADV_REMOVE:
		sharedRemove = true
	case madvHWPoison, madvSoftOffline:
		return unix.EPERM
	default:
		// MADV_WIPEONFORK included: the platform cannot wipe a range
		// in a forked copy.
		return unix.EINVAL
	}
	start, end, err := rangeArgs(addr, length, unix.EINVAL)
	if err != nil || start == end {
		return err
	}
	m.mu.Lock()
	defer m.unlock()
	hole := false
	cur := start
	for i := m.vmas.find(start); i < len(m.vmas) && m.vmas[i].start < end; i++ {
		v := &m.vmas[i]
		if v.start > cur {
			hole = true
		}
		cur = v.end
		switch {
		case anonOnly && (v.file != nil || v.shared):
			return unix.EINVAL
		case sharedRemove && v.shared:
			return unix.EOPNOTSUPP
		case sharedRemove:
			return unix.EINVAL
		case dontNeed && !v.shared:
			if err := m.dropPagesLocked(v, max(v.start, start), min(v.end, end)); err != nil {
				return err
			}
		}
	}
	if hole || cur < end {
		return unix.ENOMEM
	}
	return nil
}

// dropPagesLocked gives [start, end) of the private vma v fresh pages:
// mapping it again in place discards the copies the process wrote.
//
// Preconditions: m.mu is locked for writing; [start, end) lies in v.
func (m *MemoryManager) dropPagesLocked(v *vma, start, end uintptr) error {
	var err error
	if v.file == nil {
		err = m.as.MapAnon(start, end-start, v.prot, false)
	} else {
		fd, ferr := m.hostFDLocked(v)
		if ferr != nil {
			return ferr
		}
		err = m.as.MapFile(start, end-start, v.prot, fd, v.fileOffsetAt(start), false)
	}
	if err != nil {
		return errnoOf(err, fmt.Sprintf("discard pages %#x-%#x", start, end))
	}
	return nil
}

// MSync implements msync(2). The platform maps the very host file a
// shared file mapping names, so the host page cache keeps mapping, file
// and other mappings coherent without any copy; MS_SYNC additionally
// makes the host write the file's data out (fdatasync), as Linux's
// msync does for the range. Unmapped pages in the range give ENOMEM.
func (m *MemoryManager) MSync(addr, length uintptr, flags int) error {
	if flags&^(unix.MS_ASYNC|unix.MS_INVALIDATE|unix.MS_SYNC) != 0 {
		return unix.EINVAL
	}
	if flags&unix.MS_ASYNC != 0 && flags&unix.MS_SYNC != 0 {
		return unix.EINVAL
	}
	start, end, err := rangeArgs(addr, length, unix.ENOMEM)
	if err != nil || start == end {
		return err
	}
	var files []MappedFile
	m.mu.Lock()
	cur := start
	hole := false
	for i := m.vmas.find(start); i < len(m.vmas) && m.vmas[i].start < end; i++ {
		v := &m.vmas[i]
		if v.start > cur {
			hole = true
		}
		cur = v.end
		if flags&unix.MS_SYNC != 0 && v.shared && v.file != nil {
			// Keep the file open for the sync, done without mu.
			incFile(v.file)
			files = append(files, v.file)
		}
	}
	m.unlock()
	var syncErr error
	for _, f := range files {
		if fd := f.HostFD(); fd >= 0 && syncErr == nil {
			if err := unix.Fdatasync(fd); err != nil {
				syncErr = err
			}
		}
		decFile(f)
	}
	if syncErr != nil {
		return errnoOf(syncErr, "msync")
	}
	if hole || cur < end {
		return unix.ENOMEM
	}
	return nil
}

// MinCore checks the range of mincore(2) and returns how many pages its
// vector has. Every mapped page is reported resident (the sentry does not
// see the host's page tables). ENOMEM for a range with unmapped pages.
func (m *MemoryManager) MinCore(addr, length uintptr) (int, error) {
	start, end, err := rangeArgs(addr, length, unix.ENOMEM)
	if err != nil {
		return 0, err
	}
	if end > m.maxAddr {
		return 0, unix.ENOMEM
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if !m.vmas.covered(start, end) {
		return 0, unix.ENOMEM
	}
	return int((end - start) / PageSize), nil
}

// MLock checks mlock(2), mlock2(2) and munlock(2) arguments and accepts
// them without locking anything (the sentry cannot pin the stub's
// pages). A range Linux would lock past limit (RLIMIT_MEMLOCK in bytes;
// 0 for munlock, which has none) fails with ENOMEM, as does a range with
// unmapped pages. Like Linux, addr need not be page aligned.
func (m *MemoryManager) MLock(addr, length uintptr, limit uint64, lock bool) error {
	start := addr &^ (PageSize - 1)
	l, ok := pageUp(length + addr - start)
	if !ok || start+l < start {
		return unix.EINVAL
	}
	end := start + l
	if lock && limit != ^uint64(0) && uint64(l) > limit {
		return unix.ENOMEM
	}
	if start == end {
		return nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if end > m.maxAddr || !m.vmas.covered(start, end) {
		return unix.ENOMEM
	}
	return nil
}

// MLockAll checks mlockall(2) and accepts it without locking anything:
// EINVAL for bad flags, ENOMEM when MCL_CURRENT would lock more than limit
// (RLIMIT_MEMLOCK in bytes) as Linux's total_vm check.
func (m *MemoryManager) MLockAll(flags int, limit uint64) error {
	const known = unix.MCL_CURRENT | unix.MCL_FUTURE | unix.MCL_ONFAULT
	if flags == 0 || flags&^known != 0 || flags == unix.MCL_ONFAULT {
		return unix.EINVAL
	}
	if flags&unix.MCL_CURRENT == 0 || limit == ^uint64(0) {
		return nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var total uint64
	for i := range m.vmas {
		total += uint64(m.vmas[i].end - m.vmas[i].start)
	}
	if total > limit {
		return unix.ENOMEM
	}
	return nil
}
