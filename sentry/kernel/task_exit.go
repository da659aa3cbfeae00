package kernel

import (
	"time"

	"golang.org/x/sys/unix"

	"moat/sentry/mm"
)

// mmGet records one more task using m (CLONE_VM shares it).
func (k *Kernel) mmGet(m *mm.MemoryManager) {
	k.mmMu.Lock()
	k.mmUsers[m]++
	k.mmMu.Unlock()
}

// mmPut drops one user of m; the last one releases the address space.
func (k *Kernel) mmPut(m *mm.MemoryManager) {
	k.mmMu.Lock()
	k.mmUsers[m]--
	last := k.mmUsers[m] <= 0
	if last {
		delete(k.mmUsers, m)
	}
	k.mmMu.Unlock()
	if last {
		m.Release()
	}
}

// releaseMM does what the kernel's mm_release does when a task leaves an
// address space (exit or execve): clear and wake the CLONE_CHILD_CLEARTID
// word, which pthread_join waits on, and release a vfork parent.
func (t *Task) releaseMM() {
	if addr := t.clearChildTID; addr != 0 && t.mm != nil {
		t.clearChildTID = 0
		var zero [4]byte
		// Errors are ignored, as the kernel ignores a bad address here.
		if _, err := t.mm.CopyOut(addr, zero[:]); err == nil {
			t.k.futexes.wake(t.mm, addr, 1, futexBitsetAny)
		}
	}
	if t.vforkDone != nil {
		close(t.vforkDone)
		t.vforkDone = nil
	}
}

// taskGone unregisters a task whose goroutine is ending. The last task of
// a process ends the process: its children go to init, and it becomes a
// zombie for its parent to reap (or is reaped at once when the parent
// ignores SIGCHLD). When init's process is gone every other process is
// killed, and when no task is left Wait returns.
func (k *Kernel) taskGone(t *Task) {
	t.releaseMM()
	if t.mm != nil {
		k.mmPut(t.mm)
	}
	if t.fds != nil {
		t.fds.decUsers()
	}

	t.retireCPU()
	tg := t.tg
	tg.mu.Lock()
	for i, o := range tg.tasks {
		if o == t {
			tg.tasks = append(tg.tasks[:i], tg.tasks[i+1:]...)
			break
		}
	}
	last := len(tg.tasks) == 0
	if last && !tg.exiting {
		// The last thread left by exit(2): its code is the process's.
		tg.exiting = true
		tg.status = ExitStatus{Code: t.exitCode}
	}
	status := tg.status
	execer := tg.execer
	tg.mu.Unlock()
	if !last {
		// A group stop may have waited for this thread only.
		tg.threadLeftStop(t)
	}

	k.mu.Lock()
	if k.tasks[t.tid] == t {
		// (An execve may have given the TID to the thread that ran it.)
		delete(k.tasks, t.tid)
	}
	var others []*ThreadGroup
	var orphans []int32
	var onExit func(ExitStatus)
	if last {
		if tg == k.init {
			delete(k.groups, tg.pid)
			k.initDone = true
			k.initStatus = status
			for _, o := range k.groups {
				if !o.zombie {
					others = append(others, o)
				}
			}
		} else {
			children := make([]*ThreadGroup, 0, len(tg.children))
			for c := range tg.children {
				children = append(children, c)
			}
			k.reparentLocked(tg)
			k.notifyParentLocked(tg, status, t.Credentials().RealUID, t.startFailed)
			orphans = k.orphanedStoppedGroupsLocked(tg, children)
			onExit = tg.onExit
		}
	}
	allGone := k.initDone && len(k.tasks) == 0
	k.mu.Unlock()
	if last {
		tg.exitWatch.fire()
		k.sessionLeaderExited(tg)
	}

	// Process groups this exit orphaned with stopped members get SIGHUP
	// and SIGCONT.
	k.hangUpOrphans(orphans)
	if execer != nil {
		// An execve waits for the other threads to be gone.
		execer.notify()
	}
	// The container's init is gone: like the kernel tearing down a PID
	// namespace, every remaining process is killed.
	for _, o := range others {
		o.exitGroup(ExitStatus{Signal: unix.SIGKILL})
	}
	if onExit != nil {
		// Before done closes: whoever waits for a spawned process hears
		// of its end before the sandbox's.
		onExit(status)
	}
	if allGone {
		close(k.done)
	}
}

