package syscalls

import (
	"time"

	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/kernel/timerfd"

	"golang.org/x/sys/unix"
)

// Handlers of timerSyscalls: POSIX timers, timerfd, times and getrusage.

// capWakeAlarm is CAP_WAKE_ALARM, needed for the *_ALARM clocks.
const capWakeAlarm = 35

// itimerspec is struct itimerspec: the interval, then the value.
type itimerspec struct{ interval, value timespec }

func copyInItimerspec(t *kernel.Task, addr uintptr) (itimerspec, error) {
	b := t.Scratch()[:32]
	if err := copyInAll(t, addr, b); err != nil {
		return itimerspec{}, err
	}
	return itimerspec{
		interval: timespec{int64(le.Uint64(b)), int64(le.Uint64(b[8:]))},
		value:    timespec{int64(le.Uint64(b[16:])), int64(le.Uint64(b[24:]))},
	}, nil
}

// copyOutItimerspec writes value and interval as a struct itimerspec.
func copyOutItimerspec(t *kernel.Task, addr uintptr, value, interval time.Duration) error {
	b := t.Scratch()[:32]
	le.PutUint64(b, uint64(interval/time.Second))
	le.PutUint64(b[8:], uint64(interval%time.Second))
	le.PutUint64(b[16:], uint64(value/time.Second))
	le.PutUint64(b[24:], uint64(value%time.Second))
	return copyOutAll(t, addr, b)
}

// timerClock resolves the clock of timer_create: a wall clock (cpu nil)
// or a CPU clock. EINVAL for an unknown clock, EOPNOTSUPP for one
// without timers (MONOTONIC_RAW, the COARSE clocks), EPERM for an alarm
// clock without CAP_WAKE_ALARM.
func timerClock(t *kernel.Task, id int32) (*kernel.CPUClock, error) {
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME, unix.CLOCK_TAI:
		return nil, nil
	case unix.CLOCK_REALTIME_ALARM, unix.CLOCK_BOOTTIME_ALARM:
		if !t.Credentials().HasCap(capWakeAlarm) {
			return nil, unix.EPERM
		}
		return nil, nil
	case unix.CLOCK_MONOTONIC_RAW, unix.CLOCK_REALTIME_COARSE, unix.CLOCK_MONOTONIC_COARSE:
		return nil, unix.EOPNOTSUPP
	}
	c, ok, err := t.CPUClock(id)
	if !ok {
		return nil, unix.EINVAL
	}
	return c, err
}

