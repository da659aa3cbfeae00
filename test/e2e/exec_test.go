package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"moat/test/harness"
)

// execHelperEnv, when set in the environment of this test binary, makes
// it a subreaper that runs the moat command line the variable holds
// (JSON: [moat, args...], with a --pid-file as its last flag's value in
// pidFile) and reports how the process named by the pid file ended,
// as containerd's shim sees an exec'd process: "exit N" or "signal N".
const execHelperEnv = "MOAT_E2E_EXEC_HELPER"

// execHelper is what the variable holds.
type execHelper struct {
	Argv    []string `json:"argv"`
	PidFile string   `json:"pidFile"`
}

func init() {
	v := os.Getenv(execHelperEnv)
	if v == "" {
		return
	}
	// Not a test: the helper process. It exits here, before any test.
	os.Exit(runExecHelper(v))
}

// runExecHelper is the helper process's work.
func runExecHelper(v string) int {
	var h execHelper
	if err := json.Unmarshal([]byte(v), &h); err != nil || len(h.Argv) == 0 {
		fmt.Fprintln(os.Stderr, "exec helper: bad", execHelperEnv, err)
		return 2
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "exec helper: subreaper:", err)
		return 2
	}
	cmd := exec.Command(h.Argv[0], h.Argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "exec helper: moat exec --detach:", err)
		return 2
	}
	data, err := os.ReadFile(h.PidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		fmt.Fprintln(os.Stderr, "exec helper: pid file:", err, string(data))
		return 2
	}
	fmt.Printf("pid %d\n", pid)
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "exec helper: wait4:", err)
			return 2
		}
		break
	}
	if ws.Signaled() {
		fmt.Printf("signal %d\n", int(ws.Signal()))
	} else {
		fmt.Printf("exit %d\n", ws.ExitStatus())
	}
	return 0
}

// startRunning creates and starts a container running args.
func (e *env) startRunning(t *testing.T, args []string) *sandbox {
	t.Helper()
	s := e.create(t, args)
	if r := e.run(s.root, "start", s.id); r.Exit != 0 {
		t.Fatalf("start: %v", r)
	}
	return s
}

// exec runs `moat exec` with args and returns its result.
func (s *sandbox) exec(args ...string) harness.Result {
	return s.e.run(s.root, append([]string{"exec"}, args...)...)
}

// sandboxPIDs returns `moat ps`'s sandbox PIDs.
func (s *sandbox) sandboxPIDs(t *testing.T) []string {
	t.Helper()
	r := s.e.run(s.root, "ps", s.id)
	if r.Exit != 0 {
		t.Fatalf("ps: %v", r)
	}
	return strings.Fields(strings.TrimPrefix(r.Stdout, "PID"))
}

