package kernel

import (
	"testing"

	"golang.org/x/sys/unix"
)

// permTask returns a task in its own process (pid) and session (sid)
// with the given credentials.
func permTask(k *Kernel, pid, sid int32, c *Credentials) *Task {
	tg := &ThreadGroup{k: k, pid: pid, sid: sid, rlimits: defaultRlimits()}
	task := &Task{k: k, tg: tg, tid: pid, wake: make(chan struct{}, 1)}
	task.creds.Store(c)
	tg.tasks = []*Task{task}
	return task
}

func TestMaySignal(t *testing.T) {
	k := testKernel()
	root := NewCredentials(0, 0, nil)
	user := NewCredentials(1000, 1000, nil)
	other := NewCredentials(1001, 1001, nil)
	// setuid program run by 1000: real 1000, effective and saved 0.
	suid := &Credentials{RealUID: 1000, EffectiveUID: 0, SavedUID: 0, FSUID: 0}
	// a daemon that dropped to 1001 but keeps saved uid 1000.
	saved := &Credentials{RealUID: 1001, EffectiveUID: 1001, SavedUID: 1000, FSUID: 1001}

	rootDaemon := permTask(k, 10, 10, root)
	userProc := permTask(k, 11, 11, user)
	sameSession := permTask(k, 12, 10, other)
	cases := []struct {
		name           string
		sender, target *Task
		sig            unix.Signal
		want           bool
	}{
		{"user kills root daemon", userProc, rootDaemon, unix.SIGKILL, false},
		{"user probes root daemon", userProc, rootDaemon, 0, false},
		{"root kills user", rootDaemon, userProc, unix.SIGKILL, true},
		{"same uid", permTask(k, 13, 13, user), userProc, unix.SIGTERM, true},
		{"other uid", permTask(k, 14, 14, other), userProc, unix.SIGTERM, false},
		{"real uid matches setuid target", userProc, permTask(k, 15, 15, suid), unix.SIGTERM, true},
		{"sender's effective vs target's saved", permTask(k, 16, 16, user), permTask(k, 17, 17, saved), unix.SIGTERM, true},
		{"SIGCONT within the session", sameSession, rootDaemon, unix.SIGCONT, true},
		{"SIGCONT outside the session", userProc, rootDaemon, unix.SIGCONT, false},
		{"own process", userProc, userProc, unix.SIGKILL, true},
		{"the runtime", nil, rootDaemon, unix.SIGKILL, true},
	}
	for _, c := range cases {
		if got := c.target.MaySignal(c.sender, c.sig); got != c.want {
			t.Errorf("%s: Task.MaySignal = %v, want %v", c.name, got, c.want)
		}
		if got := c.target.tg.MaySignal(c.sender, c.sig); got != c.want {
			t.Errorf("%s: ThreadGroup.MaySignal = %v, want %v", c.name, got, c.want)
		}
	}
	// CAP_KILL is enough without a matching uid.
	capKill := NewCredentials(1001, 1001, nil)
	capKill.Effective = 1 << CapKill
	if !rootDaemon.MaySignal(permTask(k, 20, 20, capKill), unix.SIGKILL) {
		t.Errorf("CAP_KILL holder refused")
	}
}
