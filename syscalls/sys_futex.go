package syscalls

import (
	"time"

	"moat/platform/arch"
	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

var futexSyscalls = []entry{
	partial("futex", sysFutex, "ptr,futexop,int,ptr,ptr,int",
		"WAIT, WAKE, WAIT_BITSET, WAKE_BITSET, REQUEUE, CMP_REQUEUE; shared futexes match within one address space only; WAKE_OP and PI operations ENOSYS"),
}

// Futex operations and flags (linux/futex.h).
const (
	futexWait          = 0
	futexWake          = 1
	futexRequeue       = 3
	futexCmpRequeue    = 4
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexPrivateFlag   = 128
	futexClockRealtime = 256
	futexCmdMask       = ^(futexPrivateFlag | futexClockRealtime)
	futexBitsetAny     = 0xffffffff
)

// sysFutex implements futex(2) on the sandbox's futex table.
func sysFutex(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	addr, op, val, tsAddr := args[0], int(args.Int(1)), args.Uint(2), args[3]
	cmd := op & futexCmdMask
	if op&futexClockRealtime != 0 && cmd != futexWaitBitset {
		return 0, unix.ENOSYS
	}
	bitset := uint32(futexBitsetAny)
	if cmd == futexWaitBitset || cmd == futexWakeBitset {
		bitset = args.Uint(5)
		if bitset == 0 {
			return 0, unix.EINVAL
		}
	}
	switch cmd {
	case futexWait, futexWaitBitset, futexWake, futexWakeBitset, futexRequeue, futexCmpRequeue:
	default:
		return 0, unix.ENOSYS
	}
	if addr&3 != 0 {
		return 0, unix.EINVAL
	}
	switch cmd {
	case futexWake, futexWakeBitset:
		return uintptr(t.FutexWake(addr, int(min(val, 1<<30)), bitset)), nil
	case futexRequeue, futexCmpRequeue:
		addr2 := args[4]
		if addr2&3 != 0 {
			return 0, unix.EINVAL
		}
		// The timeout slot carries the requeue count.
		nWake, nRequeue := int32(val), int32(args[3])
		if nWake < 0 || nRequeue < 0 {
			return 0, unix.EINVAL
		}
		n, err := t.FutexRequeue(addr, addr2, int(nWake), int(nRequeue), cmd == futexCmpRequeue, args.Uint(5))
		return uintptr(n), err
	}
	var deadline time.Time
	if tsAddr != 0 {
		ts, err := copyInValidTimespec(t, tsAddr)
		if err != nil {
			return 0, err
		}
		d := ts.duration()
		if cmd == futexWait {
			// FUTEX_WAIT's timeout is relative.
			deadline = time.Now().Add(d)
		} else {
			// FUTEX_WAIT_BITSET's is absolute on its clock.
			deadline = absDeadline(op&futexClockRealtime != 0, d)
		}
	}
	err := t.FutexWait(addr, val, bitset, deadline)
	if err == unix.EINTR && tsAddr == 0 {
		// An untimed wait restarts after a handler with SA_RESTART.
		return 0, kernel.ERESTARTSYS
	}
	return 0, err
}
