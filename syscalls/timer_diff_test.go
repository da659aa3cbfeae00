package syscalls_test

import "testing"

// TestTimerDifferential runs timer.c (timerfd, POSIX timers, CPU
// itimers, CPU-time clocks, times, getrusage) natively and in moat and
// compares the outputs.
func TestTimerDifferential(t *testing.T) {
	needDiffHost(t)
	root := tree{progs: []string{"timer"}}.make(t)
	diffRun(t, root, root, []string{"timer"})
}
