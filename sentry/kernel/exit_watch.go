package kernel

import (
	"sync"
	"sync/atomic"

	"moat/sentry/vfs"
)

// exitWatch lets files watch a process end (pidfd_open's descriptors
// poll readable once every thread of the process has exited).
type exitWatch struct {
	done  atomic.Bool
	queue vfs.WaitQueue
	// mu guards hooks; a leaf.
	mu    sync.Mutex
	hooks map[any]func()
}

// fire marks the process ended, runs its exit hooks and wakes its
// watchers; taskGone calls it, with no lock held, when the last thread
// has left.
func (w *exitWatch) fire() {
	w.mu.Lock()
	hooks := w.hooks
	w.hooks = nil
	w.done.Store(true)
	w.mu.Unlock()
	for _, h := range hooks {
		h()
	}
	w.queue.Notify(vfs.EventIn | vfs.EventRdNorm)
}

// AtExit registers fn under key (replacing an earlier one) to run, with
// no kernel lock held, when the last thread of tg exits: System V
// semaphores undo a process's SEM_UNDO adjustments then. It returns
// false, without registering, when tg has already exited.
func (tg *ThreadGroup) AtExit(key any, fn func()) bool {
	w := &tg.exitWatch
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done.Load() {
		return false
	}
	if w.hooks == nil {
		w.hooks = map[any]func(){}
	}
	w.hooks[key] = fn
	return true
}

// ThreadsExited reports whether every thread of tg has exited (the
// process is a zombie, or reaped).
func (tg *ThreadGroup) ThreadsExited() bool { return tg.exitWatch.done.Load() }

// ExitQueue is notified (EventIn) when the last thread of tg exits.
func (tg *ThreadGroup) ExitQueue() *vfs.WaitQueue { return &tg.exitWatch.queue }

// Reaped reports whether tg has been reaped (it is no longer in the
// kernel's registry of processes).
func (tg *ThreadGroup) Reaped() bool {
	k := tg.k
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.groups[tg.pid] != tg
}
