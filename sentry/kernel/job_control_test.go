package kernel

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// jobTask returns a one-thread process pid in process group pgid and
// session sid, registered in k, with parent p (nil: none).
func jobTask(k *Kernel, pid, pgid, sid int32, p *ThreadGroup) *Task {
	tg := &ThreadGroup{k: k, pid: pid, pgid: pgid, sid: sid, parent: p, exitSignal: unix.SIGCHLD,
		children: map[*ThreadGroup]struct{}{}, rlimits: defaultRlimits()}
	t := &Task{k: k, tg: tg, tid: pid, wake: make(chan struct{}, 1)}
	t.timer = time.NewTimer(time.Hour)
	t.timer.Stop()
	t.creds.Store(NewCredentials(0, 0, nil))
	tg.tasks = []*Task{t}
	k.groups[pid], k.tasks[pid] = tg, t
	if p != nil {
		p.children[tg] = struct{}{}
	}
	return t
}

// pendingChld takes the parent's pending SIGCHLD (0 code: none).
func pendingChld(p *Task) SigInfo {
	info, _ := p.DequeueSignal(SigBit(unix.SIGCHLD))
	return info
}

func TestGroupStopAndContinue(t *testing.T) {
	k := testKernel()
	parent := jobTask(k, 1, 1, 1, nil)
	k.init = parent.tg
	parent.mask = SigBit(unix.SIGCHLD) // queued although init ignores it
	child := jobTask(k, 2, 2, 1, parent.tg)

	child.tg.SendSignal(unix.SIGTSTP, parent)
	done := make(chan struct{})
	go func() {
		// Takes SIGTSTP, parks until SIGCONT.
		child.deliverSignals()
		close(done)
	}()
	res, err := parent.Wait(WaitRequest{Which: WaitPID, ID: 2, Options: WSTOPPED | WNOWAIT})
	if err != nil || res.Kind != WaitStopped || res.WaitStatus() != 0x147f {
		t.Fatalf("wait WSTOPPED|WNOWAIT = %+v, %v; want stopped by SIGTSTP (0x147f)", res, err)
	}
	if info := pendingChld(parent); info.Code != CLD_STOPPED || info.Status != int32(unix.SIGTSTP) || info.PID != 2 {
		t.Errorf("SIGCHLD = %+v, want CLD_STOPPED SIGTSTP from 2", info)
	}
	if s := child.procState(); s != 'T' {
		t.Errorf("state %c, want T", s)
	}
	if res, _ := parent.Wait(WaitRequest{Which: WaitPID, ID: 2, Options: WSTOPPED | WNOHANG}); res.Kind != WaitStopped {
		t.Errorf("WNOWAIT consumed the stop: %+v", res)
	}
	if res, _ := parent.Wait(WaitRequest{Which: WaitPID, ID: 2, Options: WSTOPPED | WNOHANG}); res.PID != 0 {
		t.Errorf("stop reported twice: %+v", res)
	}
	// A stop signal pending while stopped is discarded by SIGCONT.
	child.tg.SendSignal(unix.SIGSTOP, parent)
	child.tg.SendSignal(unix.SIGCONT, parent)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("SIGCONT did not resume the stopped thread")
	}
	if child.tg.Stopped() || child.tg.pending&stopSignals != 0 {
		t.Errorf("after SIGCONT: stopped %v, pending %#x", child.tg.Stopped(), child.tg.pending)
	}
	res, _ = parent.Wait(WaitRequest{Which: WaitPID, ID: 2, Options: WCONTINUED | WNOHANG})
	if res.Kind != WaitContinued || res.WaitStatus() != 0xffff || res.SigInfo().Code != CLD_CONTINUED {
		t.Errorf("wait WCONTINUED = %+v", res)
	}
	if info := pendingChld(parent); info.Code != CLD_CONTINUED || info.Status != int32(unix.SIGCONT) {
		t.Errorf("SIGCHLD = %+v, want CLD_CONTINUED", info)
	}
}

func TestTerminalStopDiscardedWhenOrphaned(t *testing.T) {
	k := testKernel()
	parent := jobTask(k, 1, 1, 1, nil)
	k.init = parent.tg
	// A session of its own: nobody in its session could continue it.
	child := jobTask(k, 2, 2, 2, parent.tg)
	child.tg.SendSignal(unix.SIGTTIN, parent)
	child.deliverSignals() // returns: the stop is discarded
	if child.tg.Stopped() {
		t.Error("SIGTTIN stopped a process of an orphaned group")
	}
}

func TestSigTimedWait(t *testing.T) {
	k := testKernel()
	p := jobTask(k, 1, 1, 1, nil)
	set := SigBit(unix.SIGUSR1)
	p.mask = set
	if _, err := p.SigTimedWait(set, time.Now()); err != unix.EAGAIN {
		t.Errorf("poll = %v, want EAGAIN", err)
	}
	go p.tg.SendSignal(unix.SIGUSR1, p)
	info, err := p.SigTimedWait(set, time.Now().Add(10*time.Second))
	if err != nil || info.Signo != int32(unix.SIGUSR1) {
		t.Errorf("wait = %+v, %v; want SIGUSR1", info, err)
	}
	if p.mask != set {
		t.Errorf("mask %#x not restored", p.mask)
	}
}
