package syscalls

// controlSyscalls: process controls: prctl, seccomp and capabilities.
// Handlers in sys_control*.go.
var controlSyscalls = []entry{
	partial("prctl", sysPrctl, "int,hex,hex,hex,hex",
		"PR_SET_MM changes fail with EPERM; PR_SET_VMA names are not kept; PR_SET_TSC accepts only PR_TSC_ENABLE; "+
			"PR_SET_PDEATHSIG fires when the parent process ends, not the parent thread; timer slack, THP and MCE policy are recorded only; "+
			"speculation control, FP mode, IO flusher and other rare options fail with EINVAL"),
	partial("seccomp", sysSeccomp, "int,hex,ptr",
		"no user-space notification: SECCOMP_FILTER_FLAG_NEW_LISTENER is EINVAL, SECCOMP_RET_USER_NOTIF and SECCOMP_RET_TRACE give ENOSYS; LOG goes to the sandbox log"),
}
