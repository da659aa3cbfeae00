package kernel

import (
	"sync"

	"moat/sentry/mm"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// ThreadGroup is a process: the tasks that share a PID, signal actions,
// limits and (in this issue, always) memory, files and file-system
// context.
type ThreadGroup struct {
	k *Kernel
	// pid, ppid, pgid and sid are fixed at creation in this issue
	// (setsid/setpgid are not implemented beyond their checks).
	pid, ppid, pgid, sid int32

	mm  *mm.MemoryManager
	fds *FDTable
	fs  *vfs.FS

	// mu guards the fields below and the tasks' membership; lock order:
	// Kernel.mu before ThreadGroup.mu before Task.sigMu.
	mu sync.Mutex
	// tasks are the live threads, the leader first.
	tasks []*Task
	// actions is indexed by signal-1.
	actions [NumSignals]SigAction
	// pending are the process-directed signals not yet taken by a thread.
	pending SigSet
	umask   uint32
	rlimits [NumRlimits]Rlimit
	// exiting is set by exit_group or a fatal signal: every task leaves
	// at its next trap and status is the group's.
	exiting bool
	status  ExitStatus
}

// PID returns the thread group's ID in the sandbox's PID namespace.
func (tg *ThreadGroup) PID() int32 { return tg.pid }

// PPID returns the parent's PID (0 for the container's init).
func (tg *ThreadGroup) PPID() int32 { return tg.ppid }

// PGID returns the process group ID.
func (tg *ThreadGroup) PGID() int32 { return tg.pgid }

// SID returns the session ID.
func (tg *ThreadGroup) SID() int32 { return tg.sid }

// Umask returns the file mode creation mask.
func (tg *ThreadGroup) Umask() uint32 {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.umask
}

// SetUmask implements umask(2): it installs mask&0777 and returns the old.
func (tg *ThreadGroup) SetUmask(mask uint32) uint32 {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	old := tg.umask
	tg.umask = mask & 0o777
	return old
}

// NumTasks returns the number of live threads.
func (tg *ThreadGroup) NumTasks() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return len(tg.tasks)
}

// Exiting reports whether the group is being torn down.
func (tg *ThreadGroup) Exiting() bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.exiting
}

// exitGroup starts the exit of every thread with status (exit_group, or a
// fatal signal). The first status wins.
func (tg *ThreadGroup) exitGroup(status ExitStatus) {
	tg.mu.Lock()
	if tg.exiting {
		tg.mu.Unlock()
		return
	}
	tg.exiting = true
	tg.status = status
	tasks := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	for _, t := range tasks {
		t.kick()
	}
}

// sendSignal queues a process-directed signal and wakes a thread that can
// take it. A signal the group ignores is discarded here, as the kernel
// does at generation time (unless a thread blocks it, in which case it
// stays pending until the action changes or the mask does).
func (tg *ThreadGroup) sendSignal(sig unix.Signal) {
	tg.mu.Lock()
	if tg.exiting {
		tg.mu.Unlock()
		return
	}
	act := tg.actions[sig-1]
	var target *Task
	blockedEverywhere := true
	for _, t := range tg.tasks {
		t.sigMu.Lock()
		blocked := t.mask&SigBit(sig) != 0
		t.sigMu.Unlock()
		if !blocked {
			blockedEverywhere = false
			if target == nil {
				target = t
			}
		}
	}
	if act.ignored(sig) && !blockedEverywhere {
		tg.mu.Unlock()
		return
	}
	tg.pending |= SigBit(sig)
	tg.mu.Unlock()
	if target != nil {
		target.kick()
	}
}

// takeSignal dequeues the lowest-numbered signal pending for t (thread-
// directed first, then process-directed) that t does not block, and
// returns it with its action, or 0.
func (tg *ThreadGroup) takeSignal(t *Task) (unix.Signal, SigAction) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	t.sigMu.Lock()
	defer t.sigMu.Unlock()
	for _, set := range []*SigSet{&t.pending, &tg.pending} {
		ready := *set &^ t.mask
		if ready == 0 {
			continue
		}
		sig := lowestSignal(ready)
		*set &^= SigBit(sig)
		return sig, tg.actions[sig-1]
	}
	return 0, SigAction{}
}

// hasDeliverable reports whether t has a pending signal it does not block.
func (tg *ThreadGroup) hasDeliverable(t *Task) bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	t.sigMu.Lock()
	defer t.sigMu.Unlock()
	return (t.pending|tg.pending)&^t.mask != 0
}

// lowestSignal returns the lowest signal in a non-empty set.
func lowestSignal(s SigSet) unix.Signal {
	for i := unix.Signal(1); i <= NumSignals; i++ {
		if s&SigBit(i) != 0 {
			return i
		}
	}
	return 0
}

// SendSignal sends a process-directed signal (kill(2)) to tg; 0 does
// nothing.
func (tg *ThreadGroup) SendSignal(sig unix.Signal) {
	if sig == 0 || !ValidSignal(sig) {
		return
	}
	tg.sendSignal(sig)
}
