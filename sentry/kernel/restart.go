package kernel

import "golang.org/x/sys/unix"

// RestartBlock continues a system call that a signal interrupted with
// ERESTART_RESTARTBLOCK (nanosleep, clock_nanosleep): when no handler
// runs, the thread is rewound to call restart_syscall(2) instead of the
// original call, which runs the block (the remaining sleep, not the
// whole one again).
type RestartBlock interface {
	// Restart resumes the call; it may return ERESTART_RESTARTBLOCK
	// again after setting a new block.
	Restart(t *Task) (uintptr, error)
}

// SetRestartBlock records how restart_syscall resumes the call being
// handled; the handler then returns ERESTART_RESTARTBLOCK.
func (t *Task) SetRestartBlock(r RestartBlock) { t.restart = r }

// RestartSyscall implements restart_syscall(2): it runs and clears the
// restart block, or fails with EINTR when there is none (Linux's
// do_no_restart_syscall), as when an application calls it by itself.
func (t *Task) RestartSyscall() (uintptr, error) {
	r := t.restart
	t.restart = nil
	if r == nil {
		return 0, unix.EINTR
	}
	return r.Restart(t)
}
