package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

var signalSyscalls = []entry{
	supported("rt_sigaction", sysRtSigaction, "signal,ptr,ptr,size"),
	supported("rt_sigreturn", sysRtSigreturn, ""),
	supported("rt_sigsuspend", sysRtSigsuspend, "ptr,size"),
	supported("rt_sigpending", sysRtSigpending, "ptr,size"),
	supported("pause", sysPause, ""),
	supported("rt_sigprocmask", sysRtSigprocmask, "sighow,ptr,ptr,size"),
	supported("sigaltstack", sysSigaltstack, "ptr,ptr"),
	supported("kill", sysKill, "int,signal"),
	supported("tgkill", sysTgkill, "int,int,signal"),
	supported("tkill", sysTkill, "int,signal"),
}

func sysRtSigaction(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	sig, actAddr, oldAddr, size := unix.Signal(args.Int(0)), args[1], args[2], args[3]
	if size != kernel.SigSetSize {
		return 0, unix.EINVAL
	}
	if !kernel.ValidSignal(sig) {
		return 0, unix.EINVAL
	}
	var act *kernel.SigAction
	if actAddr != 0 {
		b := t.Scratch()[:kernel.SigActionSize]
		if err := copyInAll(t, actAddr, b); err != nil {
			return 0, err
		}
		act = &kernel.SigAction{
			Handler:  le.Uint64(b),
			Flags:    le.Uint64(b[8:]),
			Restorer: le.Uint64(b[16:]),
			Mask:     kernel.SigSet(le.Uint64(b[24:])),
		}
	}
	old, err := t.ThreadGroup().SetSigAction(sig, act)
	if err != nil {
		return 0, err
	}
	if oldAddr == 0 {
		return 0, nil
	}
	b := t.Scratch()[:kernel.SigActionSize]
	le.PutUint64(b, old.Handler)
	le.PutUint64(b[8:], old.Flags)
	le.PutUint64(b[16:], old.Restorer)
	le.PutUint64(b[24:], uint64(old.Mask))
	return 0, copyOutAll(t, oldAddr, b)
}

func sysRtSigprocmask(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	how, setAddr, oldAddr, size := int(args.Int(0)), args[1], args[2], args[3]
	if size != kernel.SigSetSize {
		return 0, unix.EINVAL
	}
	var set *kernel.SigSet
	if setAddr != 0 {
		v, err := copyInU64(t, setAddr)
		if err != nil {
			return 0, err
		}
		s := kernel.SigSet(v)
		set = &s
		// The kernel checks how only when a set is given.
		if how != kernel.SIG_BLOCK && how != kernel.SIG_UNBLOCK && how != kernel.SIG_SETMASK {
			return 0, unix.EINVAL
		}
	}
	old, err := t.SetSignalMask(how, set)
	if err != nil {
		return 0, err
	}
	if oldAddr != 0 {
		return 0, copyOutU64(t, oldAddr, uint64(old))
	}
	return 0, nil
}

// sigaltstack flags and the smallest stack the kernel accepts.
const (
	ssOnstack    = 1
	ssDisable    = 2
	ssAutodisarm = 1 << 31
)

// sysSigaltstack implements sigaltstack(2) (stack_t: sp, flags, size).
func sysSigaltstack(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	ssAddr, oldAddr := args[0], args[1]
	cur := t.AltStack()
	onStack := t.OnAltStack()
	if oldAddr != 0 {
		b := t.Scratch()[:24]
		clear(b)
		flags := cur.Flags
		if cur.Size == 0 {
			flags = ssDisable
		} else if onStack {
			flags |= ssOnstack
		}
		le.PutUint64(b, cur.Addr)
		le.PutUint32(b[8:], uint32(flags))
		le.PutUint64(b[16:], cur.Size)
		if err := copyOutAll(t, oldAddr, b); err != nil {
			return 0, err
		}
	}
	if ssAddr == 0 {
		return 0, nil
	}
	b := t.Scratch()[:24]
	if err := copyInAll(t, ssAddr, b); err != nil {
		return 0, err
	}
	ns := kernel.SignalStack{Addr: le.Uint64(b), Flags: int32(le.Uint32(b[8:])), Size: le.Uint64(b[16:])}
	if onStack {
		return 0, unix.EPERM
	}
	mode := uint32(ns.Flags) &^ ssAutodisarm
	if mode != 0 && mode != ssDisable && mode != ssOnstack {
		return 0, unix.EINVAL
	}
	if mode == ssDisable {
		t.SetAltStack(kernel.SignalStack{})
		return 0, nil
	}
	if ns.Size < minSigStkSz {
		return 0, unix.ENOMEM
	}
	ns.Flags &^= ssOnstack
	t.SetAltStack(ns)
	return 0, nil
}

