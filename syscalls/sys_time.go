package syscalls

import (
	"time"

	"moat/platform/arch"
	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

var timeSyscalls = []entry{
	partial("clock_gettime", sysClockGettime, "clockid,ptr", "CPU-time clocks: the application's host thread plus the sentry's work for it; CPUCLOCK_VIRT cannot tell the host kernel's time for the thread from user time"),
	supported("clock_getres", sysClockGetres, "clockid,ptr"),
	supported("gettimeofday", sysGettimeofday, "ptr,ptr"),
	supported("time", sysTime, "ptr"),
	supported("nanosleep", sysNanosleep, "timespec,ptr"),
	partial("clock_nanosleep", sysClockNanosleep, "clockid,int,timespec,ptr", "process CPU-time clocks are sampled every few ms while sleeping"),
	partial("getitimer", sysGetitimer, "int,ptr", itimerCPUNote),
	partial("setitimer", sysSetitimer, "int,ptr,ptr", itimerCPUNote),
	supported("alarm", sysAlarm, "uint"),
}

// clockOK reports whether id names a clock moat serves, CPU clocks
// aside (Task.CPUClock resolves those first). Other negative ids (clock
// fds) are refused.
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
	if c, ok, err := t.CPUClock(id); ok {
		if err != nil {
			return 0, err
		}
		d := c.Read()
		return 0, copyOutTimespec(t, args[1], timespec{int64(d / time.Second), int64(d % time.Second)})
	}
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
	if _, ok, err := t.CPUClock(id); ok {
		if err != nil {
			return 0, err
		}
		if args[1] == 0 {
			return 0, nil
		}
		// posix_cpu_clock_getres: 1ns for CPUCLOCK_SCHED clocks, one
		// jiffy (HZ=250) for PROF and VIRT.
		res := timespec{0, 1}
		if id < 0 && id&3 != 2 {
			res = timespec{0, 4000000}
		}
		return 0, copyOutTimespec(t, args[1], res)
	}
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
// it, stores the remaining time at remAddr (if not 0) and returns
// ERESTART_RESTARTBLOCK: EINTR if a handler runs, else restart_syscall
// sleeps for what is left (sleepRestart), as Linux's nanosleep does.
func sleep(t *kernel.Task, ts timespec, remAddr uintptr) error {
	d := time.Duration(ts.sec)*time.Second + time.Duration(ts.nsec)
	if ts.sec > int64(time.Duration(1<<62)/time.Second) {
		d = 1 << 62 // effectively forever, without overflow
	}
	return sleepTo(t, time.Now().Add(d), remAddr)
}

// sleepRestart is the restart block of an interrupted relative sleep.
type sleepRestart struct {
	deadline time.Time
	remAddr  uintptr
}

// Restart implements kernel.RestartBlock: sleep to the same deadline.
func (r *sleepRestart) Restart(t *kernel.Task) (uintptr, error) {
	return 0, sleepTo(t, r.deadline, r.remAddr)
}

// sleepTo is sleep with its deadline on the monotonic clock.
func sleepTo(t *kernel.Task, deadline time.Time, remAddr uintptr) error {
	err := t.BlockUntil(deadline)
	if err == unix.EINTR {
		t.SetRestartBlock(&sleepRestart{deadline, remAddr})
		err = kernel.ERESTART_RESTARTBLOCK
	}
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
	ts, err := copyInValidTimespec(t, args[0])
	if err != nil {
		return 0, err
	}
	return 0, sleep(t, ts, args[1])
}

// timerAbstime is clock_nanosleep's TIMER_ABSTIME flag.
const timerAbstime = 1

// cpuSleep is clock_nanosleep on a process's CPU clock (posix_cpu_nsleep;
// a thread's CPU clock is EINVAL): the sentry cannot be woken when a CPU
// clock reaches a value, so it samples the clock every few ms. An
// interrupted relative sleep stores the CPU time left at remAddr.
func cpuSleep(t *kernel.Task, c *kernel.CPUClock, id, flags int32, tsAddr, remAddr uintptr, err error) error {
	if err != nil {
		return err
	}
	if id < 0 && id&4 != 0 {
		return unix.EINVAL
	}
	ts, err := copyInValidTimespec(t, tsAddr)
	if err != nil {
		return err
	}
	target := ts.duration()
	if flags&timerAbstime == 0 {
		target = min(c.Read()+target, maxDuration)
	}
	for {
		cur := c.Read()
		if cur >= target {
			return nil
		}
		wait := min(max(target-cur, time.Millisecond), 10*time.Millisecond)
		if err := t.BlockFor(wait); err != nil {
			if remAddr != 0 && flags&timerAbstime == 0 {
				left := max(target-c.Read(), 0)
				if cerr := copyOutTimespec(t, remAddr, timespec{int64(left / time.Second), int64(left % time.Second)}); cerr != nil {
					return cerr
				}
			}
			return err
		}
	}
}

func sysClockNanosleep(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	id, flags := args.Int(0), args.Int(1)
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME, unix.CLOCK_TAI:
	case unix.CLOCK_THREAD_CPUTIME_ID:
		// Linux's clock_thread has no nsleep operation.
		return 0, unix.EOPNOTSUPP
	default:
		if c, ok, err := t.CPUClock(id); ok {
			return 0, cpuSleep(t, c, id, flags, args[2], args[3], err)
		}
		if !clockOK(id) {
			return 0, unix.EINVAL
		}
		return 0, unix.ENOTSUP
	}
	ts, err := copyInValidTimespec(t, args[2])
	if err != nil {
		return 0, err
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
	if err := t.BlockUntil(time.Now().Add(d)); err != nil {
		// Restarted with the same absolute time unless a handler runs.
		return 0, kernel.ERESTARTNOHAND
	}
	return 0, nil
}