// reparentLocked hands the children of a dying process to init (the
// sandbox's child reaper), as zombies or live.
//
// Preconditions: k.mu is locked.
func (k *Kernel) reparentLocked(tg *ThreadGroup) {
	// The nearest PR_SET_CHILD_SUBREAPER ancestor, else init.
	reaper := k.childReaperLocked(tg)
	for c := range tg.children {
		delete(tg.children, c)
		c.parent = reaper
		if !c.zombie {
			k.sendPdeathSigLocked(tg, c)
		}
		if reaper == nil {
			if c.zombie {
				delete(k.groups, c.pid)
			}
			continue
		}
		reaper.children[c] = struct{}{}
		if c.zombie {
			// init may have to reap an orphaned zombie: wake its waiters.
			reaper.wakeWaitersLocked()
			if reaper.autoReaps() {
				k.reapLocked(c)
			}
		}
	}
}

// notifyParentLocked ends process tg: it becomes a zombie its parent can
// wait for, and the parent gets tg's exit signal, unless the parent has
// SIGCHLD ignored or SA_NOCLDWAIT set (then tg is reaped at once).
//
// Preconditions: k.mu is locked.
func (k *Kernel) notifyParentLocked(tg *ThreadGroup, status ExitStatus, uid uint32, silent bool) {
	tg.zombie = true
	tg.lastUID = uid
	// Timers die with the process: no SIGALRM for a zombie.
	tg.stopRealTimer()
	tg.stopTimers()
	p := tg.parent
	if p == nil || silent {
		k.reapLocked(tg)
		return
	}
	if tg.exitSignal != 0 && !silent {
		info := SigInfo{Signo: int32(tg.exitSignal), PID: tg.pid, Code: CLD_EXITED, Status: int32(status.Code)}
		if status.Signal != 0 {
			info.Code, info.Status = CLD_KILLED, int32(status.Signal)
		}
		info.UID = uid
		p.notifyParentJobControlLocked(p.queueSignal(info))
	}
	if tg.exitSignal == unix.SIGCHLD && p.autoReaps() {
		k.reapLocked(tg)
	}
	p.wakeWaitersLocked()
}

// autoReaps reports whether children of tg are reaped without a wait:
// SIGCHLD set to SIG_IGN, or SA_NOCLDWAIT.
func (tg *ThreadGroup) autoReaps() bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	a := tg.actions[unix.SIGCHLD-1]
	return a.Handler == SIG_IGN || a.Flags&SA_NOCLDWAIT != 0
}

// reapLocked removes zombie tg for good: its PID is free again.
//
// Preconditions: k.mu is locked.
func (k *Kernel) reapLocked(tg *ThreadGroup) {
	if tg.parent != nil {
		delete(tg.parent.children, tg)
	}
	delete(k.groups, tg.pid)
}

// wakeWaitersLocked wakes every task of tg blocked in wait.
//
// Preconditions: k.mu is locked.
func (tg *ThreadGroup) wakeWaitersLocked() {
	for w := range tg.waiters {
		w.notify()
	}
}

// notify wakes the task if it sleeps in the sentry, without interrupting
// a running application (futex and wait wake-ups).
func (t *Task) notify() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Wait options (wait4, waitid) the sentry interprets.
const (
	WNOHANG    = 0x1
	WUNTRACED  = 0x2
	WSTOPPED   = 0x2
	WEXITED    = 0x4
	WCONTINUED = 0x8
	WNOWAIT    = 0x1000000
	WNOTHREAD  = 0x20000000
	WALL       = 0x40000000
	WCLONE     = 0x80000000
)

