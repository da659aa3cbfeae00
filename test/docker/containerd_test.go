//go:build docker

package docker

import (
	"strings"
	"testing"
	"time"

	"moat/test/harness"
)

// ctrRun is `ctr run` with moat as the runc shim's binary.
func (e *environment) ctrRun(flags []string, id string, args ...string) harness.Result {
	all := append([]string{"run", "--runtime", "io.containerd.runc.v2", "--runc-binary", e.moat}, flags...)
	all = append(all, ctrImage, id)
	return e.ctr(append(all, args...)...)
}

func TestContainerdRun(t *testing.T) {
	e := needEnv(t)
	for _, c := range []struct {
		name   string
		args   []string
		stdout string
		stderr string
		exit   int
	}{
		{name: "echo", args: []string{"echo", "hi"}, stdout: "hi\n"},
		{name: "exit code", args: []string{"sh", "-c", "exit 5"}, exit: 5},
		{name: "stderr", args: []string{"sh", "-c", "echo err >&2"}, stderr: "err\n"},
		// ctr shows the "msg" of the last line of moat's log.json.
		{name: "no such program", args: []string{"/nonexistent"}, exit: 1, stderr: `OCI runtime create failed: exec: "/nonexistent": no such file or directory`},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			id := "moat-" + strings.ReplaceAll(c.name, " ", "-")
			defer e.ctr("container", "rm", id)
			r := e.ctrRun([]string{"--rm"}, id, c.args...)
			if r.Exit != c.exit || r.Stdout != c.stdout || !strings.Contains(r.Stderr, c.stderr) {
				t.Errorf("ctr run %v: want exit %d, stdout %q, stderr with %q; got %v", c.args, c.exit, c.stdout, c.stderr, r)
			}
		})
	}
}

// TestContainerdLifecycle: run -d, task ps, exec, pause/resume, kill TERM
// (ignored by a handler-less init), kill KILL, delete.
func TestContainerdLifecycle(t *testing.T) {
	e := needEnv(t)
	const id = "moat-lifecycle"
	defer e.ctr("container", "rm", id)
	defer e.ctr("task", "delete", "--force", id)
	if r := e.ctrRun([]string{"-d"}, id, "sleep", "1000"); r.Exit != 0 {
		t.Fatalf("ctr run -d: %v", r)
	}
	if st := e.taskStatus(t, id); st != "RUNNING" {
		t.Fatalf("after run -d: task %s", st)
	}
	if r := e.ctr("task", "ps", id); r.Exit != 0 || len(strings.Fields(r.Stdout)) < 4 {
		t.Errorf("ctr task ps: want the sandbox's processes, got %v", r)
	}
	if r := e.ctr("task", "exec", "--exec-id", "x", id, "sh", "-c", "echo hi; exit 3"); r.Exit != 3 || r.Stdout != "hi\n" {
		t.Errorf("ctr task exec: want hi and exit 3, got %v", r)
	}
	if r := e.ctr("task", "pause", id); r.Exit != 0 {
		t.Errorf("ctr task pause: %v", r)
	} else if st := e.taskStatus(t, id); st != "PAUSED" {
		t.Errorf("after pause: task %s, want PAUSED", st)
	}
	if r := e.ctr("task", "resume", id); r.Exit != 0 {
		t.Errorf("ctr task resume: %v", r)
	} else if st := e.taskStatus(t, id); st != "RUNNING" {
		t.Errorf("after resume: task %s, want RUNNING", st)
	}
	if r := e.ctr("task", "kill", "--signal", "TERM", id); r.Exit != 0 {
		t.Fatalf("ctr task kill TERM: %v", r)
	}
	time.Sleep(500 * time.Millisecond)
	if st := e.taskStatus(t, id); st != "RUNNING" {
		t.Errorf("after SIGTERM to a handler-less init: want RUNNING (ignored, as under runc), got %s", st)
	}
	if r := e.ctr("task", "kill", "--signal", "KILL", id); r.Exit != 0 {
		t.Fatalf("ctr task kill KILL: %v", r)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.taskStatus(t, id) != "STOPPED" {
		if time.Now().After(deadline) {
			t.Fatalf("task still %s 10s after SIGKILL", e.taskStatus(t, id))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := e.ctr("task", "delete", id); r.Exit != 0 {
		t.Fatalf("ctr task delete: %v", r)
	}
	if r := e.ctr("container", "rm", id); r.Exit != 0 {
		t.Fatalf("ctr container rm: %v", r)
	}
	if left := harness.WithExe(e.moat); len(left) > 0 {
		t.Errorf("after delete, moat processes left: %v", left)
	}
}

// taskStatus returns the STATUS column of `ctr task ls` for id.
func (e *environment) taskStatus(t *testing.T, id string) string {
	t.Helper()
	r := e.ctr("task", "ls")
	if r.Exit != 0 {
		t.Fatalf("ctr task ls: %v", r)
	}
	for _, line := range strings.Split(r.Stdout, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == id {
			return f[2]
		}
	}
	return "(none)"
}
