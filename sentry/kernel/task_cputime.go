package kernel

import (
	"time"

	"moat/platform"
)

// cpuClock is implemented by platform contexts that can say how much CPU
// time their host thread used (ptrace: the stub thread's process CPU
// clock). It is read only when /proc asks, so the syscall path pays
// nothing for it.
type cpuClock interface {
	CPUTime() (time.Duration, error)
}

// setContext installs ctx as the task's platform context.
//
// Preconditions: called on the task's goroutine.
func (t *Task) setContext(ctx platform.Context) {
	t.ctx = ctx
	if c, ok := ctx.(cpuClock); ok {
		t.cpu.Store(&c)
		return
	}
	t.cpu.Store(nil)
}

// cpuTime returns the CPU time the task's app thread has used since its
// last execve (a new address space starts a new stub thread), 0 if the
// platform cannot tell.
func (t *Task) cpuTime() time.Duration {
	c := t.cpu.Load()
	if c == nil {
		return 0
	}
	d, err := (*c).CPUTime()
	if err != nil {
		return 0
	}
	return d
}
