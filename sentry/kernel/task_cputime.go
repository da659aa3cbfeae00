package kernel

import (
	"sync"
	"sync/atomic"
	"time"

	"moat/platform"

	"golang.org/x/sys/unix"
)

// CPU accounting. A task's user time is the CPU time of the host thread
// that runs its application code (the platform context's clock: on
// ptrace, the stub process); its system time is the CPU time of the
// sentry OS thread the task's goroutine is locked to, which does nothing
// but serve that task (trap handling, system calls, ptrace round trips).
// Both are read on demand with clock_gettime, never on the trap path.
// The host's stub clock does not split user from system time, so the
// host kernel's work for the stub (page faults) counts as user time.

// cpuClock is implemented by platform contexts that can say how much CPU
// time their host thread used (ptrace: the stub thread's process CPU
// clock; after Release, the time it had then).
type cpuClock interface {
	CPUTime() (time.Duration, error)
}

// taskCPU is a task's CPU accounting.
type taskCPU struct {
	// hostTID is the host TID of the sentry thread running the task (0
	// before it starts): its thread CPU clock is the system time.
	hostTID atomic.Int32
	// pastUser is the user time of the platform contexts execve
	// replaced (a new image runs on a new stub thread).
	pastUser atomic.Int64
}

// tgTimers is a process's CPU accounting, CPU itimers and POSIX timers.
type tgTimers struct {
	// cpuMu guards the sums below; a leaf.
	cpuMu sync.Mutex
	// deadUser and deadSys sum the threads that have exited (Linux's
	// signal->utime/stime).
	deadUser, deadSys time.Duration
	// childUser and childSys sum the children reaped by wait, with
	// their own reaped children (signal->cutime/cstime).
	childUser, childSys time.Duration

	// cpu holds ITIMER_VIRTUAL, ITIMER_PROF and the CPU-clock POSIX
	// timers, checked by a sampler (timer_cpu.go).
	cpu cpuTimers
	// posix holds the POSIX timers (timer_posix.go).
	posix posixTimers
}

// setContext installs ctx as the task's platform context. The user time
// of the context it replaces (execve) is kept.
//
// Preconditions: called on the task's goroutine.
func (t *Task) setContext(ctx platform.Context) {
	if old := t.cpu.Load(); old != nil {
		if d, err := (*old).CPUTime(); err == nil {
			t.cpuAcct.pastUser.Add(int64(d))
		}
	}
	t.cpuAcct.hostTID.Store(int32(unix.Gettid()))
	t.ctx = ctx
	if c, ok := ctx.(cpuClock); ok {
		t.cpu.Store(&c)
		return
	}
	t.cpu.Store(nil)
}

