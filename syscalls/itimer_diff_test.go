package syscalls_test

import "testing"

// TestITimerDifferential runs itimer.c (setitimer, getitimer, alarm)
// natively and in moat and compares the outputs.
func TestITimerDifferential(t *testing.T) {
	needDiffHost(t)
	root := tree{progs: []string{"itimer"}}.make(t)
	diffRun(t, root, root, []string{"itimer"})
}