// What a wait selects (WaitRequest.Which).
const (
	// WaitAny: any child.
	WaitAny = iota
	// WaitPID: the child whose PID is ID.
	WaitPID
	// WaitPGID: any child in process group ID.
	WaitPGID
)

// WaitRequest says which children a wait is for, and the W* options.
type WaitRequest struct {
	Which   int
	ID      int32
	Options uint32
}

// WaitRequestForPID decodes wait4's pid: > 0 that child, -1 any child,
// 0 the caller's process group, < -1 process group -pid.
func (t *Task) WaitRequestForPID(pid int32, options uint32) WaitRequest {
	switch {
	case pid > 0:
		return WaitRequest{Which: WaitPID, ID: pid, Options: options}
	case pid == -1:
		return WaitRequest{Which: WaitAny, Options: options}
	case pid == 0:
		return WaitRequest{Which: WaitPGID, ID: t.tg.PGID(), Options: options}
	}
	return WaitRequest{Which: WaitPGID, ID: -pid, Options: options}
}

// What a wait reports about a child (WaitResult.Kind).
const (
	// WaitExited: the child ended (Status).
	WaitExited = iota
	// WaitStopped: the child stopped with signal Stop (WUNTRACED).
	WaitStopped
	// WaitContinued: SIGCONT resumed the child (WCONTINUED).
	WaitContinued
)

// WaitResult is a reaped (or, with WNOWAIT, peeked at) child, or one
// that stopped or continued.
type WaitResult struct {
	PID    int32
	UID    uint32
	Kind   int
	Status ExitStatus
	// Stop is the signal that stopped the child (WaitStopped).
	Stop unix.Signal
}

// WaitStatus encodes the result the way wait4's *wstatus holds it:
// exit code or signal, 0x7f | sig<<8 for a stop, 0xffff for a continue.
func (r WaitResult) WaitStatus() uint32 {
	switch r.Kind {
	case WaitStopped:
		return 0x7f | uint32(r.Stop)<<8
	case WaitContinued:
		return 0xffff
	}
	return r.Status.WaitStatus()
}

// SigInfo is the siginfo_t waitid fills in for the result (all zero
// for no child, WNOHANG).
func (r WaitResult) SigInfo() SigInfo {
	if r.PID == 0 {
		return SigInfo{}
	}
	info := SigInfo{Signo: int32(unix.SIGCHLD), PID: r.PID, UID: r.UID}
	switch {
	case r.Kind == WaitStopped:
		info.Code, info.Status = CLD_STOPPED, int32(r.Stop)
	case r.Kind == WaitContinued:
		info.Code, info.Status = CLD_CONTINUED, int32(unix.SIGCONT)
	case r.Status.Signal != 0:
		info.Code, info.Status = CLD_KILLED, int32(r.Status.Signal)
	default:
		info.Code, info.Status = CLD_EXITED, int32(r.Status.Code)
	}
	return info
}

// WaitStatus encodes s the way wait4's *wstatus holds it.
func (s ExitStatus) WaitStatus() uint32 {
	if s.Signal != 0 {
		return uint32(s.Signal) & 0x7f
	}
	return uint32(s.Code&0xff) << 8
}

