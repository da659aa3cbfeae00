// Package signalfd implements signalfd(2) files: reading one dequeues
// signals of its mask pending for the reading thread or its process and
// returns them as 128-byte signalfd_siginfo records.
//
// Readiness (poll, select, epoll) is computed for the thread that created
// the file, since a FileImpl's Readiness has no caller: Linux uses the
// polling thread. The two agree for process-directed signals and for a
// descriptor polled by the thread that made it.
//
// Locking: SignalFD.mu is a leaf; the kernel's signal locks are taken
// without it, and the process's signal wait queue notifies without any
// kernel lock held.
package signalfd

import (
	"encoding/binary"
	"sync"
	"time"

	"moat/sentry/kernel"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Flags of signalfd4 (linux/signalfd.h).
const (
	CloExec  = unix.O_CLOEXEC
	NonBlock = unix.O_NONBLOCK
)

// RecordSize is sizeof(struct signalfd_siginfo).
const RecordSize = 128

// SignalFD is one signalfd object: the vfs.FileImpl of its file.
type SignalFD struct {
	// owner is the creating thread: its process's signal queue wakes
	// waiters, and Readiness reports for it.
	owner *kernel.Task

	// mu guards mask.
	mu   sync.Mutex
	mask kernel.SigSet
}

var (
	_ vfs.FileImpl   = (*SignalFD)(nil)
	_ vfs.BlockingIO = (*SignalFD)(nil)
	_ vfs.Waitable   = (*SignalFD)(nil)
)

// unblockable are SIGKILL and SIGSTOP, which a signalfd never reads.
var unblockable = kernel.SigBit(unix.SIGKILL) | kernel.SigBit(unix.SIGSTOP)

// New implements signalfd4 with fd -1: a file with one reference for
// the signals of mask (SIGKILL and SIGSTOP are silently dropped). flags
// are CloExec and NonBlock (EINVAL for any other bit); the caller
// applies CloExec to the descriptor.
func New(t *kernel.Task, mask kernel.SigSet, flags int) (*vfs.File, error) {
	if flags&^(CloExec|NonBlock) != 0 {
		return nil, unix.EINVAL
	}
	s := &SignalFD{owner: t, mask: mask &^ unblockable}
	return vfs.NewFile(s, unix.O_RDWR|flags&NonBlock, vfs.Location{}), nil
}

// SetMask implements signalfd4 on an existing signalfd: it replaces the
// mask and wakes waiters, which may now find a signal.
func (s *SignalFD) SetMask(mask kernel.SigSet) {
	s.mu.Lock()
	s.mask = mask &^ unblockable
	s.mu.Unlock()
	s.owner.ThreadGroup().SignalQueue().Notify(vfs.EventIn | vfs.EventRdNorm)
}

// Mask returns the signals the file reads (/proc fdinfo's sigmask).
func (s *SignalFD) Mask() kernel.SigSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mask
}

// Read reads for the owner without a task to interrupt it.
func (s *SignalFD) Read(f *vfs.File, dst []byte) (int, error) {
	return s.ReadInterruptible(f, dst, nil)
}

// ReadInterruptible implements read(2): EINVAL for a buffer under one
// record; as many records as fit, each a dequeued signal; with none
// pending, EAGAIN for O_NONBLOCK, or a wait for the first one (EINTR if
// another signal interrupts it). in is the reading task.
func (s *SignalFD) ReadInterruptible(f *vfs.File, dst []byte, in vfs.Interruptible) (int, error) {
	if len(dst) < RecordSize {
		return 0, unix.EINVAL
	}
	t, ok := in.(*kernel.Task)
	if !ok || t == nil {
		t = s.owner
	}
	n := 0
	for n+RecordSize <= len(dst) {
		info, got := t.DequeueSignal(s.Mask())
		if !got {
			break
		}
		encode(&info, dst[n:n+RecordSize])
		n += RecordSize
	}
	if n > 0 {
		return n, nil
	}
	if f.Flags()&unix.O_NONBLOCK != 0 {
		return 0, unix.EAGAIN
	}
	q := t.ThreadGroup().SignalQueue()
	w := vfs.NewWaitEntry(vfs.EventIn)
	q.Register(w)
	defer q.Unregister(w)
	for {
		if info, got := t.DequeueSignal(s.Mask()); got {
			encode(&info, dst[:RecordSize])
			return RecordSize, nil
		}
		if err := vfs.Block(in, w.C(), time.Time{}); err != nil {
			return 0, err
		}
	}
}

