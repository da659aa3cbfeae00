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
	partial("prctl", sysPrctl, "int,hex,hex,hex,hex", "PR_SET_NAME and PR_GET_NAME only; other options EINVAL"),
	partial("arch_prctl", sysArchPrctl, "hex,hex", "ARCH_SET_FS and ARCH_GET_FS only; other codes EINVAL"),
	supported("sched_yield", sysSchedYield, ""),
	partial("sched_getaffinity", sysSchedGetaffinity, "int,size,ptr", "every host CPU is in the mask"),
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

// sysPrctl implements prctl(2)'s thread name and capability options.
func sysPrctl(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	if ret, ok, err := prctlCaps(t, args); ok {
		return ret, err
	}
	switch args.Int(0) {
	case unix.PR_SET_NAME:
		b := t.Scratch()[:16]
		// The name may sit at the end of a mapping: read what can be
		// read, up to its NUL, as the kernel's strncpy_from_user does.
		n, err := t.CopyIn(args[1], b[:15])
		if n == 0 && err != nil {
			return 0, unix.EFAULT
		}
		end := n
		for i := 0; i < n; i++ {
			if b[i] == 0 {
				end = i
				break
			}
		}
		if end == n && n < 15 && err != nil {
			return 0, unix.EFAULT
		}
		t.SetComm(b[:end])
		return 0, nil
	case unix.PR_GET_NAME:
		b := t.Scratch()[:16]
		clear(b)
		copy(b[:15], t.Comm())
		return 0, copyOutAll(t, args[1], b)
	}
	return 0, unix.EINVAL
}

func sysSchedYield(*kernel.Task, arch.SyscallArguments) (uintptr, error) {
	runtime.Gosched()
	return 0, nil
}

// sysSchedGetaffinity implements sched_getaffinity(2): the mask has the
// first NumCPU bits set; it returns the size of the kernel's cpumask.
func sysSchedGetaffinity(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	pid, size, addr := args.Int(0), args[1], args[2]
	ncpu := t.Kernel().NumCPU()
	// cpumask_size(): whole longs.
	maskSize := uintptr((ncpu + 63) / 64 * 8)
	if size*8 < uintptr(ncpu) || size&7 != 0 {
		return 0, unix.EINVAL
	}
	if pid != 0 && t.Kernel().TaskByTID(pid) == nil {
		return 0, unix.ESRCH
	}
	if maskSize > uintptr(len(t.Scratch())) {
		return 0, unix.EINVAL
	}
	b := t.Scratch()[:maskSize]
	clear(b)
	for i := 0; i < ncpu; i++ {
		b[i/8] |= 1 << (i % 8)
	}
	if err := copyOutAll(t, addr, b); err != nil {
		return 0, err
	}
	return maskSize, nil
}
