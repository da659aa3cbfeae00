package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// procStatus returns the fields of /proc/PATH/status, values with their
// whitespace collapsed to single spaces.
func procStatus(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + path + "/status")
	if err != nil {
		t.Fatalf("status of %s: %v", path, err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	return m
}

// TestSandboxPrivileges checks, on a running sandbox, that every thread
// of the sentry and every stub runs as one unprivileged user with no
// capability, under seccomp; that the stubs are in a session of their
// own; and that stray host signals to the stubs change nothing.
func TestSandboxPrivileges(t *testing.T) {
	e := needEnv(t)
	s := e.create(t, []string{"/bin/sleeper", "60"})
	if r := e.run(s.root, "start", s.id); r.Exit != 0 {
		t.Fatalf("start: %v", r)
	}
	time.Sleep(200 * time.Millisecond) // let the stubs appear
	s.snapshot()

	const zero = "0000000000000000"
	sentry := procStatus(t, strconv.Itoa(s.pid))
	uid := strings.Fields(sentry["Uid"])[0]
	if uid == "0" {
		t.Fatalf("sentry %d runs as root", s.pid)
	}
	ids := strings.TrimSpace(strings.Repeat(uid+" ", 4))
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", s.pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		st := procStatus(t, fmt.Sprintf("%d/task/%s", s.pid, task.Name()))
		want := map[string]string{
			"Uid": ids, "Gid": ids, "Groups": "", "CapEff": zero, "CapPrm": zero, "CapInh": zero, "CapAmb": zero,
			"NoNewPrivs": "1", "Seccomp": "2",
		}
		for k, v := range want {
			if st[k] != v {
				t.Errorf("sentry thread %s: %s %q, want %q", task.Name(), k, st[k], v)
			}
		}
	}
	sentrySid, err := unix.Getsid(s.pid)
	if err != nil {
		t.Fatal(err)
	}

	var stubs []int
	for _, p := range s.procs[1:] {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.PID))
		st := procStatus(t, strconv.Itoa(p.PID))
		if exe == e.moat {
			// The gofer stays root (it reads files of every owner),
			// confined by its own namespace and filter.
			if st["Seccomp"] != "2" || st["NoNewPrivs"] != "1" {
				t.Errorf("gofer %d: Seccomp %s NoNewPrivs %s", p.PID, st["Seccomp"], st["NoNewPrivs"])
			}
			continue
		}
		stubs = append(stubs, p.PID)
		want := map[string]string{
			"Uid": ids, "Gid": ids, "Groups": "", "CapEff": zero, "CapPrm": zero, "CapBnd": zero,
			"NoNewPrivs": "1", "Seccomp": "2",
		}
		for k, v := range want {
			if st[k] != v {
				t.Errorf("stub %d: %s %q, want %q", p.PID, k, st[k], v)
			}
		}
		if sid, err := unix.Getsid(p.PID); err != nil || sid == sentrySid {
			t.Errorf("stub %d: session %d (%v), the sentry's is %d: want its own", p.PID, sid, err, sentrySid)
		}
	}
	if len(stubs) < 3 {
		t.Fatalf("want the zygote, a control thread and an app thread, got %v in %v", stubs, s.procs)
	}

	// Stray signals a host user could send: none may kill or fault the
	// workload.
	for _, pid := range stubs {
		for _, sig := range []unix.Signal{unix.SIGSEGV, unix.SIGTERM, unix.SIGINT, unix.SIGSTOP, unix.SIGTRAP} {
			if err := unix.Kill(pid, sig); err != nil {
				t.Errorf("kill %d %v: %v", pid, sig, err)
			}
		}
	}
	time.Sleep(300 * time.Millisecond)
	if st := e.state(t, s.root, s.id); st.Status != "running" {
		t.Errorf("after stray signals to the stubs the container is %q, want running", st.Status)
	}
	if r := e.run(s.root, "kill", s.id, "KILL"); r.Exit != 0 {
		t.Fatalf("kill: %v", r)
	}
	e.waitStatus(t, s.root, s.id, "stopped")
	if r := e.run(s.root, "delete", s.id); r.Exit != 0 {
		t.Fatalf("delete: %v", r)
	}
	s.checkGone(t)
}
