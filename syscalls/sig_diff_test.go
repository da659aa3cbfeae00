package syscalls_test

import "testing"

// TestSignalJobControlDifferential runs sig_jobctl.c (group stops,
// SIGCONT, wait for stopped and continued children, orphaned process
// groups, a stop during nanosleep) natively and in moat.
func TestSignalJobControlDifferential(t *testing.T) {
	needDiffHost(t)
	root := tree{progs: []string{"sig_jobctl"}}.make(t)
	diffRun(t, root, root, []string{"sig_jobctl"})
}

// TestSignalfdDifferential runs sig_fd.c (signalfd, signalfd4) natively
// and in moat.
func TestSignalfdDifferential(t *testing.T) {
	needDiffHost(t)
	root := tree{progs: []string{"sig_fd"}}.make(t)
	diffRun(t, root, root, []string{"sig_fd"})
}

// TestSignalWaitDifferential runs sig_wait.c (rt_sigtimedwait,
// rt_sigqueueinfo, rt_tgsigqueueinfo, restart_syscall) natively and in
// moat.
func TestSignalWaitDifferential(t *testing.T) {
	needDiffHost(t)
	root := tree{progs: []string{"sig_wait"}}.make(t)
	diffRun(t, root, root, []string{"sig_wait"})
}
