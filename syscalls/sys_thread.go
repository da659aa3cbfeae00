package syscalls

import (
	"runtime"

	"moat/platform/arch"
	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

var threadSyscalls = []entry{
	supported("set_tid_address", sysSetTidAddress, "ptr"),
	supported("set_robust_list", sysSetRobustList, "ptr,size"),
	supported("get_robust_list", sysGetRobustList, "int,ptr,ptr"),
	refused("rseq", unix.ENOSYS, "restartable sequences are not supported; glibc falls back"),
	supported("exit", sysExit, "int").noReturn(),
	supported("exit_group", sysExitGroup, "int").noReturn(),
	partial("arch_prctl", sysArchPrctl, "hex,hex", "ARCH_SET_FS and ARCH_GET_FS only; other codes EINVAL"),
	supported("sched_yield", sysSchedYield, ""),
}

func sysSetTidAddress(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	t.SetClearChildTID(args[0])
	return uintptr(t.TID()), nil
}

// robustListHeadSize is sizeof(struct robust_list_head) on 64-bit Linux.
const robustListHeadSize = 24

func sysSetRobustList(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	if args[1] != robustListHeadSize {
		return 0, unix.EINVAL
	}
	t.SetRobustList(args[0], args[1])
	return 0, nil
}

func sysGetRobustList(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	target := t
	if tid := args.Int(0); tid != 0 {
		if target = t.Kernel().TaskByTID(tid); target == nil {
			return 0, unix.ESRCH
		}
	}
	head, _ := target.RobustList()
	if err := copyOutU64(t, args[1], uint64(head)); err != nil {
		return 0, err
	}
	return 0, copyOutU64(t, args[2], robustListHeadSize)
}

func sysExit(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	t.Exit(int(args.Int(0)))
	return 0, kernel.ErrNoReturn
}

func sysExitGroup(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	t.ExitGroup(int(args.Int(0)))
	return 0, kernel.ErrNoReturn
}

func sysSchedYield(*kernel.Task, arch.SyscallArguments) (uintptr, error) {
	runtime.Gosched()
	return 0, nil
}