// sysTimerCreate implements timer_create(2).
func sysTimerCreate(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	cpu, err := timerClock(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	var ev *kernel.SigEvent
	if a[1] != 0 {
		b := t.Scratch()[:64]
		if err := copyInAll(t, a[1], b); err != nil {
			return 0, err
		}
		ev = &kernel.SigEvent{
			Value:  le.Uint64(b),
			Signo:  int32(le.Uint32(b[8:])),
			Notify: int32(le.Uint32(b[12:])),
			TID:    int32(le.Uint32(b[16:])),
		}
	}
	id, err := t.CreateTimer(a.Int(0), cpu, ev)
	if err != nil {
		return 0, err
	}
	if err := copyOutU32(t, a[2], uint32(id)); err != nil {
		_ = t.ThreadGroup().DeleteTimer(id)
		return 0, err
	}
	return 0, nil
}

// sysTimerSettime implements timer_settime(2).
func sysTimerSettime(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	id, flags := a.Int(0), a.Int(1)
	if a[2] == 0 {
		return 0, unix.EINVAL
	}
	nv, err := copyInItimerspec(t, a[2])
	if err != nil {
		return 0, err
	}
	if !nv.value.valid() || !nv.interval.valid() {
		return 0, unix.EINVAL
	}
	ov, oi, err := t.ThreadGroup().TimerSet(id, flags&timerAbstime != 0, nv.value.duration(), nv.interval.duration())
	if err != nil {
		return 0, err
	}
	if a[3] == 0 {
		return 0, nil
	}
	return 0, copyOutItimerspec(t, a[3], ov, oi)
}

// sysTimerGettime implements timer_gettime(2).
func sysTimerGettime(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	v, i, err := t.ThreadGroup().TimerGet(a.Int(0))
	if err != nil {
		return 0, err
	}
	return 0, copyOutItimerspec(t, a[1], v, i)
}

// sysTimerGetoverrun implements timer_getoverrun(2).
func sysTimerGetoverrun(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	n, err := t.ThreadGroup().TimerOverrun(a.Int(0))
	return uintptr(n), err
}

// sysTimerDelete implements timer_delete(2).
func sysTimerDelete(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return 0, t.ThreadGroup().DeleteTimer(a.Int(0))
}

// sysTimerfdCreate implements timerfd_create(2).
func sysTimerfdCreate(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	clock, flags := a.Int(0), int(a.Int(1))
	ok, alarm := timerfd.ClockOK(clock)
	if !ok || flags&^(timerfd.CloExec|timerfd.NonBlock) != 0 {
		return 0, unix.EINVAL
	}
	if alarm && !t.Credentials().HasCap(capWakeAlarm) {
		return 0, unix.EPERM
	}
	f, err := timerfd.New(clock, flags)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	fd, err := t.FDTable().Install(f, 0, flags&timerfd.CloExec != 0, nofile(t))
	if err != nil {
		return 0, err
	}
	return uintptr(fd), nil
}

// timerfdOf returns the timerfd at fd: EBADF for no file, EINVAL for a
// file of another kind. The caller drops the reference in release.
func timerfdOf(t *kernel.Task, fd int32) (tf *timerfd.TimerFD, release func(), err error) {
	f, err := t.FDTable().Get(fd)
	if err != nil {
		return nil, nil, err
	}
	tf = timerfd.Of(f)
	if tf == nil {
		f.DecRef()
		return nil, nil, unix.EINVAL
	}
	return tf, f.DecRef, nil
}

// sysTimerfdSettime implements timerfd_settime(2). TFD_TIMER_CANCEL_ON_SET
// is accepted; the sandbox cannot set the realtime clock, so the cancel
// can only come from the host's clock being set, which is not watched.
func sysTimerfdSettime(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	flags := a.Int(1)
	nv, err := copyInItimerspec(t, a[2])
	if err != nil {
		return 0, err
	}
	if flags&^(timerfd.TimerAbstime|timerfd.TimerCancelOnSet) != 0 || !nv.value.valid() || !nv.interval.valid() {
		return 0, unix.EINVAL
	}
	tf, release, err := timerfdOf(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer release()
	ov, oi := tf.Set(flags&timerfd.TimerAbstime != 0, nv.value.duration(), nv.interval.duration())
	if a[3] == 0 {
		return 0, nil
	}
	return 0, copyOutItimerspec(t, a[3], ov, oi)
}

// sysTimerfdGettime implements timerfd_gettime(2).
func sysTimerfdGettime(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	tf, release, err := timerfdOf(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer release()
	v, i := tf.Get()
	return 0, copyOutItimerspec(t, a[1], v, i)
}

// Clock ticks as times(2) counts them: USER_HZ, and the jiffies Linux
// starts from (INITIAL_JIFFIES, five minutes before the 32-bit wrap, at
// HZ=250, in USER_HZ units).
const (
	userHZ         = 100
	initialClockT  = (1<<32 - 300*250) * userHZ / 250
	rusageChildren = -1
	rusageSelf     = 0
	rusageThread   = 1
	nsPerClockTick = int64(time.Second) / userHZ
	rusageStimeOff = 16
)

// sysTimes implements times(2): the process's and its reaped children's
// CPU times in clock ticks, and the clock ticks since an arbitrary point
// (Linux's jiffies, converted).
func sysTimes(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	if a[0] != 0 {
		tg := t.ThreadGroup()
		u, s := tg.CPUTimes()
		cu, cs := tg.ChildCPUTimes()
		b := t.Scratch()[:32]
		for i, d := range []time.Duration{u, s, cu, cs} {
			le.PutUint64(b[8*i:], uint64(int64(d)/nsPerClockTick))
		}
		if err := copyOutAll(t, a[0], b); err != nil {
			return 0, err
		}
	}
	return uintptr(initialClockT + int64(t.Kernel().Uptime())/nsPerClockTick), nil
}

// sysGetrusage implements getrusage(2): user and system time for
// RUSAGE_SELF, RUSAGE_THREAD and RUSAGE_CHILDREN (see getrusageNote for
// the other fields).
func sysGetrusage(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	var u, s time.Duration
	switch a.Int(0) {
	case rusageSelf:
		u, s = t.ThreadGroup().CPUTimes()
	case rusageChildren:
		u, s = t.ThreadGroup().ChildCPUTimes()
	case rusageThread:
		u, s = t.CPUTimes()
	default:
		return 0, unix.EINVAL
	}
	b := t.Scratch()[:rusageSize]
	clear(b)
	tv := durationTimeval(u)
	le.PutUint64(b, uint64(tv.sec))
	le.PutUint64(b[8:], uint64(tv.nsec))
	tv = durationTimeval(s)
	le.PutUint64(b[rusageStimeOff:], uint64(tv.sec))
	le.PutUint64(b[rusageStimeOff+8:], uint64(tv.nsec))
	return 0, copyOutAll(t, a[1], b)
}

// getrusageNote explains getrusage's Partial mark.
const getrusageNote = "only ru_utime and ru_stime are counted (user time is the application's host thread, system time the sentry's work for it); ru_maxrss, faults, I/O and context switches read 0"
