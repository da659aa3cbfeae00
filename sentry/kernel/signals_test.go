package kernel

import (
	"testing"

	"golang.org/x/sys/unix"
)

func newTestGroup() (*ThreadGroup, *Task) {
	tg := &ThreadGroup{pid: 1, rlimits: defaultRlimits()}
	t := &Task{tg: tg, tid: 1, wake: make(chan struct{}, 1)}
	tg.tasks = []*Task{t}
	return tg, t
}

func TestSetSigActionChecks(t *testing.T) {
	tg, _ := newTestGroup()
	handler := &SigAction{Handler: 0x1000}
	cases := []struct {
		sig  unix.Signal
		act  *SigAction
		want error
	}{
		{unix.SIGKILL, handler, unix.EINVAL},
		{unix.SIGSTOP, &SigAction{Handler: SIG_IGN}, unix.EINVAL},
		{unix.SIGKILL, nil, nil}, // reading is allowed
		{0, nil, unix.EINVAL},
		{65, handler, unix.EINVAL},
		{unix.SIGUSR1, handler, nil},
		{64, handler, nil},
	}
	for _, c := range cases {
		if _, err := tg.SetSigAction(c.sig, c.act); err != c.want {
			t.Errorf("SetSigAction(%d, %v) = %v, want %v", c.sig, c.act, err, c.want)
		}
	}
	// The stored mask never holds SIGKILL/SIGSTOP.
	tg.SetSigAction(unix.SIGUSR2, &SigAction{Handler: 0x1000, Mask: ^SigSet(0)})
	if m := tg.SigAction(unix.SIGUSR2).Mask; m&unblockable != 0 {
		t.Errorf("sa_mask kept unblockable signals: %#x", m)
	}
	old, _ := tg.SetSigAction(unix.SIGUSR1, nil)
	if old.Handler != 0x1000 {
		t.Errorf("old action = %+v", old)
	}
}

func TestSignalMask(t *testing.T) {
	_, task := newTestGroup()
	all := ^SigSet(0)
	if _, err := task.SetSignalMask(SIG_BLOCK, &all); err != nil {
		t.Fatal(err)
	}
	if m := task.SignalMask(); m&unblockable != 0 || m != all&^unblockable {
		t.Errorf("mask after blocking all = %#x", m)
	}
	usr1 := SigBit(unix.SIGUSR1)
	task.SetSignalMask(SIG_UNBLOCK, &usr1)
	if task.SignalMask()&usr1 != 0 {
		t.Error("SIGUSR1 still blocked")
	}
	if _, err := task.SetSignalMask(7, &usr1); err != unix.EINVAL {
		t.Errorf("bad how: %v", err)
	}
	task.SetSignalMask(SIG_SETMASK, &usr1)
	if task.SignalMask() != usr1 {
		t.Errorf("SETMASK: %#x", task.SignalMask())
	}
}

func TestSignalDelivery(t *testing.T) {
	tg, task := newTestGroup()
	// An ignored signal is discarded at generation.
	tg.SetSigAction(unix.SIGUSR1, &SigAction{Handler: SIG_IGN})
	tg.sendSignal(SigInfo{Signo: int32(unix.SIGUSR1)})
	if tg.hasDeliverable(task) {
		t.Error("ignored SIGUSR1 is pending")
	}
	// Default-ignore signals too.
	tg.sendSignal(SigInfo{Signo: int32(unix.SIGCHLD)})
	if tg.hasDeliverable(task) {
		t.Error("SIGCHLD with SIG_DFL is pending")
	}
	// A blocked signal stays pending until unblocked.
	term := SigBit(unix.SIGTERM)
	task.SetSignalMask(SIG_BLOCK, &term)
	tg.sendSignal(SigInfo{Signo: int32(unix.SIGTERM)})
	if tg.hasDeliverable(task) {
		t.Error("blocked SIGTERM is deliverable")
	}
	task.SetSignalMask(SIG_UNBLOCK, &term)
	info, _ := tg.takeSignal(task)
	if unix.Signal(info.Signo) != unix.SIGTERM {
		t.Errorf("took %v, want SIGTERM", info.Signo)
	}
	// deliverSignals ends the group with a fatal default signal.
	tg.sendSignal(SigInfo{Signo: int32(unix.SIGINT)})
	task.k = &Kernel{warned: map[string]bool{}}
	task.deliverSignals()
	if !tg.exiting || tg.status.Signal != unix.SIGINT {
		t.Errorf("after SIGINT: exiting=%v status=%+v", tg.exiting, tg.status)
	}
}

func TestRlimits(t *testing.T) {
	tg, _ := newTestGroup()
	cases := []struct {
		res  int
		nl   Rlimit
		priv bool
		want error
	}{
		{unix.RLIMIT_NOFILE, Rlimit{2048, 4096}, false, nil},
		{unix.RLIMIT_NOFILE, Rlimit{4097, 4096}, false, unix.EINVAL},
		{unix.RLIMIT_NOFILE, Rlimit{100, 8192}, false, unix.EPERM},
		{unix.RLIMIT_NOFILE, Rlimit{100, 8192}, true, nil},
		{unix.RLIMIT_NOFILE, Rlimit{100, maxFDs + 1}, true, unix.EPERM},
		{NumRlimits, Rlimit{}, true, unix.EINVAL},
	}
	for _, c := range cases {
		if _, err := tg.SetRlimit(c.res, c.nl, c.priv); err != c.want {
			t.Errorf("SetRlimit(%d, %+v, %v) = %v, want %v", c.res, c.nl, c.priv, err, c.want)
		}
	}
	if r, _ := tg.Rlimit(unix.RLIMIT_STACK); r.Cur != 8<<20 {
		t.Errorf("RLIMIT_STACK = %+v", r)
	}
}
