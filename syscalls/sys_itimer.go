package syscalls

import (
	"time"

	"moat/platform/arch"
	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

// itimerCPUNote explains the Partial mark of setitimer and getitimer.
const itimerCPUNote = "ITIMER_VIRTUAL and ITIMER_PROF follow CPU time sampled every few ms (user time is the application's host thread, system time the sentry's work for it)"

// itimerval is struct itimerval on 64-bit Linux: the interval, then the
// value, each a struct timeval (seconds, microseconds).
type itimerval struct{ interval, value timespec }

// valid reports whether both timevals are in range (timeval_valid):
// seconds not negative, microseconds in [0, 1e6).
func (v itimerval) valid() bool {
	ok := func(tv timespec) bool { return tv.sec >= 0 && tv.nsec >= 0 && tv.nsec < 1e6 }
	return ok(v.interval) && ok(v.value)
}

// timevalDuration returns a timeval as a duration, saturated like
// timespec.duration.
//
// Preconditions: tv is valid.
func timevalDuration(tv timespec) time.Duration {
	return timespec{tv.sec, tv.nsec * 1000}.duration()
}

// durationTimeval returns d as a timeval, truncated to the microsecond
// as Linux's getitimer does.
func durationTimeval(d time.Duration) timespec {
	return timespec{int64(d / time.Second), int64(d%time.Second) / 1000}
}

func copyInItimerval(t *kernel.Task, addr uintptr) (itimerval, error) {
	b := t.Scratch()[:32]
	if err := copyInAll(t, addr, b); err != nil {
		return itimerval{}, err
	}
	return itimerval{
		interval: timespec{int64(le.Uint64(b)), int64(le.Uint64(b[8:]))},
		value:    timespec{int64(le.Uint64(b[16:])), int64(le.Uint64(b[24:]))},
	}, nil
}

func copyOutItimerval(t *kernel.Task, addr uintptr, v itimerval) error {
	b := t.Scratch()[:32]
	le.PutUint64(b, uint64(v.interval.sec))
	le.PutUint64(b[8:], uint64(v.interval.nsec))
	le.PutUint64(b[16:], uint64(v.value.sec))
	le.PutUint64(b[24:], uint64(v.value.nsec))
	return copyOutAll(t, addr, b)
}

// sysGetitimer implements getitimer(2).
func sysGetitimer(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	which := args.Int(0)
	var v itimerval
	switch which {
	case unix.ITIMER_REAL:
		value, interval := t.ThreadGroup().RealTimer()
		v = itimerval{interval: durationTimeval(interval), value: durationTimeval(value)}
	case unix.ITIMER_VIRTUAL, unix.ITIMER_PROF:
		value, interval := t.ThreadGroup().CPUITimer(cpuITimer(which))
		v = itimerval{interval: durationTimeval(interval), value: durationTimeval(value)}
	default:
		return 0, unix.EINVAL
	}
	return 0, copyOutItimerval(t, args[1], v)
}

// sysSetitimer implements setitimer(2). A NULL new value disarms the
// timer, as Linux still allows (with a warning).
func sysSetitimer(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	which := args.Int(0)
	var nv itimerval
	if args[1] != 0 {
		var err error
		if nv, err = copyInItimerval(t, args[1]); err != nil {
			return 0, err
		}
		if !nv.valid() {
			return 0, unix.EINVAL
		}
	}
	var old itimerval
	switch which {
	case unix.ITIMER_REAL:
		ov, oi := t.ThreadGroup().SetRealTimer(timevalDuration(nv.value), timevalDuration(nv.interval))
		old = itimerval{interval: durationTimeval(oi), value: durationTimeval(ov)}
	case unix.ITIMER_VIRTUAL, unix.ITIMER_PROF:
		ov, oi := t.ThreadGroup().SetCPUITimer(cpuITimer(which), timevalDuration(nv.value), timevalDuration(nv.interval))
		old = itimerval{interval: durationTimeval(oi), value: durationTimeval(ov)}
	default:
		return 0, unix.EINVAL
	}
	if args[2] == 0 {
		return 0, nil
	}
	return 0, copyOutItimerval(t, args[2], old)
}

// cpuITimer maps ITIMER_VIRTUAL and ITIMER_PROF to the kernel's index.
func cpuITimer(which int32) int {
	if which == unix.ITIMER_VIRTUAL {
		return 0
	}
	return 1
}

// sysAlarm implements alarm(2): ITIMER_REAL for secs seconds, one shot
// (0 cancels), returning the seconds that were left. As Linux's
// alarm_setitimer, the old time rounds to the nearest second, half a
// second up, and a pending alarm never reads 0.
func sysAlarm(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	secs := uint32(args[0])
	old, _ := t.ThreadGroup().SetRealTimer(time.Duration(secs)*time.Second, 0)
	return uintptr(alarmSeconds(old)), nil
}

// alarmSeconds rounds the time left on an old alarm as alarm(2) reports it.
func alarmSeconds(old time.Duration) uint64 {
	s, frac := uint64(old/time.Second), old%time.Second
	if (s == 0 && frac > 0) || frac >= time.Second/2 {
		s++
	}
	return s
}
