// Package harness holds what the end-to-end tests and the benchmarks share:
// building the moat binary and the C test programs, checking that the
// machine can run sandboxes at all, running a command with a time limit
// and capturing its streams and exit status, and finding the processes a
// sandbox left behind.
package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// RepoRoot returns the directory holding moat's go.mod, found by walking up
// from the working directory (go test runs each package in its own folder).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("repo root: %w", err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module moat\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repo root: no go.mod of module moat above the working directory")
		}
		dir = parent
	}
}

// BuildMoat returns the path of a moat binary to test: $MOAT_BINARY when
// set (CI may build once and share), else a fresh `go build` of cmd/moat
// into dir, so the tests never run a stale bin/moat.
func BuildMoat(dir string) (string, error) {
	if p := os.Getenv("MOAT_BINARY"); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", fmt.Errorf("MOAT_BINARY %q: %w", p, err)
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("MOAT_BINARY: %w", err)
		}
		return abs, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "moat")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/moat")
	cmd.Dir = root
	if msg, err := combinedOutput(cmd); err != nil {
		return "", fmt.Errorf("go build ./cmd/moat: %w\n%s", err, msg)
	}
	return out, nil
}

// PIEPrograms are the programs also built as static-pie (ET_DYN without an
// interpreter), so the loader's relocation path is exercised too.
var PIEPrograms = []string{"hello", "args", "exitcode"}

// CompilePrograms compiles every *.c in src (relative to the repository
// root, e.g. "test/programs") with `gcc -static -O1` into dir, and the
// PIEPrograms a second time with -static-pie as NAME-pie. It returns the
// absolute paths by name.
func CompilePrograms(src, dir string) (map[string]string, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	src = filepath.Join(root, src)
	files, err := filepath.Glob(filepath.Join(src, "*.c"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("test programs in %s: none found (%v)", src, err)
	}
	pie := map[string]bool{}
	for _, p := range PIEPrograms {
		pie[p] = true
	}
	progs := map[string]string{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".c")
		builds := [][]string{{name, "-static"}}
		if pie[name] {
			builds = append(builds, []string{name + "-pie", "-static-pie"})
		}
		for _, b := range builds {
			out := filepath.Join(dir, b[0])
			cmd := exec.Command("gcc", b[1], "-O1", "-Wall", "-I", filepath.Join(root, "test", "programs"), "-o", out, f)
			if msg, err := combinedOutput(cmd); err != nil {
				return nil, fmt.Errorf("gcc %s %s: %w\n%s", b[1], f, err, msg)
			}
			progs[b[0]] = out
		}
	}
	return progs, nil
}

// Prereqs reports why this machine cannot run sandboxes, or nil: moat
// needs root, gcc (for the test programs), ptrace, and new mount, PID, IPC
// and UTS namespaces.
func Prereqs() error {
	if os.Geteuid() != 0 {
		return errors.New("e2e tests need root (moat creates namespaces and traces stubs)")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		return errors.New("e2e tests need gcc to build the test programs (run `make deps`)")
	}
	if data, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope"); err == nil && strings.TrimSpace(string(data)) == "3" {
		return errors.New("ptrace is disabled (kernel.yama.ptrace_scope = 3)")
	}
	cmd := exec.Command("/bin/true")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS,
	}
	if err := run(cmd); err != nil {
		return fmt.Errorf("cannot create mount/PID/IPC/UTS namespaces: %w", err)
	}
	return checkPtrace()
}

// checkPtrace starts a traced child and lets it go: the tracer is the OS
// thread that forked, so the whole exchange stays on one locked thread.
func checkPtrace() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd := exec.Command("/bin/true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
	if err := start(cmd); err != nil {
		return fmt.Errorf("cannot start a traced process: %w", err)
	}
	pid := cmd.Process.Pid
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
		return fmt.Errorf("ptrace check: wait: %w", err)
	}
	if !ws.Stopped() {
		return fmt.Errorf("ptrace check: child not stopped at exec (status %#x)", ws)
	}
	if err := unix.PtraceDetach(pid); err != nil {
		_ = cmd.Process.Kill()
		_ = wait(cmd)
		return fmt.Errorf("ptrace check: detach: %w", err)
	}
	_ = wait(cmd)
	return nil
}

// Result is how one command ended.
type Result struct {
	Stdout, Stderr string
	// Exit is the exit code, or 128+N when the process died of signal N
	// (what a shell and `moat run` report); -1 if it could not start.
	Exit     int
	TimedOut bool
	// Err is the error starting or waiting for the command, if any.
	Err error
}

// Opts tunes Run.
type Opts struct {
	Dir     string
	Env     []string // nil: the test's environment
	Timeout time.Duration
	Stdin   string
	// PIDNamespace runs the program as PID 1 of a new PID namespace, as
	// a container's init runs (it then ignores signals it has no
	// handler for, SIGKILL from itself included).
	PIDNamespace bool
}

// Run runs name with args and waits at most o.Timeout (default 30s), then
// kills it. The standard streams are temporary files, not pipes: a sandbox
// that `moat create` leaves running keeps them open, and a pipe would make
// the wait last as long as the sandbox.
func Run(o Opts, name string, args ...string) Result {
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = o.Dir
	cmd.Env = o.Env
	if o.PIDNamespace {
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	}
	if o.Stdin != "" {
		cmd.Stdin = strings.NewReader(o.Stdin)
	}
	stdout, err1 := os.CreateTemp("", "moat-e2e-stdout-")
	stderr, err2 := os.CreateTemp("", "moat-e2e-stderr-")
	if err := errors.Join(err1, err2); err != nil {
		return Result{Exit: -1, Err: err}
	}
	defer func() {
		stdout.Close()
		stderr.Close()
		os.Remove(stdout.Name())
		os.Remove(stderr.Name())
	}()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = 2 * time.Second
	err := run(cmd)
	res := Result{Exit: -1, Err: err, TimedOut: ctx.Err() != nil}
	if ps := cmd.ProcessState; ps != nil {
		ws := ps.Sys().(syscall.WaitStatus)
		switch {
		case ws.Signaled():
			res.Exit = 128 + int(ws.Signal())
		case ws.Exited():
			res.Exit = ws.ExitStatus()
		}
	}
	if res.Exit >= 0 {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			res.Err = nil // a non-zero status is reported in Exit
		}
	}
	out, _ := os.ReadFile(stdout.Name())
	errOut, _ := os.ReadFile(stderr.Name())
	res.Stdout, res.Stderr = string(out), string(errOut)
	return res
}

// String summarises r for test failure messages.
func (r Result) String() string {
	s := fmt.Sprintf("exit %d", r.Exit)
	if r.TimedOut {
		s += " (TIMED OUT, killed)"
	}
	if r.Err != nil {
		s += fmt.Sprintf(" err=%v", r.Err)
	}
	return s + fmt.Sprintf("\n--- stdout:\n%s--- stderr:\n%s", r.Stdout, r.Stderr)
}
