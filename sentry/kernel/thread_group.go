package kernel

import (
	"sync"
	"sync/atomic"
	"time"

	"moat/sentry/fs/proc"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// ThreadGroup is a process: the tasks that share a PID, signal actions,
// limits, and its place in the process tree (parent, children, process
// group, session). Memory, files and file-system context belong to each
// task (they are usually shared by every thread of the group).
type ThreadGroup struct {
	k *Kernel
	// pid is fixed at creation.
	pid int32
	// exitSignal is sent to the parent when the process ends (SIGCHLD
	// for fork, the low byte of clone's flags otherwise; 0 for none).
	exitSignal unix.Signal
	// start is when the process was created, as time since boot
	// (/proc/[pid]/stat's starttime); fixed at creation.
	start time.Duration

	// The process tree, guarded by Kernel.mu (the kernel's tasklist lock):
	// parent is nil for the container's init (PPID 0).
	parent   *ThreadGroup
	children map[*ThreadGroup]struct{}
	pgid     int32
	sid      int32
	// zombie is set when every thread has ended and the process waits
	// for its parent to reap it; status is then final.
	zombie bool
	// waiters are tasks of this process blocked in wait4/waitid.
	waiters map[*Task]struct{}
	// execed is set by a successful execve (setpgid's EACCES rule).
	execed bool
	// lastUID is the real UID of the last thread, for wait's si_uid.
	lastUID uint32
	// exec describes the program the process runs, for /proc: set by
	// each successful exec (recordExec), inherited by fork.
	exec atomic.Pointer[proc.Exec]
	// realTimer is ITIMER_REAL (itimer.go), with a lock of its own.
	realTimer realTimer
	// exitWatch wakes pidfds when the last thread exits (exit_watch.go).
	exitWatch exitWatch
	// ctl is the process's prctl state (task_control.go).
	ctl processControl
	// timers holds the CPU accounting, CPU itimers and POSIX timers
	// (task_cputime.go, timer_*.go), with locks of their own.
	timers tgTimers
	// onExit, set before the process runs and fixed, is called with its
	// status when a process started by Spawn (no parent) ends.
	onExit func(ExitStatus)

	// mu guards the fields below and the tasks' membership; lock order:
	// Kernel.mu before ThreadGroup.mu before Task.sigMu.
	mu sync.Mutex
	// tasks are the live threads, the leader first.
	tasks []*Task
	// actions is indexed by signal-1.
	actions [NumSignals]SigAction
	// pending are the process-directed signals not yet taken by a
	// thread; pendingInfo their siginfo (one per standard signal).
	pending     SigSet
	pendingInfo [NumSignals]SigInfo
	umask       uint32
	rlimits     [NumRlimits]Rlimit
	// exiting is set by exit_group or a fatal signal: every task leaves
	// at its next trap and status is the group's.
	exiting bool
	status  ExitStatus
	// execer is the task running execve: the other threads must leave
	// (de_thread) without ending the process.
	execer *Task
	// Job control (job_control.go): a group stop in progress or in
	// effect, whether every thread has parked, the signal that stopped
	// the process, and the stop and continue not yet reported to wait.
	stopPending bool
	// stopping mirrors stopPending for doGroupStop's lock-free check on
	// every pass of every thread's run loop; written with it.
	stopping      atomic.Bool
	stopped       bool
	stopSig       unix.Signal
	waitStopped   bool
	waitContinued bool

	// sigQueue is notified when a signal is queued for the process or a
	// thread of it (signalfd); its lock is a leaf, taken after mu is
	// released.
	sigQueue vfs.WaitQueue
}

// PID returns the thread group's ID in the sandbox's PID namespace.
func (tg *ThreadGroup) PID() int32 { return tg.pid }

// PPID returns the parent's PID (0 for the container's init).
func (tg *ThreadGroup) PPID() int32 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	if tg.parent == nil {
		return 0
	}
	return tg.parent.pid
}

// PGID returns the process group ID.
func (tg *ThreadGroup) PGID() int32 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.pgid
}

