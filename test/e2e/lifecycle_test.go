package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"moat/test/harness"

	"golang.org/x/sys/unix"
)

// ociState is the part of `moat state` output the tests check.
type ociState struct {
	OCIVersion string `json:"ociVersion"`
	ID         string `json:"id"`
	Status     string `json:"status"`
	Pid        int    `json:"pid"`
	Bundle     string `json:"bundle"`
}

// state runs `moat state ID` and decodes it; it fails the test when
// state fails.
func (e *env) state(t *testing.T, root, id string) ociState {
	t.Helper()
	r := e.run(root, "state", id)
	if r.Exit != 0 {
		t.Fatalf("state %s: %v", id, r)
	}
	var s ociState
	if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil {
		t.Fatalf("state %s: not JSON: %v\n%s", id, err, r.Stdout)
	}
	return s
}

// waitStatus polls `moat state` until it reports want.
func (e *env) waitStatus(t *testing.T, root, id, want string) {
	t.Helper()
	var last string
	ok := waitFor(10*time.Second, func() bool {
		r := e.run(root, "state", id)
		var s ociState
		_ = json.Unmarshal([]byte(r.Stdout), &s)
		last = s.Status
		return s.Status == want
	})
	if !ok {
		t.Fatalf("state %s: still %q after 10s, want %q", id, last, want)
	}
}

// sandbox is one container created by a test, with everything needed to
// check that nothing of it survives.
type sandbox struct {
	e        *env
	root, id string
	pid      int
	procs    []harness.Proc // every process ever seen in the sandbox's tree
}

// create runs `moat create` for a bundle running args and checks the pid
// file and the "created" state.
func (e *env) create(t *testing.T, args []string) *sandbox {
	t.Helper()
	b := e.newRootfs(t)
	b.writeConfig(t, args)
	root := newRoot(t)
	id := "life-" + strconv.Itoa(os.Getpid()) + "-" + strings.ReplaceAll(t.Name(), "/", "-")
	pidFile := filepath.Join(t.TempDir(), "pid")
	r := e.run(root, "create", "--bundle", b.Dir, "--pid-file", pidFile, id)
	if r.Exit != 0 {
		t.Fatalf("create: %v", r)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("create did not write --pid-file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		t.Fatalf("--pid-file holds %q, not a PID", data)
	}
	s := &sandbox{e: e, root: root, id: id, pid: pid}
	t.Cleanup(func() { s.cleanup() })
	s.snapshot()

	st := e.state(t, root, id)
	if st.Status != "created" || st.Pid != pid || st.ID != id || st.OCIVersion == "" {
		t.Errorf("state after create: %+v, want status created, id %s, pid %d (the pid file), an ociVersion", st, id, pid)
	}
	if abs, _ := filepath.Abs(b.Dir); st.Bundle != abs {
		t.Errorf("state bundle %q, want %q", st.Bundle, abs)
	}
	if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); exe != e.moat {
		t.Errorf("the pid file's process runs %q, want the moat binary (the sentry)", exe)
	}
	return s
}

// snapshot records the sandbox's current process tree (sentry, gofer,
// zygote, stubs).
func (s *sandbox) snapshot() {
	for _, p := range harness.Tree(s.pid) {
		if !slices.Contains(s.procs, p) {
			s.procs = append(s.procs, p)
		}
	}
}

// cleanup kills what a failed test left behind, so one failure does not
// cascade into the next tests.
func (s *sandbox) cleanup() {
	s.e.run(s.root, "delete", "--force", s.id)
	for _, p := range harness.Alive(s.procs) {
		_ = unix.Kill(p.PID, unix.SIGKILL)
	}
}

// checkGone asserts that no process of the sandbox is left, that no moat
// process of this test run is alive, and that --root holds nothing.
func (s *sandbox) checkGone(t *testing.T) {
	t.Helper()
	t.Logf("processes seen in the sandbox: %v", s.procs)
	var left []harness.Proc
	if !waitFor(5*time.Second, func() bool {
		left = append(harness.Alive(s.procs), harness.WithExe(s.e.moat)...)
		return len(left) == 0
	}) {
		t.Errorf("processes left behind (of %v): %v", s.procs, left)
	}
	if ents := listTree(t, s.root); len(ents) != 0 {
		t.Errorf("--root still holds %v", ents)
	}
}

func TestLifecycle(t *testing.T) {
	e := needEnv(t)
	s := e.create(t, []string{"/bin/sleeper", "60"})
	if len(s.procs) < 2 {
		t.Errorf("after create want at least the sentry and the gofer, got %v", s.procs)
	}
	if r := e.run(s.root, "start", s.id); r.Exit != 0 {
		t.Fatalf("start: %v", r)
	}
	if st := e.state(t, s.root, s.id); st.Status != "running" || st.Pid != s.pid {
		t.Errorf("state after start: %+v, want running with pid %d", st, s.pid)
	}
	time.Sleep(200 * time.Millisecond) // let the stub appear
	s.snapshot()
	if r := e.run(s.root, "start", s.id); r.Exit == 0 {
		t.Errorf("a second start must fail: %v", r)
	}
	if r := e.run(s.root, "delete", s.id); r.Exit == 0 {
		t.Errorf("delete of a running container without --force must fail: %v", r)
	}
	if r := e.run(s.root, "kill", s.id, "KILL"); r.Exit != 0 {
		t.Fatalf("kill: %v", r)
	}
	e.waitStatus(t, s.root, s.id, "stopped")
	if r := e.run(s.root, "delete", s.id); r.Exit != 0 {
		t.Fatalf("delete: %v", r)
	}
	if r := e.run(s.root, "state", s.id); r.Exit == 0 {
		t.Errorf("state after delete must fail: %v", r)
	}
	s.checkGone(t)
}

