package kernel

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// CPU-time timers: ITIMER_VIRTUAL (user time), ITIMER_PROF (user and
// system time) and POSIX timers on CPU clocks. The host cannot wake the
// sentry when a stub thread has used so much CPU, so while any of them is
// armed a sampler reads the process's CPU clocks every few milliseconds
// (never faster than the CPU time left could run out on one thread) and
// fires what has expired. Nothing runs, and the trap path pays nothing,
// while none is armed. Accuracy is the sampling period: a few ms.

const (
	// cpuSampleMax and cpuSampleMin bound the sampler's period.
	cpuSampleMax = 10 * time.Millisecond
	cpuSampleMin = time.Millisecond
	// cpuTick is TICK_NSEC at HZ=250: what getitimer reports for a CPU
	// itimer that has expired but not fired yet, as Linux does.
	cpuTick = 4 * time.Millisecond
)

// Which CPU itimer (setitimer's ITIMER_VIRTUAL and ITIMER_PROF).
const (
	itimerVirtual = 0
	itimerProf    = 1
)

// cpuITimer is one CPU itimer: it expires when the process's clock
// reaches expire (0: disarmed), then every interval.
type cpuITimer struct {
	expire, interval time.Duration
}

// cpuTimers is the sampler state of a process.
type cpuTimers struct {
	// mu is a leaf: signals are sent and clocks read without it.
	mu sync.Mutex
	// it are ITIMER_VIRTUAL and ITIMER_PROF.
	it [2]cpuITimer
	// posix are the armed POSIX timers on CPU clocks.
	posix map[*posixTimer]struct{}
	// sampler is the pending sample (nil: none scheduled); stopped
	// disables sampling for good (the process has ended).
	sampler *time.Timer
	stopped bool
}

// armedLocked reports whether any CPU timer needs the sampler.
//
// Preconditions: c.mu is locked.
func (c *cpuTimers) armedLocked() bool {
	return c.it[0].expire > 0 || c.it[1].expire > 0 || len(c.posix) > 0
}

// scheduleLocked makes sure a sample runs within d.
//
// Preconditions: c.mu is locked.
func (tg *ThreadGroup) scheduleSampleLocked(d time.Duration) {
	c := &tg.timers.cpu
	if c.stopped || c.sampler != nil {
		return
	}
	d = min(max(d, cpuSampleMin), cpuSampleMax)
	c.sampler = time.AfterFunc(d, tg.sampleCPU)
}

// itimerClocks returns the readings ITIMER_VIRTUAL and ITIMER_PROF run on.
func (tg *ThreadGroup) itimerClocks() [2]time.Duration {
	u, s := tg.CPUTimes()
	return [2]time.Duration{u, u + s}
}

// CPUITimer returns ITIMER_VIRTUAL's (which 0) or ITIMER_PROF's (1) time
// to expiry (0: disarmed) and interval (getitimer(2)).
func (tg *ThreadGroup) CPUITimer(which int) (value, interval time.Duration) {
	now := tg.itimerClocks()[which]
	c := &tg.timers.cpu
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.it[which].remaining(now), c.it[which].interval
}

// remaining is the time left at clock reading now, as get_cpu_itimer
// reports it.
func (it cpuITimer) remaining(now time.Duration) time.Duration {
	switch {
	case it.expire == 0:
		return 0
	case it.expire <= now:
		return cpuTick
	}
	return it.expire - now
}

// SetCPUITimer arms ITIMER_VIRTUAL (which 0) or ITIMER_PROF (1) to expire
// after value of CPU time and then every interval (value 0 disarms; the
// interval is kept, as Linux does) and returns the old setting.
func (tg *ThreadGroup) SetCPUITimer(which int, value, interval time.Duration) (oldValue, oldInterval time.Duration) {
	now := tg.itimerClocks()[which]
	c := &tg.timers.cpu
	c.mu.Lock()
	defer c.mu.Unlock()
	it := &c.it[which]
	oldValue, oldInterval = it.remaining(now), it.interval
	it.interval = interval
	it.expire = 0
	if value > 0 {
		// set_cpu_itimer adds a tick so the timer never fires early.
		it.expire = now + value + cpuTick
		tg.scheduleSampleLocked(value)
	}
	return oldValue, oldInterval
}

// sampleCPU runs on a Go timer's goroutine: it reads the process's CPU
// clocks, fires the timers that have expired and schedules the next
// sample while any is still armed.
func (tg *ThreadGroup) sampleCPU() {
	clocks := tg.itimerClocks()
	c := &tg.timers.cpu
	c.mu.Lock()
	c.sampler = nil
	var fire [2]bool
	next := cpuSampleMax
	for i := range c.it {
		it := &c.it[i]
		if it.expire == 0 {
			continue
		}
		if clocks[i] >= it.expire {
			fire[i] = true
			if it.interval > 0 {
				// Like bump_cpu_timer: skip the periods already
				// missed, one signal stands for them all.
				missed := (clocks[i] - it.expire) / it.interval
				it.expire += (missed + 1) * it.interval
			} else {
				it.expire = 0
			}
		}
		if it.expire > 0 {
			next = min(next, it.expire-clocks[i])
		}
	}
	var posix []*posixTimer
	for p := range c.posix {
		posix = append(posix, p)
	}
	c.mu.Unlock()

	for _, p := range posix {
		if d, ok := p.checkCPU(clocks[itimerProf]); ok {
			next = min(next, d)
		}
	}
	if fire[itimerVirtual] {
		tg.sendSignal(SigInfo{Signo: int32(unix.SIGVTALRM), Code: SI_KERNEL})
	}
	if fire[itimerProf] {
		tg.sendSignal(SigInfo{Signo: int32(unix.SIGPROF), Code: SI_KERNEL})
	}

	c.mu.Lock()
	if c.armedLocked() {
		tg.scheduleSampleLocked(next)
	}
	c.mu.Unlock()
}

// stopTimers disarms every timer of a process that has ended: the CPU
// itimers, the sampler and the POSIX timers.
func (tg *ThreadGroup) stopTimers() {
	tg.deletePosixTimers()
	c := &tg.timers.cpu
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	c.it = [2]cpuITimer{}
	if c.sampler != nil {
		c.sampler.Stop()
		c.sampler = nil
	}
}

// watchCPU adds (on) or removes a POSIX timer from the sampler's set.
func (tg *ThreadGroup) watchCPU(p *posixTimer, on bool, first time.Duration) {
	c := &tg.timers.cpu
	c.mu.Lock()
	defer c.mu.Unlock()
	if !on {
		delete(c.posix, p)
		return
	}
	if c.posix == nil {
		c.posix = make(map[*posixTimer]struct{})
	}
	c.posix[p] = struct{}{}
	tg.scheduleSampleLocked(first)
}
