package kernel

import (
	"golang.org/x/sys/unix"

	"moat/sentry/vfs"
)

// Job control (signal(7)): a stop signal taken with its default action
// stops every thread of the process (a "group stop"); SIGCONT resumes it.
// The state lives in the ThreadGroup under its mu:
//
//   - stopPending: a group stop is in progress or in effect; every thread
//     parks at its next stop point (the top of its run loop, where
//     deliverSignals runs) and blocking calls give up (hasDeliverable),
//     so a thread asleep in a system call stops once the call returns or
//     is interrupted with a restart code.
//   - Task.stopParked: the thread has parked for the current stop.
//   - stopped: every thread has parked; the parent was told (SIGCHLD,
//     CLD_STOPPED) and waitStopped is set for wait(WUNTRACED).
//   - waitContinued: a SIGCONT ended a stop and wait(WCONTINUED) has not
//     reported it yet.

// SIGCHLD si_code values of job control (asm-generic/siginfo.h).
const (
	CLD_TRAPPED   = 4
	CLD_STOPPED   = 5
	CLD_CONTINUED = 6
)

// stopSignals are the signals whose default action stops the process.
var stopSignals = SigBit(unix.SIGSTOP) | SigBit(unix.SIGTSTP) | SigBit(unix.SIGTTIN) | SigBit(unix.SIGTTOU)

// jobNote is a SIGCHLD owed to a parent for a stop or a continue: code
// CLD_STOPPED (status sig) or CLD_CONTINUED; code 0 means none.
type jobNote struct {
	code int32
	sig  unix.Signal
	uid  uint32
}

// prepareSignalLocked applies the side effects a signal has when it is
// generated, whatever its action and mask (Linux's prepare_signal): a
// stop signal discards pending SIGCONTs; SIGCONT discards pending stop
// signals and ends a group stop, in progress or in effect. It returns the
// SIGCHLD the parent is owed, to be sent with notifyParentJobControl once
// tg.mu is released.
//
// Preconditions: tg.mu is locked.
func (tg *ThreadGroup) prepareSignalLocked(sig unix.Signal) jobNote {
	if tg.exiting {
		return jobNote{}
	}
	switch {
	case stopSignals&SigBit(sig) != 0:
		tg.discardPendingLocked(SigBit(unix.SIGCONT))
	case sig == unix.SIGCONT:
		tg.discardPendingLocked(stopSignals)
		if !tg.stopPending {
			return jobNote{}
		}
		// A stop cut short is reported as a stop, as Linux does.
		note := jobNote{code: CLD_STOPPED, sig: tg.stopSig}
		if tg.stopped {
			note = jobNote{code: CLD_CONTINUED, sig: unix.SIGCONT}
		}
		if len(tg.tasks) > 0 {
			note.uid = tg.tasks[0].Credentials().RealUID
		}
		tg.stopPending, tg.stopped, tg.waitStopped = false, false, false
		tg.stopping.Store(false)
		tg.waitContinued = true
		for _, t := range tg.tasks {
			t.stopParked = false
			t.notify()
		}
		return note
	}
	return jobNote{}
}

// discardPendingLocked removes the signals of set from the process's and
// every thread's pending sets.
//
// Preconditions: tg.mu is locked.
func (tg *ThreadGroup) discardPendingLocked(set SigSet) {
	tg.pending &^= set
	for _, t := range tg.tasks {
		t.sigMu.Lock()
		t.pending &^= set
		t.sigMu.Unlock()
	}
}

// notifyParentJobControl tells tg's parent that tg stopped or continued
// (note.code 0 does nothing): SIGCHLD unless the parent set
// SA_NOCLDSTOP, and a wake-up of its waits in any case. No lock may be
// held.
func (tg *ThreadGroup) notifyParentJobControl(note jobNote) {
	if note.code == 0 || tg.k == nil {
		return
	}
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	tg.notifyParentJobControlLocked(note)
}

// notifyParentJobControlLocked is notifyParentJobControl under k.mu.
//
// Preconditions: tg.k.mu is locked.
func (tg *ThreadGroup) notifyParentJobControlLocked(note jobNote) {
	p := tg.parent
	if note.code == 0 || p == nil || tg.zombie {
		return
	}
	if p.SigAction(unix.SIGCHLD).Flags&SA_NOCLDSTOP == 0 {
		// The parent's own notification cannot be owed here: SIGCHLD
		// neither stops nor continues.
		p.queueSignal(SigInfo{Signo: int32(unix.SIGCHLD), Code: note.code, PID: tg.pid, UID: note.uid, Status: int32(note.sig)})
	}
	p.wakeWaitersLocked()
}

// startGroupStop begins a group stop for sig, which t took with its
// default action; a stop already under way is joined instead. Every
// other thread is kicked towards its stop point.
func (t *Task) startGroupStop(sig unix.Signal) {
	tg := t.tg
	tg.mu.Lock()
	if tg.exiting || tg.stopPending {
		tg.mu.Unlock()
		return
	}
	tg.stopPending, tg.stopped, tg.stopSig = true, false, sig
	tg.stopping.Store(true)
	tg.waitContinued = false
	others := make([]*Task, 0, len(tg.tasks))
	for _, o := range tg.tasks {
		o.stopParked = false
		if o != t {
			others = append(others, o)
		}
	}
	tg.mu.Unlock()
	for _, o := range others {
		o.kick()
	}
}