func TestKillSignals(t *testing.T) {
	e := needEnv(t)
	for _, sig := range []string{"", "TERM", "SIGINT", "9"} {
		t.Run("sig"+sig, func(t *testing.T) {
			s := e.create(t, []string{"/bin/sleeper", "60"})
			if r := e.run(s.root, "start", s.id); r.Exit != 0 {
				t.Fatalf("start: %v", r)
			}
			s.snapshot()
			args := []string{"kill", s.id}
			if sig != "" {
				args = append(args, sig)
			}
			if r := e.run(s.root, args...); r.Exit != 0 {
				t.Fatalf("kill %s: %v", sig, r)
			}
			if sig != "9" {
				// The sleeper is the container's init and has no
				// handlers: like PID 1 of a PID namespace under
				// runc, it ignores every signal from outside but
				// SIGKILL and SIGSTOP (`docker stop` then waits for
				// its SIGKILL).
				time.Sleep(300 * time.Millisecond)
				if st := e.state(t, s.root, s.id); st.Status != "running" {
					t.Fatalf("after kill %s the handler-less init is %q, want running", sig, st.Status)
				}
				if r := e.run(s.root, "kill", s.id, "KILL"); r.Exit != 0 {
					t.Fatalf("kill KILL: %v", r)
				}
			}
			e.waitStatus(t, s.root, s.id, "stopped")
			if r := e.run(s.root, "delete", s.id); r.Exit != 0 {
				t.Fatalf("delete: %v", r)
			}
			s.checkGone(t)
		})
	}
}

func TestWorkloadCrashLeavesNothing(t *testing.T) {
	e := needEnv(t)
	s := e.create(t, []string{"/bin/exitcode", "sleep-segv"})
	if r := e.run(s.root, "start", s.id); r.Exit != 0 {
		t.Fatalf("start: %v", r)
	}
	s.snapshot()
	e.waitStatus(t, s.root, s.id, "stopped")
	if r := e.run(s.root, "delete", s.id); r.Exit != 0 {
		t.Fatalf("delete: %v", r)
	}
	s.checkGone(t)
}

func TestKillSentryLeavesNothing(t *testing.T) {
	e := needEnv(t)
	s := e.create(t, []string{"/bin/sleeper", "60"})
	if r := e.run(s.root, "start", s.id); r.Exit != 0 {
		t.Fatalf("start: %v", r)
	}
	time.Sleep(200 * time.Millisecond)
	s.snapshot()
	if err := unix.Kill(s.pid, unix.SIGKILL); err != nil {
		t.Fatalf("kill -9 the sentry %d: %v", s.pid, err)
	}
	// Everything but the sentry must go by itself; the state directory
	// stays until delete (as with runc).
	var left []harness.Proc
	if !waitFor(5*time.Second, func() bool {
		left = harness.Alive(s.procs)
		return len(left) == 0
	}) {
		t.Errorf("after kill -9 of the sentry, left behind: %v", left)
	}
	e.waitStatus(t, s.root, s.id, "stopped")
	if r := e.run(s.root, "delete", s.id); r.Exit != 0 {
		t.Fatalf("delete: %v", r)
	}
	s.checkGone(t)
}

func TestRunExitCodesLeaveNothing(t *testing.T) {
	e := needEnv(t)
	b := e.newRootfs(t)
	for _, c := range []struct {
		arg  string
		exit int
	}{{"0", 0}, {"3", 3}, {"segv", 128 + 11}, {"child-kill", 128 + 9}, {"child-abort", 128 + 6}} {
		t.Run(c.arg, func(t *testing.T) {
			bb := cloneBundle(t, b)
			bb.writeConfig(t, []string{"/bin/exitcode", c.arg})
			root := newRoot(t)
			r := e.run(root, "run", "--bundle", bb.Dir, "exit-"+c.arg)
			if r.Exit != c.exit || !strings.HasPrefix(r.Stdout, "mode "+c.arg+"\n") {
				t.Errorf("want exit %d and %q, got %v", c.exit, "mode "+c.arg+"\n", r)
			}
			var left []harness.Proc
			if !waitFor(5*time.Second, func() bool { left = harness.WithExe(e.moat); return len(left) == 0 }) {
				t.Errorf("moat processes left behind: %v", left)
			}
			if ents := listTree(t, root); len(ents) != 0 {
				t.Errorf("--root still holds %v", ents)
			}
		})
	}
}
