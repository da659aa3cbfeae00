package syscalls

import (
	"time"

	"moat/platform/arch"
	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

var timeSyscalls = []entry{
	partial("clock_gettime", sysClockGettime, "clockid,ptr", "CPU-time clocks count the sentry's time on the task's thread, not the application's"),
	supported("clock_getres", sysClockGetres, "clockid,ptr"),
	supported("gettimeofday", sysGettimeofday, "ptr,ptr"),
	supported("time", sysTime, "ptr"),
	supported("nanosleep", sysNanosleep, "timespec,ptr"),
	partial("clock_nanosleep", sysClockNanosleep, "clockid,int,timespec,ptr", "CPU-time clocks are refused with EINVAL"),
	partial("getitimer", sysGetitimer, "int,ptr", itimerCPUNote),
	partial("setitimer", sysSetitimer, "int,ptr,ptr", itimerCPUNote),
	supported("alarm", sysAlarm, "uint"),
}

// clockOK reports whether id names a clock moat serves. Negative ids
// (per-process and per-thread CPU clocks of other tasks, and clock fds)
// are refused.
func clockOK(id int32) bool {
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_PROCESS_CPUTIME_ID,
		unix.CLOCK_THREAD_CPUTIME_ID, unix.CLOCK_MONOTONIC_RAW, unix.CLOCK_REALTIME_COARSE,
		unix.CLOCK_MONOTONIC_COARSE, unix.CLOCK_BOOTTIME, unix.CLOCK_TAI:
		return true
	}
	return false
}

// now reads clock id from the host. The host's clocks are the sandbox's:
// the sentry reads them through the vDSO, without a host system call.
func now(id int32) (timespec, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(id, &ts); err != nil {
		return timespec{}, unix.EINVAL
	}
	return timespec{ts.Sec, ts.Nsec}, nil
}

func sysClockGettime(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	id := args.Int(0)
	if !clockOK(id) {
		return 0, unix.EINVAL
	}
	ts, err := now(id)
	if err != nil {
		return 0, err
	}
	return 0, copyOutTimespec(t, args[1], ts)
}

func sysClockGetres(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	id := args.Int(0)
	if !clockOK(id) {
		return 0, unix.EINVAL
	}
	if args[1] == 0 {
		return 0, nil
	}
	res := timespec{0, 1}
	if id == unix.CLOCK_REALTIME_COARSE || id == unix.CLOCK_MONOTONIC_COARSE {
		// One jiffy at HZ=250.
		res = timespec{0, 4000000}
	}
	return 0, copyOutTimespec(t, args[1], res)
}

// sysGettimeofday implements gettimeofday(2); the timezone, if asked
// for, is UTC.
func sysGettimeofday(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	if args[0] != 0 {
		ts, _ := now(unix.CLOCK_REALTIME)
		if err := copyOutTimespec(t, args[0], timespec{ts.sec, ts.nsec / 1000}); err != nil {
			return 0, err
		}
	}
	if args[1] != 0 {
		if err := copyOutU64(t, args[1], 0); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysTime(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	ts, _ := now(unix.CLOCK_REALTIME)
	if args[0] != 0 {
		if err := copyOutU64(t, args[0], uint64(ts.sec)); err != nil {
			return 0, err
		}
	}
	return uintptr(ts.sec), nil
}

// absDeadline turns an absolute time on CLOCK_REALTIME (realtime) or
// CLOCK_MONOTONIC into a deadline on Go's monotonic clock.
func absDeadline(realtime bool, abs time.Duration) time.Time {
	id := int32(unix.CLOCK_MONOTONIC)
	if realtime {
		id = unix.CLOCK_REALTIME
	}
	cur, _ := now(id)
	return time.Now().Add(abs - (time.Duration(cur.sec)*time.Second + time.Duration(cur.nsec)))
}

// sleep sleeps for the relative time ts and, when a signal interrupts
// it, stores the remaining time at remAddr (if not 0) and returns EINTR.
func sleep(t *kernel.Task, ts timespec, remAddr uintptr) error {
	d := time.Duration(ts.sec)*time.Second + time.Duration(ts.nsec)
	if ts.sec > int64(time.Duration(1<<62)/time.Second) {
		d = 1 << 62 // effectively forever, without overflow
	}
	deadline := time.Now().Add(d)
	err := t.BlockUntil(deadline)
	if err == nil {
		return nil
	}
	if remAddr != 0 {
		left := time.Until(deadline)
		if left < 0 {
			left = 0
		}
		if cerr := copyOutTimespec(t, remAddr, timespec{int64(left / time.Second), int64(left % time.Second)}); cerr != nil {
			return cerr
		}
	}
	return err
}

func sysNanosleep(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	ts, err := copyInTimespec(t, args[0])
	if err != nil {
		return 0, err
	}
	if !ts.valid() {
		return 0, unix.EINVAL
	}
	return 0, sleep(t, ts, args[1])
}

// timerAbstime is clock_nanosleep's TIMER_ABSTIME flag.
const timerAbstime = 1

func sysClockNanosleep(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	id, flags := args.Int(0), args.Int(1)
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME, unix.CLOCK_TAI:
	case unix.CLOCK_THREAD_CPUTIME_ID:
		return 0, unix.EINVAL
	case unix.CLOCK_PROCESS_CPUTIME_ID:
		// The application's CPU time is not measured: refuse rather
		// than sleep on the wrong clock.
		return 0, unix.EINVAL
	default:
		if !clockOK(id) {
			return 0, unix.EINVAL
		}
		return 0, unix.ENOTSUP
	}
	ts, err := copyInTimespec(t, args[2])
	if err != nil {
		return 0, err
	}
	if !ts.valid() {
		return 0, unix.EINVAL
	}
	if flags&timerAbstime == 0 {
		return 0, sleep(t, ts, args[3])
	}
	// Absolute: the deadline is a reading of clock id. BOOTTIME and TAI
	// are converted through their current offset from MONOTONIC.
	cur, _ := now(id)
	d := maxDuration // a date too far to reach: sleep for ever
	if ts.sec-cur.sec < int64(maxDuration/time.Second)-1 {
		d = time.Duration(ts.sec-cur.sec)*time.Second + time.Duration(ts.nsec-cur.nsec)
	}
	if d <= 0 {
		return 0, nil
	}
	return 0, t.BlockUntil(time.Now().Add(d))
}
