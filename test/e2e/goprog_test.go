package e2e

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"moat/test/harness"
)

// TestGoProgram runs a static Go program under `moat do`: the Go runtime's
// start (threads, signals, the netpoller's epoll and eventfd), goroutines,
// timers, a pipe the netpoller waits on, a read deadline and a file read.
// testdata/goprog prints one "NAME: ok" line per check.
func TestGoProgram(t *testing.T) {
	e := needEnv(t)
	repo, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(t.TempDir(), "goprog")
	build := exec.Command("go", "build", "-o", prog, "./test/e2e/testdata/goprog")
	build.Dir = repo
	build.Env = append(build.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build goprog: %v\n%s", err, out)
	}
	const want = "goroutines: ok\nsleep: ok\ntimers: ok\npipe: ok\nreadfile: ok\n"
	native := harness.Run(harness.Opts{Env: testEnv, Timeout: time.Minute}, prog)
	if native.Exit != 0 || native.Stdout != want {
		t.Fatalf("natively: %v", native)
	}
	r := e.runOpts(harness.Opts{Env: testEnv, Timeout: time.Minute}, newRoot(t), "do", "--", prog)
	if r.Exit != 0 || r.Stdout != want {
		t.Errorf("moat do goprog: want exit 0 and\n%s\ngot %v", want, r)
	}
}
