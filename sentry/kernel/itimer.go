package kernel

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// realTimer is a process's ITIMER_REAL (setitimer(2), alarm(2)): a Go
// timer that sends SIGALRM to the thread group when it expires and, with
// an interval, arms itself again. There is no goroutine per tick: the
// runtime's timer calls fire, which re-arms with the next expiry.
//
// Per setitimer(2) and execve(2) the timer survives execve; a fork child
// starts with none (a new ThreadGroup has the zero value), and it stops
// when the process ends.
type realTimer struct {
	// mu is a leaf: SIGALRM is sent after it is released.
	mu sync.Mutex
	// timer is nil when the timer is disarmed.
	timer *time.Timer
	// deadline is the next expiry on Go's monotonic clock.
	deadline time.Time
	// interval reloads the timer on expiry; 0 means one shot.
	interval time.Duration
	// gen is bumped on every set, so a callback of a timer that was
	// replaced after it had already started does nothing.
	gen uint64
}

// remainingLocked returns the time left before the next expiry: 0 when
// disarmed, and at least 1µs when armed, as Linux's itimer_get_remtime
// reports an expired timer that is about to be re-armed.
//
// Preconditions: r.mu is locked.
func (r *realTimer) remainingLocked() time.Duration {
	if r.timer == nil {
		return 0
	}
	left := time.Until(r.deadline)
	if left <= 0 {
		return time.Microsecond
	}
	return left
}

// RealTimer returns ITIMER_REAL's time to the next expiry (0 when
// disarmed) and its interval (getitimer(2)).
func (tg *ThreadGroup) RealTimer() (value, interval time.Duration) {
	r := &tg.realTimer
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.remainingLocked(), r.interval
}

// SetRealTimer arms ITIMER_REAL to expire after value and then every
// interval (value 0 disarms it), and returns the previous setting as
// RealTimer would have (setitimer(2), alarm(2)).
func (tg *ThreadGroup) SetRealTimer(value, interval time.Duration) (oldValue, oldInterval time.Duration) {
	r := &tg.realTimer
	r.mu.Lock()
	defer r.mu.Unlock()
	oldValue, oldInterval = r.remainingLocked(), r.interval
	r.stopLocked()
	r.interval = interval
	if value <= 0 {
		return oldValue, oldInterval
	}
	gen := r.gen
	r.deadline = time.Now().Add(value)
	r.timer = time.AfterFunc(value, func() { tg.fireRealTimer(gen) })
	return oldValue, oldInterval
}

// stopLocked disarms the timer; a callback already running sees the new
// generation and does nothing.
//
// Preconditions: r.mu is locked.
func (r *realTimer) stopLocked() {
	r.gen++
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
}

// stopRealTimer disarms ITIMER_REAL for good when the process ends.
func (tg *ThreadGroup) stopRealTimer() {
	r := &tg.realTimer
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopLocked()
	r.interval = 0
}

// fireRealTimer runs on the Go timer's goroutine when ITIMER_REAL of
// generation gen expires: it re-arms an interval timer and sends SIGALRM
// to the process with si_code SI_KERNEL, as Linux's it_real_fn does.
func (tg *ThreadGroup) fireRealTimer(gen uint64) {
	r := &tg.realTimer
	r.mu.Lock()
	if gen != r.gen || r.timer == nil {
		r.mu.Unlock()
		return
	}
	if r.interval > 0 {
		// Like hrtimer_forward: skip the periods already missed, so a
		// late callback does not fire a burst of catch-up signals.
		now := time.Now()
		next := r.deadline.Add(r.interval)
		if next.Before(now) {
			missed := now.Sub(r.deadline) / r.interval
			next = r.deadline.Add((missed + 1) * r.interval)
		}
		r.deadline = next
		r.timer = time.AfterFunc(time.Until(next), func() { tg.fireRealTimer(gen) })
	} else {
		r.timer = nil
	}
	r.mu.Unlock()
	tg.sendSignal(SigInfo{Signo: int32(unix.SIGALRM), Code: SI_KERNEL})
}
