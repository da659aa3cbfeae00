package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// NumSignals is the highest signal number (_NSIG): 1..64 are valid.
const NumSignals = 64

// SigSet is a set of signals, bit sig-1 for signal sig, as the kernel's
// 64-bit sigset_t.
type SigSet uint64

// SigSetSize is sizeof(sigset_t) as the rt_sig* calls check it.
const SigSetSize = 8

// unblockable are the signals no mask can block.
const unblockable = SigSet(1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1))

// SigBit returns the set holding only sig.
func SigBit(sig unix.Signal) SigSet { return 1 << (uint(sig) - 1) }

// ValidSignal reports whether sig is 1..64.
func ValidSignal(sig unix.Signal) bool { return sig >= 1 && sig <= NumSignals }

// Sigaction flags the sentry interprets (the rest are stored as given).
const (
	SA_NOCLDSTOP = 0x1
	SA_NOCLDWAIT = 0x2
	SA_SIGINFO   = 0x4
	SA_ONSTACK   = 0x08000000
	SA_RESTART   = 0x10000000
	SA_NODEFER   = 0x40000000
	SA_RESETHAND = 0x80000000
	SA_RESTORER  = 0x04000000
)

// Handler values with a special meaning.
const (
	SIG_DFL = 0
	SIG_IGN = 1
)

// SigAction is the kernel's struct sigaction (k_sigaction), the same
// layout on amd64 and arm64: handler, flags, restorer, mask.
type SigAction struct {
	Handler  uint64
	Flags    uint64
	Restorer uint64
	Mask     SigSet
}

// SigActionSize is the size of SigAction in application memory.
const SigActionSize = 32

// defaultAction is what SIG_DFL does with a signal.
type defaultAction int

const (
	actTerminate defaultAction = iota
	actCore                    // terminate "with core dump": moat writes no core
	actIgnore
	actStop // a group stop (job_control.go)
	actContinue
)

// defaultActionOf returns the SIG_DFL action of sig (signal(7)).
func defaultActionOf(sig unix.Signal) defaultAction {
	switch sig {
	case unix.SIGQUIT, unix.SIGILL, unix.SIGTRAP, unix.SIGABRT, unix.SIGBUS,
		unix.SIGFPE, unix.SIGSEGV, unix.SIGXCPU, unix.SIGXFSZ, unix.SIGSYS:
		return actCore
	case unix.SIGCHLD, unix.SIGURG, unix.SIGWINCH:
		return actIgnore
	case unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU:
		return actStop
	case unix.SIGCONT:
		return actContinue
	}
	return actTerminate
}

// ignored reports whether a signal with action a is discarded rather
// than delivered: SIG_IGN, or SIG_DFL of a signal whose default is to be
// ignored. SIGKILL and SIGSTOP are never ignored.
func (a *SigAction) ignored(sig unix.Signal) bool {
	if sig == unix.SIGKILL || sig == unix.SIGSTOP {
		return false
	}
	switch a.Handler {
	case SIG_IGN:
		return true
	case SIG_DFL:
		d := defaultActionOf(sig)
		return d == actIgnore || d == actContinue
	}
	return false
}