// threadClock reads the CPU clock of host thread tid of the sentry's own
// process: MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED).
func threadClock(tid int32) time.Duration {
	if tid == 0 {
		return 0
	}
	const cpuclockPerThread, cpuclockSched = 4, 2
	var ts unix.Timespec
	if err := unix.ClockGettime(^tid<<3|cpuclockPerThread|cpuclockSched, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// CPUTimes returns the CPU time the task has used: in application code
// (user) and in the sentry on its behalf (sys), since it was created.
// Zero for a platform without CPU clocks.
func (t *Task) CPUTimes() (user, sys time.Duration) {
	user = time.Duration(t.cpuAcct.pastUser.Load())
	if c := t.cpu.Load(); c != nil {
		if d, err := (*c).CPUTime(); err == nil {
			user += d
		}
	}
	return user, threadClock(t.cpuAcct.hostTID.Load())
}

// retireCPU adds the times of t, which is exiting, to its process's.
//
// Preconditions: called on t's goroutine, before t leaves tg.tasks.
func (t *Task) retireCPU() {
	u, s := t.CPUTimes()
	// The sentry thread ends with the goroutine: its clock goes too.
	t.cpuAcct.hostTID.Store(0)
	t.cpuAcct.pastUser.Store(0)
	t.cpu.Store(nil)
	tm := &t.tg.timers
	tm.cpuMu.Lock()
	tm.deadUser += u
	tm.deadSys += s
	tm.cpuMu.Unlock()
}

// CPUTimes returns the CPU time of the whole process: its exited threads
// and its live ones (times(2), getrusage(RUSAGE_SELF),
// CLOCK_PROCESS_CPUTIME_ID).
func (tg *ThreadGroup) CPUTimes() (user, sys time.Duration) {
	tg.mu.Lock()
	var buf [8]*Task
	tasks := append(buf[:0], tg.tasks...)
	tg.mu.Unlock()
	for _, t := range tasks {
		u, s := t.CPUTimes()
		user += u
		sys += s
	}
	tm := &tg.timers
	tm.cpuMu.Lock()
	user += tm.deadUser
	sys += tm.deadSys
	tm.cpuMu.Unlock()
	return user, sys
}

// ChildCPUTimes returns the CPU time of the children the process has
// reaped with wait, and of theirs (RUSAGE_CHILDREN, tms_cutime).
func (tg *ThreadGroup) ChildCPUTimes() (user, sys time.Duration) {
	tm := &tg.timers
	tm.cpuMu.Lock()
	defer tm.cpuMu.Unlock()
	return tm.childUser, tm.childSys
}

// addChildCPU adds the times of zombie child c, reaped by a wait of tg,
// as wait_task_zombie does. Children reaped without a wait (SIGCHLD
// ignored) are not counted, as on Linux.
func (tg *ThreadGroup) addChildCPU(c *ThreadGroup) {
	ct := &c.timers
	ct.cpuMu.Lock()
	u, s := ct.deadUser+ct.childUser, ct.deadSys+ct.childSys
	ct.cpuMu.Unlock()
	tm := &tg.timers
	tm.cpuMu.Lock()
	tm.childUser += u
	tm.childSys += s
	tm.cpuMu.Unlock()
}

// CPU clock ids (linux/posix-timers.h): a negative clock id names the
// CPU clock of a process or thread: ^pid<<3 | perthread | kind.
const (
	cpuclockProf      = 0
	cpuclockVirt      = 1
	cpuclockSched     = 2
	cpuclockPerThread = 4
)

// CPUClock is a process's or a thread's CPU clock.
type CPUClock struct {
	task *Task
	tg   *ThreadGroup
	// virt counts user time only (CPUCLOCK_VIRT); otherwise user and
	// system time (CPUCLOCK_PROF and CPUCLOCK_SCHED, which moat cannot
	// tell apart).
	virt bool
}

// Read returns the clock's time.
func (c *CPUClock) Read() time.Duration {
	var u, s time.Duration
	if c.task != nil {
		u, s = c.task.CPUTimes()
	} else {
		u, s = c.tg.CPUTimes()
	}
	if c.virt {
		return u
	}
	return u + s
}

// CPUClock resolves a CPU clock id as the task sees it:
// CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, or a negative id
// naming a process of the sandbox (any) or a thread (of the caller's
// process only), as posix_cpu_clock_get's lookup does; pid 0 is the
// caller. ok is false for a clock id that is not a CPU clock; err is
// EINVAL for a bad one, or one naming no task Linux would let the
// caller read.
func (t *Task) CPUClock(id int32) (clock *CPUClock, ok bool, err error) {
	switch id {
	case unix.CLOCK_PROCESS_CPUTIME_ID:
		return &CPUClock{tg: t.tg}, true, nil
	case unix.CLOCK_THREAD_CPUTIME_ID:
		return &CPUClock{task: t}, true, nil
	}
	if id >= 0 {
		return nil, false, nil
	}
	kind := id & 3
	if kind > cpuclockSched {
		return nil, true, unix.EINVAL
	}
	pid := ^(id >> 3)
	c := &CPUClock{virt: kind == cpuclockVirt}
	if id&cpuclockPerThread != 0 {
		if pid == 0 {
			c.task = t
			return c, true, nil
		}
		o := t.k.TaskByTID(pid)
		if o == nil || o.tg != t.tg {
			return nil, true, unix.EINVAL
		}
		c.task = o
		return c, true, nil
	}
	if pid == 0 {
		c.tg = t.tg
		return c, true, nil
	}
	o := t.k.TaskByTID(pid)
	if o == nil || o.tg.pid != pid {
		// Only a thread group leader's pid names a process clock.
		return nil, true, unix.EINVAL
	}
	c.tg = o.tg
	return c, true, nil
}
