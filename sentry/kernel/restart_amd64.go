package kernel

// restartSyscallNo is __NR_restart_syscall on x86_64.
const restartSyscallNo = 219

// rewindToRestartSyscall makes the thread call restart_syscall when it
// resumes: the syscall instruction runs again with rax holding its number.
func (t *Task) rewindToRestartSyscall() {
	t.regs.RestartSyscall()
	t.regs.Rax = restartSyscallNo
}
