package syscalls

import (
	"sync"
	"weak"

	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/mm"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// pidfd_open, pidfd_send_signal, pidfd_getfd and membarrier.

// pidFD is a process file descriptor: it refers to one process and polls
// readable once every thread of it has exited.
type pidFD struct {
	tg *kernel.ThreadGroup
}

var (
	_ vfs.FileImpl = (*pidFD)(nil)
	_ vfs.Waitable = (*pidFD)(nil)
)

func (p *pidFD) Read(*vfs.File, []byte) (int, error)          { return 0, unix.EINVAL }
func (p *pidFD) Write(*vfs.File, []byte) (int, error)         { return 0, unix.EINVAL }
func (p *pidFD) PRead(*vfs.File, []byte, int64) (int, error)  { return 0, unix.EINVAL }
func (p *pidFD) PWrite(*vfs.File, []byte, int64) (int, error) { return 0, unix.EINVAL }
func (p *pidFD) Seek(*vfs.File, int64, int) (int64, error)    { return 0, unix.ESPIPE }
func (p *pidFD) Getdents(*vfs.File, []byte) (int, error)      { return 0, unix.ENOTDIR }
func (p *pidFD) HostFD() int                                  { return -1 }
func (p *pidFD) Release()                                     {}
func (p *pidFD) EventRegister(e *vfs.WaitEntry) bool          { p.tg.ExitQueue().Register(e); return true }
func (p *pidFD) EventUnregister(e *vfs.WaitEntry)             { p.tg.ExitQueue().Unregister(e) }
func (p *pidFD) Ioctl(*vfs.File, uintptr, uintptr, vfs.IOContext) (uintptr, error) {
	return 0, unix.ENOTTY
}

// Stat describes an anonymous inode ("anon_inode:[pidfd]" on Linux 6.1).
func (p *pidFD) Stat(*vfs.File) (unix.Stat_t, error) {
	return unix.Stat_t{Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}

// Readiness implements vfs.Waitable: readable once the process's threads
// have all exited, as Linux 6.1's pidfd_poll.
func (p *pidFD) Readiness(mask vfs.EventMask) vfs.EventMask {
	if p.tg.ThreadsExited() {
		return (vfs.EventIn | vfs.EventRdNorm) & mask
	}
	return 0
}

// ProcLinkName names the descriptor in /proc/[pid]/fd, as Linux 6.1.
func (p *pidFD) ProcLinkName() string { return "anon_inode:[pidfd]" }

// sysPidfdOpen implements pidfd_open(2): pid must be a live process (or
// a zombie) and its leader; PIDFD_NONBLOCK is O_NONBLOCK. The descriptor
// is always close-on-exec.
func sysPidfdOpen(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	pid, flags := int32(a.Int(0)), a.Uint(1)
	if flags&^unix.O_NONBLOCK != 0 || pid <= 0 {
		return 0, unix.EINVAL
	}
	tg := t.Kernel().ThreadGroupByPID(pid)
	if tg == nil {
		if t.Kernel().TaskByTID(pid) != nil {
			// A thread that is not a leader.
			return 0, unix.EINVAL
		}
		return 0, unix.ESRCH
	}
	f := vfs.NewFile(&pidFD{tg: tg}, unix.O_RDWR|int(flags), vfs.Location{})
	defer f.DecRef()
	fd, err := t.FDTable().Install(f, 0, true, nofile(t))
	if err != nil {
		return 0, err
	}
	return uintptr(fd), nil
}

// pidFDOf returns the process of pidfd fd: EBADF for a bad descriptor
// or another kind of file.
func pidFDOf(t *kernel.Task, fd int32) (*kernel.ThreadGroup, error) {
	f, err := t.FDTable().Get(fd)
	if err != nil {
		return nil, err
	}
	defer f.DecRef()
	p, ok := f.Impl().(*pidFD)
	if !ok {
		return nil, unix.EBADF
	}
	return p.tg, nil
}

// siCodeTkill is SI_TKILL; SI_QUEUE-style codes are negative.
const siCodeTkill = -6

// sysPidfdSendSignal implements pidfd_send_signal(2): ESRCH once the
// process is reaped; an explicit siginfo follows rt_sigqueueinfo's
// rules (its signo must match; another process may not forge SI_USER,
// kernel codes or SI_TKILL).
func sysPidfdSendSignal(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	sig, infoAddr, flags := unix.Signal(a.Int(1)), a[2], a.Uint(3)
	if flags != 0 {
		return 0, unix.EINVAL
	}
	tg, err := pidFDOf(t, int32(a.Int(0)))
	if err != nil {
		return 0, err
	}
	if sig != 0 && !kernel.ValidSignal(sig) {
		return 0, unix.EINVAL
	}
	var raw *[kernel.SigInfoSize]byte
	if infoAddr != 0 {
		raw = new([kernel.SigInfoSize]byte)
		if err := copyInAll(t, infoAddr, raw[:]); err != nil {
			return 0, err
		}
		if unix.Signal(le.Uint32(raw[0:])) != sig {
			return 0, unix.EINVAL
		}
		code := int32(le.Uint32(raw[8:]))
		if tg != t.ThreadGroup() && (code >= 0 || code == siCodeTkill) {
			return 0, unix.EPERM
		}
	}
	if tg.Reaped() {
		return 0, unix.ESRCH
	}
	if !tg.MaySignal(t, sig) {
		return 0, unix.EPERM
	}
	if sig == 0 || tg.ThreadsExited() {
		return 0, nil
	}
	if raw != nil {
		tg.QueueSignalInfo(sig, raw)
	} else {
		tg.SendSignal(sig, t)
	}
	return 0, nil
}

// sysPidfdGetfd implements pidfd_getfd(2). Linux requires
// PTRACE_MODE_ATTACH_REALCREDS over the target; moat refuses ptrace
// altogether, so only the caller's own process qualifies (a thread may
// always "attach" to its own process's files): other processes get
// EPERM, as an unprivileged tracer would.
func sysPidfdGetfd(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	targetFD, flags := int32(a.Int(1)), a.Uint(2)
	if flags != 0 {
		return 0, unix.EINVAL
	}
	tg, err := pidFDOf(t, int32(a.Int(0)))
	if err != nil {
		return 0, err
	}
	if tg.Reaped() || tg.ThreadsExited() {
		return 0, unix.ESRCH
	}
	if tg != t.ThreadGroup() {
		return 0, unix.EPERM
	}
	f, err := t.FDTable().Get(targetFD)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	fd, err := t.FDTable().Install(f, 0, true, nofile(t))
	if err != nil {
		return 0, err
	}
	return uintptr(fd), nil
}

// membarrier commands.
const (
	membarrierQuery                        = 0
	membarrierGlobal                       = 1 << 0
	membarrierGlobalExpedited              = 1 << 1
	membarrierRegisterGlobalExpedited      = 1 << 2
	membarrierPrivateExpedited             = 1 << 3
	membarrierRegisterPrivateExpedited     = 1 << 4
	membarrierPrivateExpeditedSyncCore     = 1 << 5
	membarrierRegisterPrivateExpeditedSync = 1 << 6
	membarrierSupported                    = membarrierGlobal | membarrierGlobalExpedited | membarrierRegisterGlobalExpedited | membarrierPrivateExpedited | membarrierRegisterPrivateExpedited | membarrierPrivateExpeditedSyncCore | membarrierRegisterPrivateExpeditedSync
	membarrierRegisteredPrivate            = 1
	membarrierRegisteredPrivateSyncCore    = 2
)

// membarrierRegs records the private-expedited registrations of each
// address space (Linux keeps them in the mm), without keeping the
// address space alive.
type membarrierRegs struct {
	mu  sync.Mutex
	reg map[weak.Pointer[mm.MemoryManager]]uint32
}

type membarrierKey struct{}

func membarrierState(t *kernel.Task) *membarrierRegs {
	return t.Kernel().Extension(membarrierKey{}, func() any {
		return &membarrierRegs{reg: map[weak.Pointer[mm.MemoryManager]]uint32{}}
	}).(*membarrierRegs)
}

// sysMembarrier implements membarrier(2) without RSEQ commands (rseq is
// not offered). The application's threads run on host threads, which
// the sentry does not stop, so every barrier is one host
// membarrier(MEMBARRIER_CMD_GLOBAL): it returns once every host thread
// that was running has passed through a full barrier, which covers the
// caller's threads and so satisfies the global and every private
// command (at the cost of a grace period's wait).
func sysMembarrier(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	cmd, flags := int(a.Int(0)), a.Uint(1)
	if flags != 0 {
		return 0, unix.EINVAL
	}
	st := membarrierState(t)
	key := weak.Make(t.MM())
	registered := func(bit uint32) bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.reg[key]&bit != 0
	}
	register := func(bit uint32) {
		st.mu.Lock()
		st.reg[key] |= bit
		st.mu.Unlock()
	}
	switch cmd {
	case membarrierQuery:
		return membarrierSupported, nil
	case membarrierRegisterGlobalExpedited:
		return 0, nil
	case membarrierRegisterPrivateExpedited:
		register(membarrierRegisteredPrivate)
		return 0, nil
	case membarrierRegisterPrivateExpeditedSync:
		register(membarrierRegisteredPrivateSyncCore)
		return 0, nil
	case membarrierPrivateExpedited:
		if !registered(membarrierRegisteredPrivate) {
			return 0, unix.EPERM
		}
	case membarrierPrivateExpeditedSyncCore:
		if !registered(membarrierRegisteredPrivateSyncCore) {
			return 0, unix.EPERM
		}
	case membarrierGlobal, membarrierGlobalExpedited:
	default:
		return 0, unix.EINVAL
	}
	// Allowed by the sentry's filter (the Go runtime's list).
	if _, _, e := unix.Syscall(unix.SYS_MEMBARRIER, membarrierGlobal, 0, 0); e != 0 {
		return 0, unix.EINVAL
	}
	return 0, nil
}

// pidfdWaitTarget returns the PID waitid(P_PIDFD) waits for and whether
// the pidfd is non-blocking.
func pidfdWaitTarget(t *kernel.Task, fd int32) (int32, bool, error) {
	f, err := t.FDTable().Get(fd)
	if err != nil {
		return 0, false, err
	}
	defer f.DecRef()
	p, ok := f.Impl().(*pidFD)
	if !ok {
		return 0, false, unix.EBADF
	}
	return p.tg.PID(), f.Flags()&unix.O_NONBLOCK != 0, nil
}
