package kernel

// restartSyscallNo is __NR_restart_syscall on aarch64.
const restartSyscallNo = 128

// rewindToRestartSyscall makes the thread call restart_syscall when it
// resumes: svc #0 runs again with x8 holding its number.
func (t *Task) rewindToRestartSyscall() {
	t.regs.RestartSyscall()
	t.regs.Regs[8] = restartSyscallNo
}
