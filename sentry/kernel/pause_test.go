package kernel

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestPauseGate: a Block whose event comes while the sandbox is paused
// returns only after Resume; an exiting process gets through at once.
func TestPauseGate(t *testing.T) {
	k := testKernel()
	m, _ := newFutexMM(t)
	task := newFutexTask(t, k, m)

	if !k.Pause() || k.Pause() || !k.Paused() {
		t.Fatal("Pause: want true, then false (already paused), and Paused")
	}
	ch := make(chan struct{}, 1)
	ch <- struct{}{}
	done := make(chan error, 1)
	go func() { done <- task.Block(ch, time.Time{}) }()
	// Negative check with a bounded wait: a bug shows up as a return.
	select {
	case err := <-done:
		t.Fatalf("Block returned %v while paused", err)
	case <-time.After(50 * time.Millisecond):
	}
	if !k.Resume() || k.Resume() || k.Paused() {
		t.Fatal("Resume: want true, then false (not paused)")
	}
	if err := <-done; err != nil {
		t.Errorf("Block after Resume = %v, want nil", err)
	}

	// Paused again: killing the process lets its task out of the gate.
	k.Pause()
	go func() { done <- task.Block(make(chan struct{}), time.Time{}) }()
	task.tg.exitGroup(ExitStatus{Signal: unix.SIGKILL})
	if err := <-done; err != unix.EINTR {
		t.Errorf("Block of a killed task while paused = %v, want EINTR", err)
	}
	k.Resume()
}