// doGroupStop parks the task while a group stop is pending: it counts
// itself as stopped (the last thread to do so tells the parent) and
// sleeps until SIGCONT ends the stop or the process must exit (SIGKILL
// wakes a stopped process).
func (t *Task) doGroupStop() {
	tg := t.tg
	// The common case, no stop, without the process's lock: a stop
	// that starts after this load kicks the thread, whose next pass
	// through the run loop comes back here.
	if !tg.stopping.Load() {
		return
	}
	for {
		tg.mu.Lock()
		if !tg.stopPending || (tg.exiting && tg.execer != t) || t.exited {
			tg.mu.Unlock()
			return
		}
		var note jobNote
		if !t.stopParked {
			t.stopParked = true
			note = tg.stopCompleteLocked(t)
		}
		tg.mu.Unlock()
		tg.notifyParentJobControl(note)
		<-t.wake
	}
}

// stopCompleteLocked marks the stop as in effect once every live thread
// has parked, and returns the parent's CLD_STOPPED notification then
// (none before, or when it was already complete); t is the thread that
// completes it.
//
// Preconditions: tg.mu is locked.
func (tg *ThreadGroup) stopCompleteLocked(t *Task) jobNote {
	if !tg.stopPending || tg.stopped {
		return jobNote{}
	}
	for _, o := range tg.tasks {
		if !o.stopParked {
			return jobNote{}
		}
	}
	tg.stopped, tg.waitStopped = true, true
	return jobNote{code: CLD_STOPPED, sig: tg.stopSig, uid: t.Credentials().RealUID}
}

// threadLeftStop is called when t leaves the group while a stop may be
// pending: the stop may now be complete. No lock may be held.
func (tg *ThreadGroup) threadLeftStop(t *Task) {
	tg.mu.Lock()
	note := tg.stopCompleteLocked(t)
	tg.mu.Unlock()
	tg.notifyParentJobControl(note)
}

// Stopped reports whether the process is stopped by a group stop (for
// /proc's state 'T').
func (tg *ThreadGroup) Stopped() bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.stopPending && tg.stopped
}

// procState is the task's /proc state letter: 'T' while parked by a
// group stop, 'S' otherwise (the sentry does not tell running threads
// from sleeping ones).
func (t *Task) procState() byte {
	tg := t.tg
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.stopPending && t.stopParked {
		return 'T'
	}
	return 'S'
}

// pgrpOrphanedLocked is Linux's will_become_orphaned_pgrp: process group
// pgid is orphaned when no live member other than ignore has a parent in
// another group of the same session. A member whose parent is outside
// the sandbox (the container's init) does not keep its group attached,
// as for a container whose runtime runs in another session.
//
// Preconditions: k.mu is locked.
func (k *Kernel) pgrpOrphanedLocked(pgid int32, ignore *ThreadGroup) bool {
	for _, g := range k.groups {
		if g.pgid != pgid || g == ignore || g.zombie {
			continue
		}
		p := g.parent
		if p == nil || p.pgid == pgid {
			continue
		}
		if p.sid == g.sid {
			return false
		}
	}
	return true
}

// pgrpHasStoppedLocked reports whether a live member of pgid is stopped.
//
// Preconditions: k.mu is locked.
func (k *Kernel) pgrpHasStoppedLocked(pgid int32) bool {
	for _, g := range k.groups {
		if g.pgid == pgid && !g.zombie && g.Stopped() {
			return true
		}
	}
	return false
}

// currentPgrpOrphaned is is_current_pgrp_orphaned for t's process.
func (t *Task) currentPgrpOrphaned() bool {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.pgrpOrphanedLocked(t.tg.pgid, nil)
}

// orphanedStoppedGroupsLocked returns the process groups that tg's exit
// orphans while they hold a stopped member (kill_orphaned_pgrp): its own
// group and its children's. Called once tg is a zombie and its children
// are reparented; they get SIGHUP then SIGCONT from hangUpOrphans.
//
// Preconditions: k.mu is locked.
func (k *Kernel) orphanedStoppedGroupsLocked(tg *ThreadGroup, children []*ThreadGroup) []int32 {
	var out []int32
	add := func(pgid int32) {
		for _, o := range out {
			if o == pgid {
				return
			}
		}
		if k.pgrpOrphanedLocked(pgid, tg) && k.pgrpHasStoppedLocked(pgid) {
			out = append(out, pgid)
		}
	}
	if p := tg.parent; p != nil && p.pgid != tg.pgid && p.sid == tg.sid {
		add(tg.pgid)
	}
	for _, c := range children {
		if c.pgid != tg.pgid && c.sid == tg.sid && !c.zombie {
			add(c.pgid)
		}
	}
	return out
}

// hangUpOrphans sends SIGHUP and then SIGCONT, from the kernel, to every
// process of each group. No lock may be held.
func (k *Kernel) hangUpOrphans(pgids []int32) {
	for _, pgid := range pgids {
		for _, g := range k.ProcessGroup(pgid) {
			g.sendSignal(SigInfo{Signo: int32(unix.SIGHUP), Code: SI_KERNEL})
			g.sendSignal(SigInfo{Signo: int32(unix.SIGCONT), Code: SI_KERNEL})
		}
	}
}

// SignalQueue is the wait queue notified (EventIn) whenever a signal is
// queued for the process or one of its threads: signalfd waits on it.
func (tg *ThreadGroup) SignalQueue() *vfs.WaitQueue { return &tg.sigQueue }

// initIgnores is initIgnoresLocked taking tg.mu.
func (tg *ThreadGroup) initIgnores(sig unix.Signal, info *SigInfo) bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.initIgnoresLocked(sig, info)
}
