package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"moat/sentry/kernel"
)

// pausingKernel is a fakeKernel that can pause.
type pausingKernel struct {
	fakeKernel
	pmu    sync.Mutex
	paused bool
}

func (p *pausingKernel) Pause() bool {
	p.pmu.Lock()
	defer p.pmu.Unlock()
	was := p.paused
	p.paused = true
	return !was
}

func (p *pausingKernel) Resume() bool {
	p.pmu.Lock()
	defer p.pmu.Unlock()
	was := p.paused
	p.paused = false
	return was
}

func TestControlPauseResume(t *testing.T) {
	k := &pausingKernel{fakeKernel: fakeKernel{exit: make(chan kernel.ExitStatus)}}
	sock := serveKernel(t, k)
	if _, err := callSentry(sock, controlRequest{Op: opPause}); err == nil {
		t.Fatal("pause of a created container accepted")
	}
	if _, err := callSentry(sock, controlRequest{Op: opStart}); err != nil {
		t.Fatal(err)
	}
	if _, err := callSentry(sock, controlRequest{Op: opResume}); err == nil {
		t.Fatal("resume of a running container accepted")
	}
	if _, err := callSentry(sock, controlRequest{Op: opPause}); err != nil || !k.paused {
		t.Fatalf("pause: %v (kernel paused: %v)", err, k.paused)
	}
	if resp, err := callSentry(sock, controlRequest{Op: opState}); err != nil || resp.Status != string(statePaused) || len(resp.Pids) != 2 {
		t.Fatalf("state when paused: %+v, %v", resp, err)
	}
	// exec into a paused container is refused, and the descriptors the
	// request carried are not kept.
	if _, err := callExec(sock, &specs.Process{Args: []string{"true"}, Cwd: "/"}, []int{0, 1, 2}); err == nil || !strings.Contains(err.Error(), "paused") {
		t.Fatalf("exec into a paused container: %v", err)
	}
	if _, err := callSentry(sock, controlRequest{Op: opKill, Signal: int(unix.SIGKILL)}); err != nil {
		t.Fatalf("kill of a paused container: %v", err)
	}
	if _, err := callSentry(sock, controlRequest{Op: opResume}); err != nil || k.paused {
		t.Fatalf("resume: %v (kernel paused: %v)", err, k.paused)
	}
	if resp, _ := callSentry(sock, controlRequest{Op: opState}); resp.Status != string(specs.StateRunning) {
		t.Fatalf("state after resume: %+v", resp)
	}
	k.exit <- kernel.ExitStatus{}
}

func TestControlExecRefused(t *testing.T) {
	k := &fakeKernel{exit: make(chan kernel.ExitStatus)}
	_, sock := newTestSandbox(t, k)
	p := &specs.Process{Args: []string{"true"}, Cwd: "/"}
	if _, err := callExec(sock, p, []int{0, 1, 2}); err == nil || !strings.Contains(err.Error(), "created") {
		t.Fatalf("exec before start: %v", err)
	}
	if _, err := callSentry(sock, controlRequest{Op: opStart}); err != nil {
		t.Fatal(err)
	}
	// Fewer descriptors than stdio, and a kernel that cannot spawn.
	if _, err := callExec(sock, p, []int{0}); err == nil || !strings.Contains(err.Error(), "descriptors") {
		t.Fatalf("exec with one descriptor: %v", err)
	}
	if _, err := callExec(sock, p, []int{0, 1, 2}); err == nil || !strings.Contains(err.Error(), "cannot start processes") {
		t.Fatalf("exec on a kernel without Spawn: %v", err)
	}
	// Nothing received is kept open: once this side closes its write
	// end of a pipe sent with a refused exec, the read end sees EOF.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := callExec(sock, p, []int{0, int(w.Fd()), 2}); err == nil {
		t.Fatal("exec on a kernel without Spawn accepted")
	}
	w.Close()
	r.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("read from the pipe after the refused exec: %d, %v; want EOF (the sentry closed its copy)", n, err)
	}
	k.exit <- kernel.ExitStatus{}
}

// serveKernel serves a control socket backed by k and returns its path.
func serveKernel(t *testing.T, k sentryKernel) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "control.sock")
	cs, err := listenControl(path)
	if err != nil {
		t.Fatal(err)
	}
	sb := &sandbox{log: slog.New(slog.NewTextHandler(io.Discard, nil)), k: k, control: cs}
	go cs.serve(sb)
	t.Cleanup(cs.close)
	return path
}
