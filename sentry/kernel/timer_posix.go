package kernel

import (
	"encoding/binary"
	"math"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// POSIX timers (timer_create(2) and friends). A process's timers live in
// a table keyed by their id; they are not inherited by fork and are
// deleted by execve and when the process ends. A timer on a wall clock
// (REALTIME, MONOTONIC, BOOTTIME, TAI) is a Go timer; one on a CPU clock
// is checked by the process's CPU sampler (timer_cpu.go).
//
// Signals: an expiry queues the timer's signal with si_code SI_TIMER
// unless the previous one is still pending, in which case it only counts
// an overrun. The counts are handed over when the signal is dequeued
// (SigInfo.Encode calls dequeued), which is where Linux computes
// si_overrun too; timer_getoverrun reports the last handed-over count.
//
// Locking: posixTimers.mu and posixTimer.mu are leaves: CPU clocks are
// read, signals sent and the pending sets looked at with neither held.

// Values of sigev_notify (asm-generic/siginfo.h).
const (
	SIGEV_SIGNAL    = 0
	SIGEV_NONE      = 1
	SIGEV_THREAD    = 2
	SIGEV_THREAD_ID = 4
)

// SI_TIMER is the si_code of a POSIX timer's signal.
const SI_TIMER = -2

// maxPosixTimers bounds a process's timers whatever RLIMIT_SIGPENDING
// says (each one costs sentry memory).
const maxPosixTimers = 1 << 14

// minTimerPeriod is the shortest period a timer re-arms its Go timer
// with: faster periods are counted as overruns instead, so a tiny
// interval cannot make the sentry spin.
const minTimerPeriod = 100 * time.Microsecond

// SigEvent is a struct sigevent as timer_create reads it.
type SigEvent struct {
	// Value is sigev_value, delivered as si_value.
	Value uint64
	// Signo and Notify are sigev_signo and sigev_notify; TID is
	// sigev_notify_thread_id for SIGEV_THREAD_ID.
	Signo, Notify, TID int32
}

// posixTimers is a process's table of POSIX timers.
type posixTimers struct {
	mu     sync.Mutex
	timers map[int32]*posixTimer
	// next is the id the next timer tries first (Linux's
	// next_posix_timer_id): ids start at 0 and wrap at INT_MAX.
	next int32
}

// posixTimer is one timer of timer_create.
type posixTimer struct {
	tg *ThreadGroup
	id int32
	// clock is the clock id for a wall-clock timer; cpu is set instead
	// for a CPU-clock timer.
	clock int32
	cpu   *CPUClock
	// signo and value are the signal and si_value; none is SIGEV_NONE;
	// target, for SIGEV_THREAD_ID, is the thread to signal.
	signo  int32
	value  uint64
	none   bool
	target *Task

	// mu guards what follows.
	mu sync.Mutex
	// armed says the timer will expire: at deadline (Go's monotonic
	// clock) for a wall clock, when the CPU clock reaches cpuExpire.
	armed     bool
	deadline  time.Time
	cpuExpire time.Duration
	interval  time.Duration
	// timer is the Go timer of a wall-clock timer; gen is bumped on
	// every change so a stale callback does nothing.
	timer *time.Timer
	gen   uint64
	// overrun counts expiries while the signal was pending; lastOverrun
	// is what the last dequeued signal reported (timer_getoverrun).
	overrun, lastOverrun int64
	deleted              bool
}

// CreateTimer implements timer_create for clock id (a wall clock, or a
// CPU clock when cpu is not nil) and returns the new timer's id. ev nil
// means SIGEV_SIGNAL with SIGALRM and the timer id as value.
func (t *Task) CreateTimer(clock int32, cpu *CPUClock, ev *SigEvent) (int32, error) {
	tg := t.tg
	p := &posixTimer{tg: tg, clock: clock, cpu: cpu, signo: int32(unix.SIGALRM)}
	if ev != nil {
		switch ev.Notify {
		case SIGEV_NONE:
			p.none = true
		case SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID:
			if ev.Signo <= 0 || ev.Signo > NumSignals {
				return 0, unix.EINVAL
			}
			if ev.Notify == SIGEV_THREAD_ID {
				target := t.k.TaskByTID(ev.TID)
				if target == nil || target.tg != tg {
					return 0, unix.EINVAL
				}
				p.target = target
			}
		default:
			return 0, unix.EINVAL
		}
		p.signo, p.value = ev.Signo, ev.Value
	}
	limit := uint64(maxPosixTimers)
	if l, err := tg.Rlimit(rlimitSigpending); err == nil && l.Cur < limit {
		limit = l.Cur
	}
	pt := &tg.timers.posix
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if uint64(len(pt.timers)) >= limit {
		return 0, unix.EAGAIN
	}
	if pt.timers == nil {
		pt.timers = make(map[int32]*posixTimer)
	}
	for {
		id := pt.next
		pt.next = int32((uint32(id) + 1) & math.MaxInt32)
		if _, used := pt.timers[id]; !used {
			p.id = id
			break
		}
	}
	if ev == nil {
		p.value = uint64(p.id)
	}
	pt.timers[p.id] = p
	return p.id, nil
}

// timer returns the process's timer id (EINVAL if there is none).
func (tg *ThreadGroup) timer(id int32) (*posixTimer, error) {
	pt := &tg.timers.posix
	pt.mu.Lock()
	defer pt.mu.Unlock()
	p := pt.timers[id]
	if p == nil {
		return nil, unix.EINVAL
	}
	return p, nil
}

// clockNow reads the timer's clock: CPU time, or a wall clock's time
// since its epoch.
func (p *posixTimer) clockNow() time.Duration {
	if p.cpu != nil {
		return p.cpu.Read()
	}
	id := p.clock
	switch id {
	case unix.CLOCK_REALTIME_ALARM:
		id = unix.CLOCK_REALTIME
	case unix.CLOCK_BOOTTIME_ALARM:
		id = unix.CLOCK_BOOTTIME
	}
	var ts unix.Timespec
	_ = unix.ClockGettime(id, &ts)
	return time.Duration(ts.Nano())
}

// cpuNow reads a CPU-clock timer's clock (0 for a wall clock), before
// p.mu is taken.
func (p *posixTimer) cpuNow() time.Duration {
	if p.cpu == nil {
		return 0
	}
	return p.cpu.Read()
}

// remainingLocked is the time to the next expiry (0: disarmed; an
// expired timer about to re-arm reads 1ns, never 0); cpuNow is the CPU
// clock's reading for a CPU-clock timer.
//
// Preconditions: p.mu is locked.
func (p *posixTimer) remainingLocked(cpuNow time.Duration) time.Duration {
	if !p.armed {
		return 0
	}
	var left time.Duration
	if p.cpu != nil {
		left = p.cpuExpire - cpuNow
	} else {
		left = time.Until(p.deadline)
	}
	return max(left, 1)
}

// TimerGet implements timer_gettime: the time to the next expiry and the
// interval.
func (tg *ThreadGroup) TimerGet(id int32) (value, interval time.Duration, err error) {
	p, err := tg.timer(id)
	if err != nil {
		return 0, 0, err
	}
	now := p.cpuNow()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.remainingLocked(now), p.interval, nil
}

// TimerOverrun implements timer_getoverrun: the overrun count of the
// last signal delivered, saturated at INT_MAX (DELAYTIMER_MAX).
func (tg *ThreadGroup) TimerOverrun(id int32) (int32, error) {
	p, err := tg.timer(id)
	if err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return int32(min(p.lastOverrun, math.MaxInt32)), nil
}

// TimerSet implements timer_settime: value is relative, or with abs a
// reading of the timer's clock; 0 disarms. It returns the old setting.
func (tg *ThreadGroup) TimerSet(id int32, abs bool, value, interval time.Duration) (oldValue, oldInterval time.Duration, err error) {
	p, err := tg.timer(id)
	if err != nil {
		return 0, 0, err
	}
	var now time.Duration
	if value > 0 && abs {
		now = p.clockNow()
	}
	cpuNow := p.cpuNow()
	if p.cpu != nil {
		now = cpuNow
	}
	p.mu.Lock()
	oldValue, oldInterval = p.remainingLocked(cpuNow), p.interval
	p.disarmLocked()
	p.interval = interval
	// common_timer_set forgets the overruns, the reported ones too.
	p.overrun, p.lastOverrun = 0, 0
	if value <= 0 || p.deleted {
		p.mu.Unlock()
		return oldValue, oldInterval, nil
	}
	rel := value
	if abs {
		rel = value - now
	}
	p.armed = true
	if p.cpu != nil {
		p.cpuExpire = now + rel
		p.mu.Unlock()
		tg.watchCPU(p, true, rel)
		return oldValue, oldInterval, nil
	}
	if rel <= 0 {
		// Already due: expire at once (on the timer's goroutine).
		rel = 0
	}
	p.deadline = time.Now().Add(rel)
	gen := p.gen
	p.timer = time.AfterFunc(rel, func() { p.fireWall(gen) })
	p.mu.Unlock()
	return oldValue, oldInterval, nil
}

// disarmLocked stops the timer.
//
// Preconditions: p.mu is locked.
func (p *posixTimer) disarmLocked() {
	p.gen++
	p.armed = false
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
}

// fireWall runs on the Go timer's goroutine when a wall-clock timer of
// generation gen expires.
func (p *posixTimer) fireWall(gen uint64) {
	p.mu.Lock()
	now := time.Now()
	if gen != p.gen || !p.armed || now.Before(p.deadline) {
		// Stale, or a call the dequeue's forwarding made early.
		p.mu.Unlock()
		return
	}
	var missed int64
	if p.interval > 0 {
		// Like hrtimer_forward: periods already gone by are overruns.
		n := now.Sub(p.deadline) / p.interval
		missed = int64(n)
		p.deadline = p.deadline.Add((n + 1) * p.interval)
		// Reset of an AfterFunc timer schedules one more call, from
		// within the callback too.
		p.timer.Reset(max(p.deadline.Sub(now), minTimerPeriod))
	} else {
		p.armed = false
		p.timer = nil
	}
	p.mu.Unlock()
	p.expired(missed)
}

// checkCPU is called by the CPU sampler: it fires the timer if its clock
// has reached the expiry and returns how much CPU time is left to the
// next one (false: the timer is no longer armed).
func (p *posixTimer) checkCPU(_ time.Duration) (time.Duration, bool) {
	now := p.cpu.Read()
	p.mu.Lock()
	if !p.armed {
		p.mu.Unlock()
		p.tg.watchCPU(p, false, 0)
		return 0, false
	}
	if now < p.cpuExpire {
		left := p.cpuExpire - now
		p.mu.Unlock()
		return left, true
	}
	var missed int64
	armed := p.interval > 0
	if armed {
		n := (now - p.cpuExpire) / p.interval
		missed = int64(n)
		p.cpuExpire += (n + 1) * p.interval
	} else {
		p.armed = false
	}
	left := p.cpuExpire - now
	p.mu.Unlock()
	if !armed {
		p.tg.watchCPU(p, false, 0)
	}
	p.expired(missed)
	return left, armed
}

// expired notifies one expiry (plus missed periods that went by): a new
// signal, or overruns when the last one is still pending.
func (p *posixTimer) expired(missed int64) {
	if p.none {
		return
	}
	if p.signalPending() {
		p.mu.Lock()
		p.overrun = satAdd(p.overrun, missed+1)
		p.mu.Unlock()
		return
	}
	p.mu.Lock()
	if p.deleted {
		p.mu.Unlock()
		return
	}
	p.overrun = satAdd(p.overrun, missed)
	p.mu.Unlock()
	info := SigInfo{Signo: p.signo, Code: SI_TIMER, timer: p}
	if p.target != nil {
		p.target.sendTimerSignal(info)
		return
	}
	p.tg.sendSignal(info)
}

// satAdd adds two counts, saturating.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// signalPending reports whether the timer's last signal is still queued.
func (p *posixTimer) signalPending() bool {
	tg := p.tg
	bit := SigBit(unix.Signal(p.signo))
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.pending&bit != 0 && tg.pendingInfo[p.signo-1].timer == p {
		return true
	}
	if t := p.target; t != nil {
		t.sigMu.Lock()
		defer t.sigMu.Unlock()
		return t.pending&bit != 0 && t.pendingInfo[p.signo-1].timer == p
	}
	return false
}

// dequeued fills in the timer part of the siginfo of the timer's signal,
// which is being delivered: si_tid, si_overrun (the overruns since it was
// queued) and si_value, in b (siginfo_t, 64-bit layout).
func (p *posixTimer) dequeued(b []byte) {
	p.mu.Lock()
	if now := time.Now(); p.cpu == nil && p.armed && p.interval > 0 && !now.Before(p.deadline) {
		// Periods due but not yet seen by a late callback are overruns
		// too, as Linux counts them at dequeue (posixtimer_rearm).
		n := now.Sub(p.deadline)/p.interval + 1
		p.overrun = satAdd(p.overrun, int64(n))
		p.deadline = p.deadline.Add(n * p.interval)
		p.timer.Reset(max(p.deadline.Sub(now), minTimerPeriod))
	}
	p.lastOverrun, p.overrun = p.overrun, 0
	ov := int32(min(p.lastOverrun, math.MaxInt32))
	p.mu.Unlock()
	le := binary.LittleEndian
	le.PutUint32(b[16:], uint32(p.id))
	le.PutUint32(b[20:], uint32(ov))
	le.PutUint64(b[24:], p.value)
}

// sendTimerSignal queues a SIGEV_THREAD_ID timer's signal for t, as
// SendSignal does for tkill (ignored and unblocked: discarded; already
// pending: not queued twice).
func (t *Task) sendTimerSignal(info SigInfo) {
	sig := unix.Signal(info.Signo)
	tg := t.tg
	tg.mu.Lock()
	if (tg.exiting && tg.execer == nil) || tg.initIgnoresLocked(sig, &info) {
		tg.mu.Unlock()
		return
	}
	act := tg.actions[sig-1]
	t.sigMu.Lock()
	blocked := t.mask&SigBit(sig) != 0
	if (!act.ignored(sig) || blocked) && t.pending&SigBit(sig) == 0 {
		t.pending |= SigBit(sig)
		t.pendingInfo[sig-1] = info
	}
	t.sigMu.Unlock()
	tg.mu.Unlock()
	t.kick()
}

// DeleteTimer implements timer_delete.
func (tg *ThreadGroup) DeleteTimer(id int32) error {
	pt := &tg.timers.posix
	pt.mu.Lock()
	p := pt.timers[id]
	if p == nil {
		pt.mu.Unlock()
		return unix.EINVAL
	}
	delete(pt.timers, id)
	pt.mu.Unlock()
	p.kill()
	return nil
}

// kill disarms a deleted timer for good.
func (p *posixTimer) kill() {
	p.mu.Lock()
	p.disarmLocked()
	p.deleted = true
	p.mu.Unlock()
	if p.cpu != nil {
		p.tg.watchCPU(p, false, 0)
	}
}

// deletePosixTimers deletes every POSIX timer of the process (execve,
// exit).
func (tg *ThreadGroup) deletePosixTimers() {
	pt := &tg.timers.posix
	pt.mu.Lock()
	timers := pt.timers
	pt.timers = nil
	pt.mu.Unlock()
	for _, p := range timers {
		p.kill()
	}
}