// encode writes info as a signalfd_siginfo (Linux's signalfd_copyinfo:
// the fields that the siginfo's layout carries).
func encode(info *kernel.SigInfo, out []byte) {
	var si [kernel.SigInfoSize]byte
	info.Encode(si[:])
	le := binary.LittleEndian
	clear(out[:RecordSize])
	signo := le.Uint32(si[0:])
	code := int32(le.Uint32(si[8:]))
	le.PutUint32(out[0:], signo)             // ssi_signo
	le.PutUint32(out[4:], le.Uint32(si[4:])) // ssi_errno
	le.PutUint32(out[8:], uint32(code))      // ssi_code
	pidUID := func() {
		le.PutUint32(out[12:], le.Uint32(si[16:])) // ssi_pid
		le.PutUint32(out[16:], le.Uint32(si[20:])) // ssi_uid
	}
	value := func() {
		le.PutUint32(out[44:], le.Uint32(si[24:])) // ssi_int
		le.PutUint64(out[48:], le.Uint64(si[24:])) // ssi_ptr
	}
	sig := unix.Signal(signo)
	switch {
	case code > 0 && code < kernel.SI_KERNEL && sig == unix.SIGCHLD:
		pidUID()
		le.PutUint32(out[40:], le.Uint32(si[24:])) // ssi_status
		le.PutUint64(out[56:], le.Uint64(si[32:])) // ssi_utime
		le.PutUint64(out[64:], le.Uint64(si[40:])) // ssi_stime
	case code > 0 && code < kernel.SI_KERNEL && (sig == unix.SIGSEGV || sig == unix.SIGBUS ||
		sig == unix.SIGILL || sig == unix.SIGFPE || sig == unix.SIGTRAP):
		le.PutUint64(out[72:], le.Uint64(si[16:])) // ssi_addr
	case code > 0 && code < kernel.SI_KERNEL && (sig == unix.SIGIO || sig == unix.SIGSYS):
		// SIGPOLL's band and fd; SIGSYS's call address.
		le.PutUint32(out[28:], le.Uint32(si[16:])) // ssi_band
		le.PutUint32(out[20:], le.Uint32(si[24:])) // ssi_fd
	case code == kernel.SI_TIMER:
		le.PutUint32(out[24:], le.Uint32(si[16:])) // ssi_tid
		le.PutUint32(out[32:], le.Uint32(si[20:])) // ssi_overrun
		value()
	case code < 0:
		pidUID()
		value()
	default:
		pidUID()
	}
}

// Write fails: a signalfd is read-only in effect (Linux has no write).
func (s *SignalFD) Write(*vfs.File, []byte) (int, error) { return 0, unix.EINVAL }

// WriteInterruptible fails like Write.
func (s *SignalFD) WriteInterruptible(*vfs.File, []byte, vfs.Interruptible) (int, error) {
	return 0, unix.EINVAL
}

// PRead fails: a signalfd has no offsets.
func (s *SignalFD) PRead(*vfs.File, []byte, int64) (int, error) { return 0, unix.ESPIPE }

// PWrite fails: a signalfd has no offsets.
func (s *SignalFD) PWrite(*vfs.File, []byte, int64) (int, error) { return 0, unix.ESPIPE }

// Seek does nothing and returns 0 (noop_llseek).
func (s *SignalFD) Seek(*vfs.File, int64, int) (int64, error) { return 0, nil }

// Stat reports an anonymous inode (mode 0600, no file type).
func (s *SignalFD) Stat(*vfs.File) (unix.Stat_t, error) {
	return unix.Stat_t{Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}

// ProcLinkName is what /proc/[pid]/fd shows for a signalfd.
func (s *SignalFD) ProcLinkName() string { return "anon_inode:[signalfd]" }

// Getdents fails: a signalfd is no directory.
func (s *SignalFD) Getdents(*vfs.File, []byte) (int, error) { return 0, unix.ENOTDIR }

// Ioctl answers ENOTTY: signalfds take no ioctls.
func (s *SignalFD) Ioctl(*vfs.File, uintptr, uintptr, vfs.IOContext) (uintptr, error) {
	return 0, unix.ENOTTY
}

// HostFD returns -1: the signals live in the sentry.
func (s *SignalFD) HostFD() int { return -1 }

// Release does nothing: the object is garbage once unreferenced.
func (s *SignalFD) Release() {}

// Readiness implements vfs.Waitable: readable while a signal of the mask
// is pending for the owner or its process.
func (s *SignalFD) Readiness(mask vfs.EventMask) vfs.EventMask {
	if s.owner.PendingIn(s.Mask()) {
		return (vfs.EventIn | vfs.EventRdNorm) & mask
	}
	return 0
}

// EventRegister implements vfs.Waitable on the process's signal queue.
func (s *SignalFD) EventRegister(w *vfs.WaitEntry) bool {
	s.owner.ThreadGroup().SignalQueue().Register(w)
	return true
}

// EventUnregister implements vfs.Waitable.
func (s *SignalFD) EventUnregister(w *vfs.WaitEntry) {
	s.owner.ThreadGroup().SignalQueue().Unregister(w)
}
