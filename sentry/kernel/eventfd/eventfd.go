// Package eventfd implements eventfd(2) objects in the sentry: a 64-bit
// counter that write adds to and read takes (all of it, or one with
// EFD_SEMAPHORE), blocking when read finds zero or a write would overflow.
//
// Locking: EventFD.mu, then the wait queue's lock (Notify is called with
// mu held).
package eventfd

import (
	"encoding/binary"
	"sync"
	"time"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Flags of eventfd2 (linux/eventfd.h).
const (
	Semaphore = 1
	CloExec   = unix.O_CLOEXEC
	NonBlock  = unix.O_NONBLOCK
)

// maxCount is the largest value the counter may hold (ULLONG_MAX - 1).
const maxCount = ^uint64(0) - 1

// EventFD is one eventfd object: the vfs.FileImpl of its file.
type EventFD struct {
	semaphore bool
	queue     vfs.WaitQueue

	// mu guards count.
	mu    sync.Mutex
	count uint64
}

var (
	_ vfs.FileImpl   = (*EventFD)(nil)
	_ vfs.BlockingIO = (*EventFD)(nil)
	_ vfs.Waitable   = (*EventFD)(nil)
)

// New implements eventfd2: a file with one reference whose counter starts
// at initval. flags are Semaphore, CloExec and NonBlock (EINVAL for any
// other bit); the caller applies CloExec to the descriptor.
func New(initval uint32, flags int) (*vfs.File, error) {
	if flags&^(Semaphore|CloExec|NonBlock) != 0 {
		return nil, unix.EINVAL
	}
	e := &EventFD{semaphore: flags&Semaphore != 0, count: uint64(initval)}
	return vfs.NewFile(e, unix.O_RDWR|flags&NonBlock, vfs.Location{}), nil
}

// Name is what /proc/PID/fd shows for a descriptor of an eventfd.
func (e *EventFD) Name() string { return "anon_inode:[eventfd]" }

// Count returns the counter (for /proc/PID/fdinfo).
func (e *EventFD) Count() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.count
}

// take removes the value a read returns, or reports EAGAIN at zero.
func (e *EventFD) take() (uint64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.count == 0 {
		return 0, unix.EAGAIN
	}
	v := e.count
	if e.semaphore {
		v = 1
	}
	e.count -= v
	e.queue.Notify(vfs.EventOut | vfs.EventWrNorm)
	return v, nil
}

// add adds v, or reports EAGAIN if the counter would pass maxCount.
func (e *EventFD) add(v uint64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if maxCount-e.count < v {
		return unix.EAGAIN
	}
	e.count += v
	if v > 0 {
		e.queue.Notify(vfs.EventIn | vfs.EventRdNorm)
	}
	return nil
}

// wait blocks until try stops returning EAGAIN.
func (e *EventFD) wait(mask vfs.EventMask, in vfs.Interruptible, try func() error) error {
	w := vfs.NewWaitEntry(mask)
	e.queue.Register(w)
	defer e.queue.Unregister(w)
	for {
		err := try()
		if err != unix.EAGAIN {
			return err
		}
		if err := vfs.Block(in, w.C(), time.Time{}); err != nil {
			return err
		}
	}
}

// Read reads without a task to interrupt it.
func (e *EventFD) Read(f *vfs.File, dst []byte) (int, error) { return e.ReadInterruptible(f, dst, nil) }

// Write writes without a task to interrupt it.
func (e *EventFD) Write(f *vfs.File, src []byte) (int, error) {
	return e.WriteInterruptible(f, src, nil)
}

// ReadInterruptible implements read(2): EINVAL for a buffer under 8
// bytes; the counter (or 1 with EFD_SEMAPHORE) as a native u64, waiting
// while it is zero unless O_NONBLOCK.
func (e *EventFD) ReadInterruptible(f *vfs.File, dst []byte, in vfs.Interruptible) (int, error) {
	if len(dst) < 8 {
		return 0, unix.EINVAL
	}
	var v uint64
	try := func() (err error) { v, err = e.take(); return err }
	err := try()
	if err == unix.EAGAIN && f.Flags()&unix.O_NONBLOCK == 0 {
		err = e.wait(vfs.EventIn, in, try)
	}
	if err != nil {
		return 0, err
	}
	binary.LittleEndian.PutUint64(dst, v)
	return 8, nil
}

// WriteInterruptible implements write(2): EINVAL for under 8 bytes or the
// value 2^64-1; waits while the sum would overflow unless O_NONBLOCK.
func (e *EventFD) WriteInterruptible(f *vfs.File, src []byte, in vfs.Interruptible) (int, error) {
	if len(src) < 8 {
		return 0, unix.EINVAL
	}
	v := binary.LittleEndian.Uint64(src)
	if v == ^uint64(0) {
		return 0, unix.EINVAL
	}
	try := func() error { return e.add(v) }
	err := try()
	if err == unix.EAGAIN && f.Flags()&unix.O_NONBLOCK == 0 {
		err = e.wait(vfs.EventOut, in, try)
	}
	if err != nil {
		return 0, err
	}
	return 8, nil
}

// PRead fails: an eventfd has no offsets.
func (e *EventFD) PRead(*vfs.File, []byte, int64) (int, error) { return 0, unix.ESPIPE }

// PWrite fails: an eventfd has no offsets.
func (e *EventFD) PWrite(*vfs.File, []byte, int64) (int, error) { return 0, unix.ESPIPE }

// Seek does nothing and returns 0 (Linux's noop_llseek for eventfds).
func (e *EventFD) Seek(*vfs.File, int64, int) (int64, error) { return 0, nil }

// Stat reports an anonymous inode: mode 0600 with no file type, as
// anon_inodefs does.
func (e *EventFD) Stat(*vfs.File) (unix.Stat_t, error) {
	return unix.Stat_t{Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}

// ProcLinkName is what /proc/[pid]/fd shows for an eventfd (it
// implements proc.LinkNamer).
func (e *EventFD) ProcLinkName() string { return "anon_inode:[eventfd]" }

// Getdents fails: an eventfd is no directory.
func (e *EventFD) Getdents(*vfs.File, []byte) (int, error) { return 0, unix.ENOTDIR }

// Ioctl answers ENOTTY: eventfds take no ioctls.
func (e *EventFD) Ioctl(*vfs.File, uintptr, uintptr, vfs.IOContext) (uintptr, error) {
	return 0, unix.ENOTTY
}

// HostFD returns -1: the counter lives in the sentry.
func (e *EventFD) HostFD() int { return -1 }

// Release does nothing: the object is garbage once unreferenced.
func (e *EventFD) Release() {}

// Readiness implements vfs.Waitable: readable while the counter is
// positive, writable while one more can be added.
func (e *EventFD) Readiness(mask vfs.EventMask) vfs.EventMask {
	e.mu.Lock()
	defer e.mu.Unlock()
	var r vfs.EventMask
	if e.count > 0 {
		r |= vfs.EventIn | vfs.EventRdNorm
	}
	if e.count < maxCount {
		r |= vfs.EventOut | vfs.EventWrNorm
	}
	return r & mask
}

// EventRegister implements vfs.Waitable.
func (e *EventFD) EventRegister(w *vfs.WaitEntry) bool { e.queue.Register(w); return true }

// EventUnregister implements vfs.Waitable.
func (e *EventFD) EventUnregister(w *vfs.WaitEntry) { e.queue.Unregister(w) }