// SetSigAction implements the store of rt_sigaction(2) for the thread
// group: it returns the old action and installs act if it is not nil.
// EINVAL for a signal out of range, or a new action for SIGKILL/SIGSTOP.
// Setting an action that ignores the signal discards its pending instances
// (POSIX requires it).
func (tg *ThreadGroup) SetSigAction(sig unix.Signal, act *SigAction) (SigAction, error) {
	if !ValidSignal(sig) {
		return SigAction{}, unix.EINVAL
	}
	if act != nil && (sig == unix.SIGKILL || sig == unix.SIGSTOP) {
		return SigAction{}, unix.EINVAL
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	old := tg.actions[sig-1]
	if act == nil {
		return old, nil
	}
	a := *act
	a.Mask &^= unblockable
	tg.actions[sig-1] = a
	if a.ignored(sig) {
		tg.pending &^= SigBit(sig)
		for _, t := range tg.tasks {
			t.sigMu.Lock()
			t.pending &^= SigBit(sig)
			t.sigMu.Unlock()
		}
	}
	return old, nil
}

// SigAction returns the action for sig (which must be valid).
func (tg *ThreadGroup) SigAction(sig unix.Signal) SigAction {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.actions[sig-1]
}

// Sigprocmask "how" values.
const (
	SIG_BLOCK   = 0
	SIG_UNBLOCK = 1
	SIG_SETMASK = 2
)

// SetSignalMask implements rt_sigprocmask(2) on the task: it returns the
// old mask, and with set not nil changes the mask per how (EINVAL for
// another how). SIGKILL and SIGSTOP are never blocked.
func (t *Task) SetSignalMask(how int, set *SigSet) (SigSet, error) {
	t.sigMu.Lock()
	defer t.sigMu.Unlock()
	old := t.mask
	if set == nil {
		return old, nil
	}
	switch how {
	case SIG_BLOCK:
		t.mask |= *set
	case SIG_UNBLOCK:
		t.mask &^= *set
	case SIG_SETMASK:
		t.mask = *set
	default:
		return old, unix.EINVAL
	}
	t.mask &^= unblockable
	return old, nil
}

// SignalMask returns the task's blocked set.
func (t *Task) SignalMask() SigSet {
	t.sigMu.Lock()
	defer t.sigMu.Unlock()
	return t.mask
}

// si_code values the sentry generates (asm-generic/siginfo.h).
const (
	SI_USER    = 0
	SI_KERNEL  = 0x80
	SI_TKILL   = -6
	CLD_EXITED = 1
	CLD_KILLED = 2
	CLD_DUMPED = 3
)

// SigInfoSize is sizeof(siginfo_t).
const SigInfoSize = 128

// SigInfo is the part of a siginfo_t the sentry fills in for a pending
// signal. Standard signals keep one instance each; real-time signals
// are not queued more than once either (a difference from Linux).
type SigInfo struct {
	Signo, Code int32
	// PID and UID are the sender's (kill, tkill) or the child's (SIGCHLD).
	PID int32
	UID uint32
	// Status is SIGCHLD's si_status: the exit code or the signal.
	Status int32
	// Addr is si_addr for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGTRAP,
	// and si_call_addr for a seccomp SIGSYS.
	Addr uint64
	// Errno, Syscall and Arch are a seccomp SIGSYS's si_errno, si_syscall
	// and si_arch (task_seccomp.go).
	Errno, Syscall int32
	Arch           uint32
	// timer is the POSIX timer whose signal this is (si_code SI_TIMER):
	// Encode asks it for si_tid, si_overrun and si_value.
	timer *posixTimer
	// raw is the siginfo an application gave rt_sigqueueinfo or
	// rt_tgsigqueueinfo, delivered as it is but for si_signo.
	raw *[SigInfoSize]byte
	// outside marks a signal sent from outside the sandbox (the
	// runtime's kill, from the parent PID namespace): the container's
	// init cannot ignore SIGKILL and SIGSTOP from there.
	outside bool
	// forced marks a signal the thread's own instruction raised (a
	// fault, forceSignal): like Linux's force_sig, it is delivered even
	// to the sandbox's init, which ignores other default-action signals.
	forced bool
}

// outsideSigInfo is the siginfo of a signal the runtime sends (kill(2)
// from the host): SI_USER from a sender the sandbox cannot see, so its
// PID reads 0, and root's UID.
func outsideSigInfo(sig unix.Signal) SigInfo {
	return SigInfo{Signo: int32(sig), Code: SI_USER, outside: true}
}

// userSigInfo is the siginfo of a signal sent by kill or tkill from
// sender (nil: the sandbox).
func userSigInfo(sig unix.Signal, code int32, sender *Task) SigInfo {
	info := SigInfo{Signo: int32(sig), Code: code}
	if sender == nil {
		info.Code = SI_KERNEL
		return info
	}
	info.PID = sender.tg.pid
	info.UID = sender.Credentials().RealUID
	return info
}

// Encode writes info in the siginfo_t layout of 64-bit Linux into b
// (SigInfoSize bytes), which it clears first.
func (info *SigInfo) Encode(b []byte) {
	clear(b[:SigInfoSize])
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(info.Signo))
	le.PutUint32(b[8:], uint32(info.Code))
	if info.timer != nil {
		info.timer.dequeued(b)
		return
	}
	if info.raw != nil {
		copy(b[4:SigInfoSize], info.raw[4:])
		return
	}
	if unix.Signal(info.Signo) == unix.SIGSYS && info.Code == SYS_SECCOMP {
		le.PutUint32(b[4:], uint32(info.Errno))
		le.PutUint64(b[16:], info.Addr)
		le.PutUint32(b[24:], uint32(info.Syscall))
		le.PutUint32(b[28:], info.Arch)
		return
	}
	switch unix.Signal(info.Signo) {
	case unix.SIGSEGV, unix.SIGBUS, unix.SIGILL, unix.SIGFPE, unix.SIGTRAP:
		if info.Code > 0 {
			le.PutUint64(b[16:], info.Addr)
			return
		}
	}
	le.PutUint32(b[16:], uint32(info.PID))
	le.PutUint32(b[20:], info.UID)
	if unix.Signal(info.Signo) == unix.SIGCHLD {
		le.PutUint32(b[24:], uint32(info.Status))
	}
}
