package syscalls

import (
	"time"

	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/kernel/signalfd"

	"golang.org/x/sys/unix"
)

// Notes of the partial entries in timerSyscalls.
const (
	signalfdNote     = "poll/epoll readiness is the creating thread's (Linux: the polling thread's)"
	sigqueueinfoNote = "real-time signals are not queued more than once; an unknown si_code with non-zero bytes past kernel_siginfo is not refused with E2BIG"
)

// sysSignalfd implements signalfd(2): signalfd4 without flags.
func sysSignalfd(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return doSignalfd(t, a.Int(0), a[1], a[2], 0)
}

// sysSignalfd4 implements signalfd4(2).
func sysSignalfd4(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return doSignalfd(t, a.Int(0), a[1], a[2], int(a.Int(3)))
}

// doSignalfd makes a signalfd (fd -1) or changes the mask of signalfd fd:
// EINVAL for unknown flags, a size other than sizeof(sigset_t), or an fd
// that is no signalfd; EBADF for a closed fd.
func doSignalfd(t *kernel.Task, fd int32, maskAddr, size uintptr, flags int) (uintptr, error) {
	if flags&^(signalfd.CloExec|signalfd.NonBlock) != 0 || size != kernel.SigSetSize {
		return 0, unix.EINVAL
	}
	v, err := copyInU64(t, maskAddr)
	if err != nil {
		return 0, err
	}
	mask := kernel.SigSet(v)
	if fd != -1 {
		f, err := t.FDTable().Get(fd)
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		s, ok := f.Impl().(*signalfd.SignalFD)
		if !ok {
			return 0, unix.EINVAL
		}
		s.SetMask(mask)
		return uintptr(fd), nil
	}
	f, err := signalfd.New(t, mask, flags)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	nfd, err := t.FDTable().Install(f, 0, flags&signalfd.CloExec != 0, nofile(t))
	if err != nil {
		return 0, err
	}
	return uintptr(nfd), nil
}

// sysRtSigtimedwait implements rt_sigtimedwait(2): the signal number,
// with its siginfo at uinfo; EAGAIN at the timeout, EINTR when another
// signal comes first.
func sysRtSigtimedwait(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	setAddr, infoAddr, tsAddr, size := a[0], a[1], a[2], a[3]
	if size != kernel.SigSetSize {
		return 0, unix.EINVAL
	}
	v, err := copyInU64(t, setAddr)
	if err != nil {
		return 0, err
	}
	var deadline time.Time
	if tsAddr != 0 {
		ts, err := copyInValidTimespec(t, tsAddr)
		if err != nil {
			return 0, err
		}
		d := ts.duration()
		if d == 0 {
			// A zero timeout polls: any time already passed will do.
			deadline = time.Unix(0, 1)
		} else if d < maxDuration/2 {
			deadline = time.Now().Add(d)
		}
	}
	info, err := t.SigTimedWait(kernel.SigSet(v), deadline)
	if err != nil {
		return 0, err
	}
	if infoAddr != 0 {
		var b [kernel.SigInfoSize]byte
		info.Encode(b[:])
		if err := copyOutAll(t, infoAddr, b[:]); err != nil {
			return 0, err
		}
	}
	return uintptr(info.Signo), nil
}

// kernelSigInfoSize is sizeof(kernel_siginfo_t) on 64-bit Linux: what
// rt_sigqueueinfo takes from the application's siginfo_t; the rest of a
// delivered siginfo_t reads zero.
const kernelSigInfoSize = 48

// copyInQueuedSigInfo reads the siginfo_t of rt_(tg)sigqueueinfo.
func copyInQueuedSigInfo(t *kernel.Task, addr uintptr) (*[kernel.SigInfoSize]byte, int32, error) {
	var raw [kernel.SigInfoSize]byte
	if err := copyInAll(t, addr, raw[:]); err != nil {
		return nil, 0, err
	}
	clear(raw[kernelSigInfoSize:])
	return &raw, int32(le.Uint32(raw[8:])), nil
}

// forgedCode reports whether an application may not send si_code to
// another process: Linux lets only the kernel use SI_USER and positive
// codes, and tkill SI_TKILL.
func forgedCode(code int32) bool { return code >= 0 || code == kernel.SI_TKILL }

// sysRtSigqueueinfo implements rt_sigqueueinfo(2): a signal with the
// caller's siginfo (sigqueue(3)) to process pid.
func sysRtSigqueueinfo(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	pid, sig := a.Int(0), unix.Signal(a.Int(1))
	raw, code, err := copyInQueuedSigInfo(t, a[2])
	if err != nil {
		return 0, err
	}
	if forgedCode(code) && pid != t.TID() {
		return 0, unix.EPERM
	}
	var tg *kernel.ThreadGroup
	if pid > 0 {
		tg = t.Kernel().ThreadGroupByPID(pid)
	}
	if tg == nil {
		return 0, unix.ESRCH
	}
	if !signalOK(sig) {
		return 0, unix.EINVAL
	}
	if !tg.MaySignal(t, sig) {
		return 0, unix.EPERM
	}
	if sig != 0 {
		tg.QueueSignalInfo(sig, raw)
	}
	return 0, nil
}

// sysRtTgsigqueueinfo implements rt_tgsigqueueinfo(2): as
// rt_sigqueueinfo, to thread tid of process tgid.
func sysRtTgsigqueueinfo(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	tgid, tid, sig := a.Int(0), a.Int(1), unix.Signal(a.Int(2))
	raw, code, err := copyInQueuedSigInfo(t, a[3])
	if err != nil {
		return 0, err
	}
	if tgid <= 0 || tid <= 0 {
		return 0, unix.EINVAL
	}
	if forgedCode(code) && tid != t.TID() {
		return 0, unix.EPERM
	}
	target := t.Kernel().TaskByTID(tid)
	if target == nil || target.PID() != tgid {
		return 0, unix.ESRCH
	}
	if !signalOK(sig) {
		return 0, unix.EINVAL
	}
	if !target.MaySignal(t, sig) {
		return 0, unix.EPERM
	}
	if sig != 0 {
		target.QueueSignalInfo(sig, raw)
	}
	return 0, nil
}

// sysRestartSyscall implements restart_syscall(2): it resumes a call
// that a signal interrupted (the kernel rewinds the thread to it), or
// fails with EINTR when called directly.
func sysRestartSyscall(t *kernel.Task, _ arch.SyscallArguments) (uintptr, error) {
	return t.RestartSyscall()
}