func TestExec(t *testing.T) {
	e := needEnv(t)
	s := e.startRunning(t, []string{"/bin/sleeper", "60"})

	// Output, PATH lookup with the container's environment, exit codes.
	r := s.exec(s.id, "hello")
	if r.Exit != 0 || !strings.Contains(r.Stdout, "hello from a static program") || !strings.Contains(r.Stderr, "to stderr") {
		t.Errorf("exec hello: %v", r)
	}
	if r := s.exec(s.id, "/bin/exitcode", "3"); r.Exit != 3 {
		t.Errorf("exec exitcode 3: exit %d, want 3: %v", r.Exit, r)
	}
	// A signal: exec itself dies of it (128+N to a shell), as runc's does.
	if r := s.exec(s.id, "/bin/exitcode", "kill"); r.Exit != 128+int(unix.SIGKILL) {
		t.Errorf("exec exitcode kill: exit %d, want %d: %v", r.Exit, 128+int(unix.SIGKILL), r)
	}
	// The container's environment, with --env over it.
	r = s.exec("--env", "MOAT_E2E=changed", "--env", "EXTRA=1", s.id, "/bin/args", "x")
	if r.Exit != 0 || !strings.Contains(r.Stdout, "MOAT_E2E=changed") || !strings.Contains(r.Stdout, "EXTRA=1") ||
		!strings.Contains(r.Stdout, "PATH=/bin:/usr/bin") || strings.Contains(r.Stdout, "MOAT_E2E=yes") {
		t.Errorf("exec --env: %v", r)
	}
	// A relative program is found from --cwd.
	if r := s.exec("--cwd", "/bin", s.id, "./hello"); r.Exit != 0 || !strings.Contains(r.Stdout, "hello from") {
		t.Errorf("exec --cwd /bin ./hello: %v", r)
	}
	// Errors: a missing command, a bad process.json naming the field.
	if r := s.exec(s.id, "no-such-command-x"); r.Exit == 0 || !strings.Contains(r.Stderr, "no-such-command-x") {
		t.Errorf("exec of a missing command: %v", r)
	}
	pj := filepath.Join(t.TempDir(), "process.json")
	writeFile(t, pj, `{"args":["/bin/hello"],"cwd":"/","user":{"uid":"root"}}`, 0o644)
	if r := s.exec("--process", pj, s.id); r.Exit == 0 || !strings.Contains(r.Stderr, "user.uid") {
		t.Errorf("exec --process with a string uid: %v", r)
	}
	writeFile(t, pj, `{"args":[],"cwd":"/"}`, 0o644)
	if r := s.exec("--process", pj, s.id); r.Exit == 0 || !strings.Contains(r.Stderr, "args") {
		t.Errorf("exec --process with no args: %v", r)
	}
	writeFile(t, pj, `{"args":["/bin/exitcode","4"],"cwd":"/","env":["PATH=/bin"]}`, 0o644)
	if r := s.exec("--process", pj, s.id); r.Exit != 4 {
		t.Errorf("exec --process exitcode 4: %v", r)
	}
	// Only the init is left: exec'd processes are gone with their exec.
	if pids := s.sandboxPIDs(t); len(pids) != 1 || pids[0] != "1" {
		t.Errorf("ps after the execs: %v, want only 1", pids)
	}
	if r := e.run(s.root, "delete", "--force", s.id); r.Exit != 0 {
		t.Fatalf("delete: %v", r)
	}
	s.checkGone(t)
}

// TestExecDetach: what containerd's shim does: exec --detach --pid-file,
// then wait for the PID as a subreaper, and signal it.
func TestExecDetach(t *testing.T) {
	e := needEnv(t)
	s := e.startRunning(t, []string{"/bin/sleeper", "60"})
	helper := func(t *testing.T, args ...string) (harness.Result, string) {
		pidFile := filepath.Join(t.TempDir(), "exec.pid")
		argv := append([]string{e.moat, "--root", s.root, "exec", "--detach", "--pid-file", pidFile, s.id}, args...)
		data, _ := json.Marshal(execHelper{Argv: argv, PidFile: pidFile})
		r := harness.Run(harness.Opts{Env: append(os.Environ(), execHelperEnv+"="+string(data))}, os.Args[0])
		if r.Exit != 0 {
			t.Fatalf("exec helper: %v", r)
		}
		lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
		return r, lines[len(lines)-1]
	}
	if _, got := helper(t, "/bin/exitcode", "7"); got != "exit 7" {
		t.Errorf("detached exec of exitcode 7: the proxy ended with %q, want exit 7", got)
	}
	if _, got := helper(t, "/bin/exitcode", "kill"); got != "signal 9" {
		t.Errorf("detached exec of exitcode kill: the proxy ended with %q, want signal 9", got)
	}

	// Signals sent to the proxy reach the process; killing the proxy
	// kills the process.
	pidFile := filepath.Join(t.TempDir(), "sleeper.pid")
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(e.moat, "--root", s.root, "exec", "-d", "--pid-file", pidFile, s.id, "/bin/sleeper", "60")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		t.Fatalf("exec -d sleeper: %v", err)
	}
	data, _ := os.ReadFile(pidFile)
	proxy, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if proxy <= 0 {
		t.Fatalf("--pid-file holds %q", data)
	}
	if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", proxy)); exe != e.moat {
		t.Errorf("the pid file's process runs %q, want moat (the exec proxy)", exe)
	}
	if !waitFor(10*time.Second, func() bool { return len(s.sandboxPIDs(t)) == 2 }) {
		t.Errorf("ps with a detached exec: %v, want 2 processes", s.sandboxPIDs(t))
	}
	if err := unix.Kill(proxy, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !waitFor(10*time.Second, func() bool { return len(s.sandboxPIDs(t)) == 1 }) {
		t.Errorf("ps after the proxy was killed: %v, want only the init", s.sandboxPIDs(t))
	}

	if r := e.run(s.root, "kill", s.id, "KILL"); r.Exit != 0 {
		t.Fatalf("kill: %v", r)
	}
	e.waitStatus(t, s.root, s.id, "stopped")
	if r := s.exec(s.id, "/bin/hello"); r.Exit == 0 || !strings.Contains(r.Stderr, "not running") {
		t.Errorf("exec into a stopped container: %v", r)
	}
	if r := e.run(s.root, "delete", s.id); r.Exit != 0 {
		t.Fatalf("delete: %v", r)
	}
	s.checkGone(t)
}

