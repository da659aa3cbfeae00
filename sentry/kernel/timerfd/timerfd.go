// Package timerfd implements timerfd(2) objects in the sentry: a timer on
// a wall clock whose expirations are counted, read as a native u64 (and
// reset) by read(2), and signalled to poll/epoll as readability.
//
// Locking: TimerFD.mu, then the wait queue's lock (Notify is called with
// mu held). Expirations run on Go timers' goroutines.
package timerfd

import (
	"encoding/binary"
	"sync"
	"time"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Flags of timerfd_create and timerfd_settime (linux/timerfd.h).
const (
	CloExec          = unix.O_CLOEXEC
	NonBlock         = unix.O_NONBLOCK
	TimerAbstime     = 1
	TimerCancelOnSet = 2
	// IocSetTicks is TFD_IOC_SET_TICKS, _IOW('T', 0, __u64).
	IocSetTicks = 0x40085400
)

// minPeriod is the shortest period the Go timer is re-armed with: faster
// intervals are counted arithmetically, so a 1ns interval cannot make the
// sentry spin (Linux bounds such timers by its own timer latency too).
const minPeriod = 100 * time.Microsecond

// ClockOK reports whether clock is one timerfd_create accepts, and
// whether it is an alarm clock (which needs CAP_WAKE_ALARM).
func ClockOK(clock int32) (ok, alarm bool) {
	switch clock {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME:
		return true, false
	case unix.CLOCK_REALTIME_ALARM, unix.CLOCK_BOOTTIME_ALARM:
		return true, true
	}
	return false, false
}

// TimerFD is one timerfd: the vfs.FileImpl of its file.
type TimerFD struct {
	// clock is the host clock absolute times are read on (an alarm
	// clock reads its non-alarm twin: the sandbox cannot wake a
	// suspended host anyway).
	clock int32
	queue vfs.WaitQueue

	// mu guards what follows.
	mu sync.Mutex
	// armed says the timer will expire at deadline (Go's monotonic
	// clock), then every interval.
	armed    bool
	deadline time.Time
	interval time.Duration
	// ticks counts expirations not read yet.
	ticks uint64
	// timer is the Go timer; gen is bumped on every change so a stale
	// callback does nothing.
	timer *time.Timer
	gen   uint64
	// released is set when the last reference is gone.
	released bool
}

var (
	_ vfs.FileImpl   = (*TimerFD)(nil)
	_ vfs.BlockingIO = (*TimerFD)(nil)
	_ vfs.Waitable   = (*TimerFD)(nil)
)

// New implements timerfd_create for a clock ClockOK accepts: a disarmed
// timer in a file with one reference. flags are CloExec and NonBlock
// (EINVAL for others); the caller applies CloExec to the descriptor.
func New(clock int32, flags int) (*vfs.File, error) {
	if ok, _ := ClockOK(clock); !ok || flags&^(CloExec|NonBlock) != 0 {
		return nil, unix.EINVAL
	}
	switch clock {
	case unix.CLOCK_REALTIME_ALARM:
		clock = unix.CLOCK_REALTIME
	case unix.CLOCK_BOOTTIME_ALARM:
		clock = unix.CLOCK_BOOTTIME
	}
	tf := &TimerFD{clock: clock}
	return vfs.NewFile(tf, unix.O_RDWR|flags&NonBlock, vfs.Location{}), nil
}

// Of returns f's timerfd, or nil if f is something else.
func Of(f *vfs.File) *TimerFD {
	tf, _ := f.Impl().(*TimerFD)
	return tf
}

// remainingLocked is the time to the next expiry, 0 when disarmed; an
// expired timer waiting for its callback reads 1ns, never 0 (which would
// say disarmed).
//
// Preconditions: tf.mu is locked.
func (tf *TimerFD) remainingLocked() time.Duration {
	if !tf.armed {
		return 0
	}
	return max(time.Until(tf.deadline), 1)
}

// Get implements timerfd_gettime.
func (tf *TimerFD) Get() (value, interval time.Duration) {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	return tf.remainingLocked(), tf.interval
}

// Set implements timerfd_settime: the timer expires after value (with
// abs: when its clock reads value) and then every interval; value 0
// disarms it. Unread expirations are dropped. It returns the old setting.
func (tf *TimerFD) Set(abs bool, value, interval time.Duration) (oldValue, oldInterval time.Duration) {
	var now time.Duration
	if abs {
		var ts unix.Timespec
		_ = unix.ClockGettime(tf.clock, &ts)
		now = time.Duration(ts.Nano())
	}
	tf.mu.Lock()
	defer tf.mu.Unlock()
	oldValue, oldInterval = tf.remainingLocked(), tf.interval
	tf.stopLocked()
	tf.ticks = 0
	tf.interval = interval
	if value <= 0 || tf.released {
		return oldValue, oldInterval
	}
	rel := value
	if abs {
		rel = max(value-now, 0)
	}
	tf.armed = true
	tf.deadline = time.Now().Add(rel)
	gen := tf.gen
	tf.timer = time.AfterFunc(rel, func() { tf.fire(gen) })
	return oldValue, oldInterval
}

// stopLocked disarms the timer.
//
// Preconditions: tf.mu is locked.
func (tf *TimerFD) stopLocked() {
	tf.gen++
	tf.armed = false
	if tf.timer != nil {
		tf.timer.Stop()
		tf.timer = nil
	}
}

// fire counts the expiries of generation gen's timer and re-arms an
// interval timer.
func (tf *TimerFD) fire(gen uint64) {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	if gen != tf.gen {
		return
	}
	tf.forwardLocked(time.Now())
}

// forwardLocked counts the expiries due by now, whether or not the Go
// timer has run yet (a late callback must not make a read see fewer
// expirations than time allows), and re-arms an interval timer past now.
//
// Preconditions: tf.mu is locked.
func (tf *TimerFD) forwardLocked(now time.Time) {
	if !tf.armed || now.Before(tf.deadline) {
		return
	}
	n := uint64(1)
	if tf.interval > 0 {
		// Like hrtimer_forward: every period gone by is an expiry.
		missed := now.Sub(tf.deadline) / tf.interval
		n += uint64(missed)
		tf.deadline = tf.deadline.Add((missed + 1) * tf.interval)
		// Reset of an AfterFunc timer always schedules one more call
		// (from within the callback too); a call already on its way
		// finds nothing due and does nothing.
		tf.timer.Reset(max(tf.deadline.Sub(now), minPeriod))
	} else {
		tf.armed = false
		if tf.timer != nil {
			tf.timer.Stop()
			tf.timer = nil
		}
	}
	if tf.ticks > ^uint64(0)-n {
		tf.ticks = ^uint64(0)
	} else {
		tf.ticks += n
	}
	tf.queue.Notify(vfs.EventIn | vfs.EventRdNorm)
}

// take removes the count a read returns, or reports EAGAIN at zero.
func (tf *TimerFD) take() (uint64, error) {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	tf.forwardLocked(time.Now())
	if tf.ticks == 0 {
		return 0, unix.EAGAIN
	}
	v := tf.ticks
	tf.ticks = 0
	return v, nil
}

// Name is what /proc/PID/fd shows for a descriptor of a timerfd.
func (tf *TimerFD) Name() string { return "anon_inode:[timerfd]" }

// ProcLinkName is what /proc/[pid]/fd shows for a timerfd (it
// implements proc.LinkNamer).
func (tf *TimerFD) ProcLinkName() string { return "anon_inode:[timerfd]" }

// Read reads without a task to interrupt it.
func (tf *TimerFD) Read(f *vfs.File, dst []byte) (int, error) {
	return tf.ReadInterruptible(f, dst, nil)
}

// ReadInterruptible implements read(2): EINVAL for a buffer under 8
// bytes; the number of expirations since the last read or set, as a
// native u64, waiting for one unless O_NONBLOCK (EAGAIN).
func (tf *TimerFD) ReadInterruptible(f *vfs.File, dst []byte, in vfs.Interruptible) (int, error) {
	if len(dst) < 8 {
		return 0, unix.EINVAL
	}
	v, err := tf.take()
	if err == unix.EAGAIN && f.Flags()&unix.O_NONBLOCK == 0 {
		w := vfs.NewWaitEntry(vfs.EventIn)
		tf.queue.Register(w)
		for err == unix.EAGAIN {
			if err = vfs.Block(in, w.C(), time.Time{}); err != nil {
				break
			}
			v, err = tf.take()
		}
		tf.queue.Unregister(w)
	}
	if err != nil {
		return 0, err
	}
	binary.LittleEndian.PutUint64(dst, v)
	return 8, nil
}

// Write fails with EINVAL, as timerfd has no write operation.
func (tf *TimerFD) Write(*vfs.File, []byte) (int, error) { return 0, unix.EINVAL }

// WriteInterruptible fails like Write.
func (tf *TimerFD) WriteInterruptible(f *vfs.File, src []byte, _ vfs.Interruptible) (int, error) {
	return tf.Write(f, src)
}

// PRead fails: a timerfd has no offsets.
func (tf *TimerFD) PRead(*vfs.File, []byte, int64) (int, error) { return 0, unix.ESPIPE }

// PWrite fails: a timerfd has no offsets.
func (tf *TimerFD) PWrite(*vfs.File, []byte, int64) (int, error) { return 0, unix.ESPIPE }

// Seek does nothing and returns 0 (noop_llseek).
func (tf *TimerFD) Seek(*vfs.File, int64, int) (int64, error) { return 0, nil }

// Stat reports an anonymous inode: mode 0600 with no file type.
func (tf *TimerFD) Stat(*vfs.File) (unix.Stat_t, error) {
	return unix.Stat_t{Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}

// Getdents fails: a timerfd is no directory.
func (tf *TimerFD) Getdents(*vfs.File, []byte) (int, error) { return 0, unix.ENOTDIR }

// Ioctl implements TFD_IOC_SET_TICKS (set the expiration count, not 0)
// and answers ENOTTY to anything else.
func (tf *TimerFD) Ioctl(_ *vfs.File, req uintptr, arg uintptr, io vfs.IOContext) (uintptr, error) {
	if req != IocSetTicks {
		return 0, unix.ENOTTY
	}
	var b [8]byte
	if n, err := io.CopyIn(arg, b[:]); err != nil || n != len(b) {
		return 0, unix.EFAULT
	}
	v := binary.LittleEndian.Uint64(b[:])
	if v == 0 {
		return 0, unix.EINVAL
	}
	tf.mu.Lock()
	defer tf.mu.Unlock()
	tf.ticks = v
	tf.queue.Notify(vfs.EventIn | vfs.EventRdNorm)
	return 0, nil
}

// HostFD returns -1: the timer lives in the sentry.
func (tf *TimerFD) HostFD() int { return -1 }

// Release stops the timer when the last reference is gone.
func (tf *TimerFD) Release() {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	tf.stopLocked()
	tf.released = true
}

// Readiness implements vfs.Waitable: readable while an expiration is
// unread.
func (tf *TimerFD) Readiness(mask vfs.EventMask) vfs.EventMask {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	tf.forwardLocked(time.Now())
	if tf.ticks > 0 {
		return (vfs.EventIn | vfs.EventRdNorm) & mask
	}
	return 0
}

// EventRegister implements vfs.Waitable.
func (tf *TimerFD) EventRegister(w *vfs.WaitEntry) bool { tf.queue.Register(w); return true }

// EventUnregister implements vfs.Waitable.
func (tf *TimerFD) EventUnregister(w *vfs.WaitEntry) { tf.queue.Unregister(w) }
