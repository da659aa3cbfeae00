// Package ipc is System V IPC (sysvipc(7)): shared memory segments,
// semaphore sets and message queues of the sandbox's IPC namespace (one
// per sandbox), with Linux's keys, identifiers, permissions and default
// limits. The system calls are in syscalls/sys_ipc_*.go; shared memory
// is mapped by sentry/mm from a host memfd per segment.
//
// Locking: Namespace.mu guards every object of the namespace (Linux
// locks per object; a sandbox's IPC traffic does not need more). It is
// never held while sleeping or while calling into mm or the kernel;
// sleepers wait on a channel that each change closes.
package ipc

import (
	"sync"
	"time"

	"moat/sentry/fs/proc"
	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

// Flags and commands shared by the three kinds of object.
const (
	IPCPrivate = 0
	IPCCreat   = 0o1000
	IPCExcl    = 0o2000
	IPCNoWait  = 0o4000
	IPCRmid    = 0
	IPCSet     = 1
	IPCStat    = 2
	IPCInfo    = 3
	// seqMultiplier is SEQ_MULTIPLIER (IPCMNI): id = seq*32768 + index.
	seqMultiplier = 32768
	seqMax        = 1<<31/seqMultiplier - 1
)

// Cred is who makes an IPC call: its effective ids and groups, its PID,
// and the capabilities that bypass IPC permission checks.
type Cred struct {
	UID, GID uint32
	Groups   []uint32
	PID      int32
	// IPCOwner is CAP_IPC_OWNER (bypasses the mode bits); SysAdmin is
	// CAP_SYS_ADMIN (may IPC_SET and IPC_RMID others' objects).
	IPCOwner, SysAdmin bool
}

// CredOf returns t's IPC credentials.
func CredOf(t *kernel.Task) Cred {
	c := t.Credentials()
	return Cred{
		UID: c.EffectiveUID, GID: c.EffectiveGID, Groups: c.Groups, PID: t.PID(),
		IPCOwner: c.HasCap(unix.CAP_IPC_OWNER), SysAdmin: c.HasCap(unix.CAP_SYS_ADMIN),
	}
}

func (c Cred) inGroup(gid uint32) bool {
	if c.GID == gid {
		return true
	}
	for _, g := range c.Groups {
		if g == gid {
			return true
		}
	}
	return false
}

// Perm is struct ipc64_perm: an object's key, owner, creator and mode.
type Perm struct {
	Key              int32
	UID, GID         uint32
	CUID, CGID       uint32
	Mode             uint32
	Seq              uint16
	ID               int32
	removed          bool
	changeTime       time.Time
	objIndex, objSeq int
}

// Permits is ipcperms: the mode bits for owner/creator, group or other
// must grant may (4 read, 2 write, as S_IRUGO/S_IWUGO shifted down),
// unless c has CAP_IPC_OWNER.
func (p *Perm) Permits(c Cred, may uint32) bool {
	granted := p.Mode
	switch {
	case c.UID == p.UID || c.UID == p.CUID:
		granted >>= 6
	case c.inGroup(p.CGID) || c.inGroup(p.GID):
		granted >>= 3
	}
	return may&^granted&7 == 0 || c.IPCOwner
}

// mayChange is the owner check of IPC_SET and IPC_RMID.
func (p *Perm) mayChange(c Cred) bool {
	return c.UID == p.UID || c.UID == p.CUID || c.SysAdmin
}

// Encode writes p as struct ipc64_perm (48 bytes) into b.
func (p *Perm) Encode(b []byte) {
	clear(b[:48])
	le.PutUint32(b[0:], uint32(p.Key))
	le.PutUint32(b[4:], p.UID)
	le.PutUint32(b[8:], p.GID)
	le.PutUint32(b[12:], p.CUID)
	le.PutUint32(b[16:], p.CGID)
	le.PutUint32(b[20:], p.Mode)
	le.PutUint16(b[24:], p.Seq)
}

// SetFrom applies IPC_SET's uid, gid and mode (its low 9 bits) from a
// struct ipc64_perm.
func (p *Perm) setFrom(b []byte) {
	p.UID = le.Uint32(b[4:])
	p.GID = le.Uint32(b[8:])
	p.Mode = p.Mode&^0o777 | le.Uint32(b[20:])&0o777
}

// object is what every kind of IPC object has.
type object interface {
	perm() *Perm
}

// table is the objects of one kind, by index, with Linux's identifier
// allocation: the lowest free index, and a sequence number that grows
// when an index is reused.
type table[T object] struct {
	objs    map[int]T
	seq     int
	lastIdx int
	max     int
}

func newTable[T object](max int) table[T] {
	return table[T]{objs: map[int]T{}, lastIdx: -1, max: max}
}

// add gives o an index and identifier; ENOSPC past max.
func (t *table[T]) add(o T) error {
	if len(t.objs) >= t.max {
		return unix.ENOSPC
	}
	idx := 0
	for {
		if _, used := t.objs[idx]; !used {
			break
		}
		idx++
	}
	if idx <= t.lastIdx {
		t.seq++
		if t.seq > seqMax {
			t.seq = 0
		}
	}
	t.lastIdx = idx
	p := o.perm()
	p.objIndex, p.objSeq = idx, t.seq
	p.Seq = uint16(t.seq)
	p.ID = int32(t.seq*seqMultiplier + idx)
	t.objs[idx] = o
	return nil
}

// byID finds identifier id: EINVAL for none (EIDRM is never reported
// for a stale identifier here: the object is gone, as on Linux).
func (t *table[T]) byID(id int32) (T, error) {
	var zero T
	if id < 0 {
		return zero, unix.EINVAL
	}
	o, ok := t.objs[int(id)%seqMultiplier]
	if !ok || o.perm().ID != id {
		return zero, unix.EINVAL
	}
	return o, nil
}

// byIndex finds the object at index idx (the *_STAT commands).
func (t *table[T]) byIndex(idx int32) (T, error) {
	o, ok := t.objs[int(idx)]
	if !ok {
		var zero T
		return zero, unix.EINVAL
	}
	return o, nil
}

// byKey finds the live object with key.
func (t *table[T]) byKey(key int32) (T, bool) {
	for _, o := range t.objs {
		if p := o.perm(); p.Key == key && !p.removed {
			return o, true
		}
	}
	var zero T
	return zero, false
}

// remove takes o out of the table.
func (t *table[T]) remove(o T) {
	p := o.perm()
	p.removed = true
	delete(t.objs, p.objIndex)
}

// highest returns the highest index in use, -1 for none.
func (t *table[T]) highest() int {
	h := -1
	for i := range t.objs {
		h = max(h, i)
	}
	return h
}

// get is ipcget: IPC_PRIVATE always makes a new object; a key finds or
// makes one per IPC_CREAT and IPC_EXCL. check runs on an existing
// object (size checks) before the permission check; mk makes a new one.
func get[T object](t *table[T], c Cred, key int32, flg int, check func(T) error, mk func() (T, error)) (int32, error) {
	if key != IPCPrivate {
		if o, ok := t.byKey(key); ok {
			if flg&IPCCreat != 0 && flg&IPCExcl != 0 {
				return 0, unix.EEXIST
			}
			if err := check(o); err != nil {
				return 0, err
			}
			if !o.perm().Permits(c, uint32(flg>>6&7|flg>>3&7|flg&7)) {
				return 0, unix.EACCES
			}
			return o.perm().ID, nil
		}
		if flg&IPCCreat == 0 {
			return 0, unix.ENOENT
		}
	}
	o, err := mk()
	if err != nil {
		return 0, err
	}
	p := o.perm()
	p.Key = key
	p.UID, p.CUID = c.UID, c.UID
	p.GID, p.CGID = c.GID, c.GID
	p.Mode = uint32(flg) & 0o777
	p.changeTime = time.Now()
	if err := t.add(o); err != nil {
		return 0, err
	}
	return p.ID, nil
}

// Namespace is a sandbox's System V IPC objects.
type Namespace struct {
	mu  sync.Mutex
	shm table[*Shm]
	sem table[*SemSet]
	msg table[*MsgQueue]
	// shmTotal is the pages of every segment (SHM_INFO's shm_tot).
	shmTotal uint64
	// undo are the processes' SEM_UNDO adjustments.
	undo map[*kernel.ThreadGroup]undoList
	// procOnce registers the namespace for /proc/sysvipc.
	procOnce sync.Once
}

type nsKey struct{}

// For returns k's IPC namespace.
func For(k *kernel.Kernel) *Namespace {
	ns := k.Extension(nsKey{}, func() any {
		return &Namespace{
			shm: newTable[*Shm](ShmMni),
			sem: newTable[*SemSet](SemMni),
			msg: newTable[*MsgQueue](MsgMni),
		}
	}).(*Namespace)
	// /proc/sysvipc lists the namespace once it exists.
	ns.procOnce.Do(func() { proc.SysVIPCHolderOf(k).Set(ns) })
	return ns
}

// unixTime is a time as the seconds IPC_STAT reports (0 for never).
func unixTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// waiter is a channel closed at the next change of an object, for
// sleepers (semop, msgsnd, msgrcv).
type waiter struct{ ch chan struct{} }

// wait returns the channel of the next change.
//
// Preconditions: Namespace.mu is locked.
func (w *waiter) wait() <-chan struct{} {
	if w.ch == nil {
		w.ch = make(chan struct{})
	}
	return w.ch
}

// wake wakes every sleeper.
//
// Preconditions: Namespace.mu is locked.
func (w *waiter) wake() {
	if w.ch != nil {
		close(w.ch)
		w.ch = nil
	}
}
