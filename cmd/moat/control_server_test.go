package main

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"moat/sentry/kernel"
)

// fakeKernel records what the control server asks of the kernel.
type fakeKernel struct {
	mu       sync.Mutex
	startErr error
	started  bool
	signals  []unix.Signal
	exit     chan kernel.ExitStatus
}

func (f *fakeKernel) Start() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = f.startErr == nil
	return f.startErr
}

func (f *fakeKernel) Wait() kernel.ExitStatus { return <-f.exit }

func (f *fakeKernel) Signal(sig unix.Signal, all bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signals = append(f.signals, sig)
	return nil
}

func (f *fakeKernel) Processes() []int { return []int{1, 2} }

// newTestSandbox serves a control socket backed by a fake kernel.
func newTestSandbox(t *testing.T, k *fakeKernel) (*sandbox, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "control.sock")
	cs, err := listenControl(path)
	if err != nil {
		t.Fatal(err)
	}
	sb := &sandbox{log: slog.New(slog.NewTextHandler(io.Discard, nil)), k: k, control: cs}
	go cs.serve(sb)
	t.Cleanup(cs.close)
	return sb, path
}

// exitOf waits for the status the sentry would exit with.
func exitOf(t *testing.T, sb *sandbox) kernel.ExitStatus {
	t.Helper()
	select {
	case st := <-sb.control.exited:
		return st
	case <-time.After(5 * time.Second):
		t.Fatal("sentry did not exit")
	}
	return kernel.ExitStatus{}
}

func TestControlLifeCycle(t *testing.T) {
	k := &fakeKernel{exit: make(chan kernel.ExitStatus)}
	sb, sock := newTestSandbox(t, k)
	call := func(req controlRequest) (*controlResponse, error) { return callSentry(sock, req) }

	if resp, err := call(controlRequest{Op: opState}); err != nil || resp.Status != "created" || resp.Pids != nil {
		t.Fatalf("state before start: %+v, %v", resp, err)
	}
	if _, err := call(controlRequest{Op: opStart}); err != nil {
		t.Fatalf("start: %v", err)
	}
	if _, err := call(controlRequest{Op: opStart}); err == nil {
		t.Fatal("second start accepted")
	}
	resp, err := call(controlRequest{Op: opState})
	if err != nil || resp.Status != "running" || len(resp.Pids) != 2 {
		t.Fatalf("state when running: %+v, %v", resp, err)
	}
	if _, err := call(controlRequest{Op: opKill, Signal: int(unix.SIGUSR1)}); err != nil {
		t.Fatalf("kill: %v", err)
	}
	if _, err := call(controlRequest{Op: opKill, Signal: 99}); err == nil {
		t.Fatal("signal 99 accepted")
	}
	if _, err := call(controlRequest{Op: "frobnicate"}); err == nil {
		t.Fatal("unknown op accepted")
	}
	k.exit <- kernel.ExitStatus{Code: 3}
	if st := exitOf(t, sb); st.Code != 3 {
		t.Fatalf("exit status %+v, want code 3", st)
	}
	if resp, _ := call(controlRequest{Op: opState}); resp.Status != string(specs.StateStopped) {
		t.Fatalf("state after exit: %+v", resp)
	}
	if _, err := call(controlRequest{Op: opKill, Signal: int(unix.SIGTERM)}); err == nil {
		t.Fatal("kill of a stopped container accepted")
	}
	if len(k.signals) != 1 || k.signals[0] != unix.SIGUSR1 {
		t.Fatalf("signals reaching the kernel: %v", k.signals)
	}
}

func TestControlKillBeforeStart(t *testing.T) {
	tests := []struct {
		sig      unix.Signal
		stopping bool
	}{
		{unix.SIGTERM, true},
		{unix.SIGKILL, true},
		{unix.SIGWINCH, false},
	}
	for _, tt := range tests {
		k := &fakeKernel{}
		sb, sock := newTestSandbox(t, k)
		if _, err := callSentry(sock, controlRequest{Op: opKill, Signal: int(tt.sig)}); err != nil {
			t.Fatalf("kill %v: %v", tt.sig, err)
		}
		resp, _ := callSentry(sock, controlRequest{Op: opState})
		if stopped := resp.Status == string(specs.StateStopped); stopped != tt.stopping {
			t.Fatalf("kill %v before start: status %s", tt.sig, resp.Status)
		}
		if tt.stopping {
			if st := exitOf(t, sb); st.Signal != tt.sig {
				t.Fatalf("kill %v before start: exit %+v", tt.sig, st)
			}
		}
		if k.started || len(k.signals) != 0 {
			t.Fatalf("kill %v before start reached the kernel", tt.sig)
		}
	}
}

func TestControlStartFails(t *testing.T) {
	k := &fakeKernel{startErr: errors.New("exec: boom")}
	sb, sock := newTestSandbox(t, k)
	if _, err := callSentry(sock, controlRequest{Op: opStart}); err == nil || err.Error() != "exec: boom" {
		t.Fatalf("start: %v, want the kernel's error", err)
	}
	if st := exitOf(t, sb); st.Code != 127 {
		t.Fatalf("exit after failed start: %+v, want 127", st)
	}
}

func TestCallSentryNobody(t *testing.T) {
	_, err := callSentry(filepath.Join(t.TempDir(), "none.sock"), controlRequest{Op: opState})
	if !errors.Is(err, errNoSentry) {
		t.Fatalf("callSentry with no sentry: %v", err)
	}
}