// signalOK checks a signal number from kill/tkill/tgkill (0 is allowed:
// it checks the target exists).
func signalOK(sig unix.Signal) bool { return sig == 0 || kernel.ValidSignal(sig) }

// sysKill implements kill(2) within the sandbox: a process, the
// caller's process group (0), every process but init and the caller (-1),
// or process group -pid.
func sysKill(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	pid, sig := args.Int(0), unix.Signal(args.Int(1))
	if !signalOK(sig) {
		return 0, unix.EINVAL
	}
	k := t.Kernel()
	var targets []*kernel.ThreadGroup
	switch {
	case pid > 0:
		tg := k.ThreadGroupByPID(pid)
		if tg == nil {
			return 0, unix.ESRCH
		}
		targets = append(targets, tg)
	case pid == -1:
		targets = k.AllProcesses(t.ThreadGroup())
	case pid == -1<<31:
		// -INT_MIN names no group.
		return 0, unix.ESRCH
	default:
		pg := -pid
		if pid == 0 {
			pg = t.ThreadGroup().PGID()
		}
		targets = k.ProcessGroup(pg)
	}
	if len(targets) == 0 {
		return 0, unix.ESRCH
	}
	// Targets the caller may not signal are skipped (EPERM). Like
	// Linux, kill(-1) then still succeeds, while a single process or a
	// group of which none could be signalled fails with EPERM.
	sent := false
	for _, tg := range targets {
		if !tg.MaySignal(t, sig) {
			continue
		}
		tg.SendSignal(sig, t)
		sent = true
	}
	if !sent && pid != -1 {
		return 0, unix.EPERM
	}
	return 0, nil
}

// sysRtSigreturn implements rt_sigreturn(2).
func sysRtSigreturn(t *kernel.Task, _ arch.SyscallArguments) (uintptr, error) {
	return 0, t.SignalReturn()
}

func sysTgkill(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	tgid, tid, sig := args.Int(0), args.Int(1), unix.Signal(args.Int(2))
	if tgid <= 0 || tid <= 0 || !signalOK(sig) {
		return 0, unix.EINVAL
	}
	target := t.Kernel().TaskByTID(tid)
	if target == nil || target.PID() != tgid {
		return 0, unix.ESRCH
	}
	if !target.MaySignal(t, sig) {
		return 0, unix.EPERM
	}
	target.SendSignal(sig, t)
	return 0, nil
}

func sysTkill(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	tid, sig := args.Int(0), unix.Signal(args.Int(1))
	if tid <= 0 || !signalOK(sig) {
		return 0, unix.EINVAL
	}
	target := t.Kernel().TaskByTID(tid)
	if target == nil {
		return 0, unix.ESRCH
	}
	if !target.MaySignal(t, sig) {
		return 0, unix.EPERM
	}
	target.SendSignal(sig, t)
	return 0, nil
}

func sysRtSigsuspend(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	if a[1] != kernel.SigSetSize {
		return 0, unix.EINVAL
	}
	v, err := copyInU64(t, a[0])
	if err != nil {
		return 0, err
	}
	return 0, t.SigSuspend(kernel.SigSet(v))
}

func sysRtSigpending(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	if a[1] > kernel.SigSetSize {
		return 0, unix.EINVAL
	}
	var b [8]byte
	le.PutUint64(b[:], uint64(t.PendingSignals()))
	return 0, copyOutAll(t, a[0], b[:a[1]])
}

func sysPause(t *kernel.Task, _ arch.SyscallArguments) (uintptr, error) {
	return 0, t.Pause()
}
