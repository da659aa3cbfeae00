package kernel

import (
	"sync"
	"sync/atomic"
)

// pauseGate implements Pause and Resume (runc's pause, the cgroup
// freezer's job): while it is closed no task switches to application
// code and no Block returns, so the sandbox runs no instruction of the
// application and completes no blocking call. Tasks wait at the gate in
// the sentry, where a SIGKILL (an exiting process) still gets through.
type pauseGate struct {
	// paused is read on every trip round a task's loop: one atomic load
	// when the sandbox runs.
	paused atomic.Bool
	// mu guards resume, closed by Resume to open the gate.
	mu     sync.Mutex
	resume chan struct{}
}

// wait returns at once unless the sandbox is paused; then it returns
// when the sandbox resumes or t must leave (its process is killed).
// It is small enough to be inlined on the run loop's hot path.
func (g *pauseGate) wait(t *Task) {
	if g.paused.Load() {
		g.block(t)
	}
}

// block is wait's slow path.
func (g *pauseGate) block(t *Task) {
	for g.paused.Load() && !t.leaving() {
		g.mu.Lock()
		ch := g.resume
		g.mu.Unlock()
		// A wake token eaten here is harmless: the task rechecks
		// everything (signals, exit) once past the gate.
		select {
		case <-ch:
		case <-t.wake:
		}
	}
}

// Pause stops every task of the sandbox at its next entry into the
// sentry: running application code is interrupted, and tasks created
// meanwhile stop before their first instruction. It returns once every
// task has been asked to stop, without waiting for each to arrive (an
// interrupted Switch returns in microseconds). It reports false if the
// sandbox was already paused.
func (k *Kernel) Pause() bool {
	g := &k.pause
	g.mu.Lock()
	if g.paused.Load() {
		g.mu.Unlock()
		return false
	}
	g.resume = make(chan struct{})
	g.paused.Store(true)
	g.mu.Unlock()
	k.mu.Lock()
	tasks := make([]*Task, 0, len(k.tasks))
	for _, t := range k.tasks {
		tasks = append(tasks, t)
	}
	k.mu.Unlock()
	for _, t := range tasks {
		t.kick()
	}
	return true
}

// Resume lets the tasks stopped by Pause run again. It reports false if
// the sandbox was not paused.
func (k *Kernel) Resume() bool {
	g := &k.pause
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.paused.Load() {
		return false
	}
	g.paused.Store(false)
	close(g.resume)
	return true
}

// Paused reports whether the sandbox is paused.
func (k *Kernel) Paused() bool { return k.pause.paused.Load() }
