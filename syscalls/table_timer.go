package syscalls

// timerSyscalls: timer and signal descriptors (timerfd, signalfd), POSIX
// timers, synchronous signal waits and CPU-time accounting. Handlers in
// sys_timer*.go.
var timerSyscalls = []entry{
	supported("timer_create", sysTimerCreate, "clockid,ptr,ptr"),
	supported("timer_settime", sysTimerSettime, "int,int,ptr,ptr"),
	supported("timer_gettime", sysTimerGettime, "int,ptr"),
	supported("timer_getoverrun", sysTimerGetoverrun, "int"),
	supported("timer_delete", sysTimerDelete, "int"),
	partial("timerfd_create", sysTimerfdCreate, "clockid,hex", "the *_ALARM clocks run as their non-alarm twins (no host suspend to wake from)"),
	partial("timerfd_settime", sysTimerfdSettime, "fd,hex,ptr,ptr", "TFD_TIMER_CANCEL_ON_SET is accepted but never cancels (the host's clock changes are not watched)"),
	supported("timerfd_gettime", sysTimerfdGettime, "fd,ptr"),
	supported("times", sysTimes, "ptr"),
	partial("getrusage", sysGetrusage, "int,ptr", getrusageNote),
	partial("signalfd", sysSignalfd, "fd,ptr,size", signalfdNote),
	partial("signalfd4", sysSignalfd4, "fd,ptr,size,hex", signalfdNote),
	supported("rt_sigtimedwait", sysRtSigtimedwait, "ptr,ptr,timespec,size"),
	partial("rt_sigqueueinfo", sysRtSigqueueinfo, "int,signal,ptr", sigqueueinfoNote),
	partial("rt_tgsigqueueinfo", sysRtTgsigqueueinfo, "int,int,signal,ptr", sigqueueinfoNote),
	supported("restart_syscall", sysRestartSyscall, ""),
}
