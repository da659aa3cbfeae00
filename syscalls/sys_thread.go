package syscalls

import (
	"runtime"
	"time"

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
	partial("futex", sysFutex, "ptr,futexop,int,ptr,ptr,int",
		"FUTEX_WAIT, FUTEX_WAIT_BITSET and FUTEX_WAKE for single-threaded processes; other operations ENOSYS"),
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

// sysPrctl implements prctl(2)'s thread name options.
func sysPrctl(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
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

// Futex operations and flags (linux/futex.h).
const (
	futexWait          = 0
	futexWake          = 1
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexPrivateFlag   = 128
	futexClockRealtime = 256
	futexCmdMask       = ^(futexPrivateFlag | futexClockRealtime)
)

// sysFutex implements the futex operations a single-threaded process
// needs. With one thread nobody can wake a waiter, so a wait that finds
// the expected value sleeps until its timeout or a signal.
func sysFutex(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	addr, op, val, tsAddr := args[0], int(args.Int(1)), args.Uint(2), args[3]
	cmd := op & futexCmdMask
	if op&futexClockRealtime != 0 && cmd != futexWaitBitset {
		return 0, unix.ENOSYS
	}
	switch cmd {
	case futexWake, futexWakeBitset:
		if cmd == futexWakeBitset && args.Uint(5) == 0 {
			return 0, unix.EINVAL
		}
		if addr&3 != 0 {
			return 0, unix.EINVAL
		}
		return 0, nil
	case futexWait, futexWaitBitset:
	default:
		return 0, unix.ENOSYS
	}
	if cmd == futexWaitBitset && args.Uint(5) == 0 {
		return 0, unix.EINVAL
	}
	if addr&3 != 0 {
		return 0, unix.EINVAL
	}
	var deadline time.Time
	if tsAddr != 0 {
		ts, err := copyInTimespec(t, tsAddr)
		if err != nil {
			return 0, err
		}
		if !ts.valid() {
			return 0, unix.EINVAL
		}
		d := time.Duration(ts.sec)*time.Second + time.Duration(ts.nsec)
		if cmd == futexWait {
			// FUTEX_WAIT's timeout is relative.
			deadline = time.Now().Add(d)
		} else {
			// FUTEX_WAIT_BITSET's is absolute on its clock.
			deadline = absDeadline(op&futexClockRealtime != 0, d)
		}
	}
	cur, err := copyInU32(t, addr)
	if err != nil {
		return 0, err
	}
	if cur != val {
		return 0, unix.EAGAIN
	}
	if err := t.BlockUntil(deadline); err != nil {
		return 0, err
	}
	if tsAddr == 0 {
		// Unreachable in practice: an untimed wait ends only by signal.
		return 0, unix.EINTR
	}
	return 0, unix.ETIMEDOUT
}