// Wait implements wait4 and waitid: a child that exited (WEXITED, reaped
// unless WNOWAIT), stopped (WSTOPPED/WUNTRACED) or continued
// (WCONTINUED), each stop and continue reported once unless WNOWAIT. It
// returns the child, or a zero result with WNOHANG when none is ready;
// ECHILD when no child matches; ERESTARTSYS when a signal interrupts the
// wait.
func (t *Task) Wait(req WaitRequest) (WaitResult, error) {
	k := t.k
	tg := t.tg
	for {
		k.mu.Lock()
		res, found, any := k.findZombieLocked(tg, req)
		if found && res.kind != WaitExited {
			k.mu.Unlock()
			return res.result, nil
		}
		if found {
			if req.Options&WNOWAIT == 0 {
				k.reapLocked(res.tg)
				tg.addChildCPU(res.tg)
			}
			k.mu.Unlock()
			return WaitResult{PID: res.tg.pid, UID: res.uid, Status: res.tg.status}, nil
		}
		if !any {
			k.mu.Unlock()
			return WaitResult{}, unix.ECHILD
		}
		if req.Options&WNOHANG != 0 {
			k.mu.Unlock()
			return WaitResult{}, nil
		}
		if tg.waiters == nil {
			tg.waiters = map[*Task]struct{}{}
		}
		tg.waiters[t] = struct{}{}
		k.mu.Unlock()
		err := t.sleep()
		k.mu.Lock()
		delete(tg.waiters, t)
		k.mu.Unlock()
		if err != nil {
			return WaitResult{}, ERESTARTSYS
		}
	}
}

// zombieMatch is a child a wait found: an exited one (tg, uid) or, for
// another kind, the result to report (already consumed unless WNOWAIT).
type zombieMatch struct {
	tg     *ThreadGroup
	uid    uint32
	kind   int
	result WaitResult
}

// findZombieLocked looks for a child of tg matching req that exited, or
// stopped or continued when req asks for those (Linux's
// wait_consider_task order). any reports whether some child matches at
// all.
//
// Preconditions: k.mu is locked.
func (k *Kernel) findZombieLocked(tg *ThreadGroup, req WaitRequest) (m zombieMatch, found, any bool) {
	for c := range tg.children {
		if !waitMatches(c, req) {
			continue
		}
		any = true
		if c.zombie {
			if req.Options&WEXITED != 0 {
				return zombieMatch{tg: c, uid: c.lastUID}, true, true
			}
			continue
		}
		if r, ok := c.jobControlWaitLocked(req.Options); ok {
			return zombieMatch{tg: c, kind: r.Kind, result: r}, true, true
		}
	}
	return zombieMatch{}, false, any
}

// jobControlWaitLocked reports a stop (WSTOPPED) or continue
// (WCONTINUED) of c not yet waited for, and consumes it unless WNOWAIT.
//
// Preconditions: c.k.mu is locked.
func (c *ThreadGroup) jobControlWaitLocked(options uint32) (WaitResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var uid uint32
	if len(c.tasks) > 0 {
		uid = c.tasks[0].Credentials().RealUID
	}
	consume := options&WNOWAIT == 0
	if options&WSTOPPED != 0 && c.waitStopped && c.stopped {
		if consume {
			c.waitStopped = false
		}
		return WaitResult{PID: c.pid, UID: uid, Kind: WaitStopped, Stop: c.stopSig}, true
	}
	if options&WCONTINUED != 0 && c.waitContinued {
		if consume {
			c.waitContinued = false
		}
		return WaitResult{PID: c.pid, UID: uid, Kind: WaitContinued}, true
	}
	return WaitResult{}, false
}

// waitMatches applies wait's pid and __WCLONE/__WALL selection to child c.
func waitMatches(c *ThreadGroup, req WaitRequest) bool {
	switch req.Which {
	case WaitPID:
		if c.pid != req.ID {
			return false
		}
	case WaitPGID:
		if c.pgid != req.ID {
			return false
		}
	}
	if req.Options&WALL != 0 {
		return true
	}
	// A "clone" child is one that does not signal SIGCHLD at exit.
	clone := c.exitSignal != unix.SIGCHLD
	return clone == (req.Options&WCLONE != 0)
}

// sleep blocks until the task is notified (nil) or must give up for a
// signal or an exit (EINTR). Callers recheck their condition on nil:
// wake-ups may be spurious.
func (t *Task) sleep() error { return t.sleepUntil(time.Time{}) }