// TestPauseResume: a paused container runs nothing and says so; resumed,
// it goes on; a paused one is deleted with --force only.
func TestPauseResume(t *testing.T) {
	e := needEnv(t)
	s := e.startRunning(t, []string{"/bin/sleeper", "60"})
	outPath := filepath.Join(t.TempDir(), "ticks")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(e.moat, "--root", s.root, "exec", "-d", s.id, "/bin/ticker")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		t.Fatalf("exec -d ticker: %v", err)
	}
	size := func() int64 {
		fi, err := os.Stat(outPath)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	if !waitFor(10*time.Second, func() bool { return size() > 20 }) {
		t.Fatalf("the ticker prints nothing")
	}
	if r := e.run(s.root, "pause", s.id); r.Exit != 0 {
		t.Fatalf("pause: %v", r)
	}
	if st := e.state(t, s.root, s.id); st.Status != "paused" {
		t.Errorf("state after pause: %q, want paused", st.Status)
	}
	if r := e.run(s.root, "pause", s.id); r.Exit == 0 {
		t.Errorf("a second pause must fail: %v", r)
	}
	if r := s.exec(s.id, "/bin/hello"); r.Exit == 0 || !strings.Contains(r.Stderr, "paused") {
		t.Errorf("exec into a paused container: %v", r)
	}
	// The ticker prints every 20 ms: after a generous moment for a line
	// under way, nothing more may come while paused.
	time.Sleep(300 * time.Millisecond)
	before := size()
	time.Sleep(500 * time.Millisecond)
	if after := size(); after != before {
		t.Errorf("output grew from %d to %d bytes while paused", before, after)
	}
	if r := e.run(s.root, "events", "--stats", s.id); r.Exit != 0 || !strings.Contains(r.Stdout, `"type":"stats"`) || !strings.Contains(r.Stdout, `"pids":{"current":`) {
		t.Errorf("events --stats: %v", r)
	}
	if r := e.run(s.root, "delete", s.id); r.Exit == 0 {
		t.Errorf("delete of a paused container without --force must fail: %v", r)
	}
	if r := e.run(s.root, "resume", s.id); r.Exit != 0 {
		t.Fatalf("resume: %v", r)
	}
	if st := e.state(t, s.root, s.id); st.Status != "running" {
		t.Errorf("state after resume: %q, want running", st.Status)
	}
	if !waitFor(10*time.Second, func() bool { return size() > before }) {
		t.Errorf("the ticker did not go on after resume")
	}
	if r := e.run(s.root, "resume", s.id); r.Exit == 0 {
		t.Errorf("resume of a running container must fail: %v", r)
	}
	if r := e.run(s.root, "update", "--memory", "100000000", s.id); r.Exit == 0 || !strings.Contains(r.Stderr, "memory") {
		t.Errorf("update --memory: %v", r)
	}
	// Pause again and delete: nothing of the sandbox, proxies included,
	// may survive.
	if r := e.run(s.root, "pause", s.id); r.Exit != 0 {
		t.Fatalf("pause: %v", r)
	}
	s.snapshot()
	if r := e.run(s.root, "delete", "--force", s.id); r.Exit != 0 {
		t.Fatalf("delete --force: %v", r)
	}
	s.checkGone(t)
}
