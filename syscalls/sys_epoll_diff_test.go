package syscalls_test

import "testing"

// TestEpollDifferential runs epoll.c natively and in moat and compares
// the outputs: level- and edge-triggered reporting, one-shot, MOD, the
// ready list's order, nesting and ELOOP, timeouts, signals, dup/close
// and the error paths.
func TestEpollDifferential(t *testing.T) {
	needDiffHost(t)
	root := tree{progs: []string{"epoll"}}.make(t)
	diffRun(t, root, root, []string{"epoll"})
}