// SID returns the session ID.
func (tg *ThreadGroup) SID() int32 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.sid
}

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
	if tg.exiting && tg.execer == nil {
		tg.mu.Unlock()
		return
	}
	// A kill during execve's de_thread wins over the exec.
	tg.exiting = true
	tg.execer = nil
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
// stays pending until the action changes or the mask does). A standard
// signal already pending is not queued twice.
func (tg *ThreadGroup) sendSignal(info SigInfo) {
	tg.notifyParentJobControl(tg.queueSignal(info))
}

// queueSignal is sendSignal without the parent's notification of a
// SIGCONT that ended a stop: it returns that notification, for the
// caller to send once it may take Kernel.mu (or with
// notifyParentJobControlLocked if it holds it).
func (tg *ThreadGroup) queueSignal(info SigInfo) (note jobNote) {
	sig := unix.Signal(info.Signo)
	tg.mu.Lock()
	if tg.exiting && tg.execer == nil {
		tg.mu.Unlock()
		return note
	}
	note = tg.prepareSignalLocked(sig)
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
	// A blocked signal is never discarded at generation, not even by
	// init (Linux's sig_ignored): sigtimedwait or a signalfd may take it.
	if !blockedEverywhere && (act.ignored(sig) || tg.initIgnoresLocked(sig, &info)) {
		tg.mu.Unlock()
		return note
	}
	if tg.pending&SigBit(sig) == 0 {
		tg.pending |= SigBit(sig)
		tg.pendingInfo[sig-1] = info
	}
	tg.mu.Unlock()
	if sig == unix.SIGKILL {
		// SIGKILL acts at once on every thread, whatever it blocks.
		tg.exitGroup(ExitStatus{Signal: sig})
		return note
	}
	tg.sigQueue.Notify(vfs.EventIn | vfs.EventRdNorm)
	if target != nil {
		target.kick()
	}
	return note
}

// takeSignal dequeues the lowest-numbered signal pending for t (thread-
// directed first, then process-directed) that t does not block, and
// returns its siginfo with its action; Signo is 0 when there is none.
func (tg *ThreadGroup) takeSignal(t *Task) (SigInfo, SigAction) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	t.sigMu.Lock()
	defer t.sigMu.Unlock()
	if ready := t.pending &^ t.mask; ready != 0 {
		sig := lowestSignal(ready)
		t.pending &^= SigBit(sig)
		return t.pendingInfo[sig-1], tg.actions[sig-1]
	}
	if ready := tg.pending &^ t.mask; ready != 0 {
		sig := lowestSignal(ready)
		tg.pending &^= SigBit(sig)
		return tg.pendingInfo[sig-1], tg.actions[sig-1]
	}
	return SigInfo{}, SigAction{}
}

// hasDeliverable reports whether t has a pending signal it does not
// block, or must park for a group stop (so blocking calls give up).
func (tg *ThreadGroup) hasDeliverable(t *Task) bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.stopPending && !t.stopParked {
		return true
	}
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

// SendSignal sends a process-directed signal (kill(2)) to tg from
// sender (nil: the sandbox itself, si_code SI_KERNEL); 0 does nothing.
func (tg *ThreadGroup) SendSignal(sig unix.Signal, sender *Task) {
	if sig == 0 || !ValidSignal(sig) {
		return
	}
	tg.sendSignal(userSigInfo(sig, SI_USER, sender))
}

// initIgnoresLocked reports whether the sandbox's init discards sig, as
// the init of a PID namespace does (SIGNAL_UNKILLABLE, man 7
// pid_namespaces): a signal whose action is the default is dropped, from
// inside the sandbox whatever it is (SIGKILL included), and from outside
// (the runtime's kill, info.outside) unless it is SIGKILL or SIGSTOP,
// which the ancestor namespace forces. Faults of its own are not filtered
// (forceSignal does not come here).
//
// Preconditions: tg.mu is locked.
func (tg *ThreadGroup) initIgnoresLocked(sig unix.Signal, info *SigInfo) bool {
	if tg.k == nil || tg != tg.k.init || tg.actions[sig-1].Handler != SIG_DFL {
		return false
	}
	return !info.outside || (sig != unix.SIGKILL && sig != unix.SIGSTOP)
}
