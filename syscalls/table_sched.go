package syscalls

// schedSyscalls: scheduling, priorities and the other small process
// calls (sched_*, getpriority, getcpu, personality, pidfd_*). Handlers in
// sys_sched*.go.
var schedSyscalls = []entry{
	partial("sched_setscheduler", sysSchedSetscheduler, "int,int,ptr", "recorded and reported; the host schedules the thread as before. SCHED_DEADLINE is EPERM"),
	supported("sched_getscheduler", sysSchedGetscheduler, "int"),
	partial("sched_setparam", sysSchedSetparam, "int,ptr", "recorded and reported; the host's scheduling is unchanged"),
	supported("sched_getparam", sysSchedGetparam, "int,ptr"),
	supported("sched_get_priority_max", sysSchedGetPriorityMax, "int"),
	supported("sched_get_priority_min", sysSchedGetPriorityMin, "int"),
	partial("sched_rr_get_interval", sysSchedRrGetInterval, "int,ptr", "SCHED_OTHER threads report a fixed 4 ms slice"),
	partial("sched_setattr", sysSchedSetattr, "int,ptr,uint", "recorded; SCHED_DEADLINE is EINVAL, utilization clamps EOPNOTSUPP"),
	supported("sched_getattr", sysSchedGetattr, "int,ptr,uint,uint"),
	partial("sched_setaffinity", sysSchedSetaffinity, "int,size,ptr", "recorded and reported by sched_getaffinity and getcpu; threads still run on any host CPU"),
	supported("sched_getaffinity", sysSchedGetaffinity, "int,size,ptr"),
	partial("getcpu", sysGetcpu, "ptr,ptr,ptr", "reports the lowest CPU of the thread's mask and node 0"),
	partial("setpriority", sysSetpriority, "int,int,int", "nice values are recorded; the host's scheduling is unchanged"),
	supported("getpriority", sysGetpriority, "int,int"),
	partial("personality", sysPersonality, "hex", "recorded; only ADDR_NO_RANDOMIZE acts (the next exec's layout is not randomised by moat, though the host still places the vDSO)"),
	partial("ioprio_set", sysIoprioSet, "int,int,hex", "recorded; the host's I/O scheduling is unchanged"),
	supported("ioprio_get", sysIoprioGet, "int,int"),
	partial("membarrier", sysMembarrier, "int,uint,int", "no RSEQ commands; every barrier is a host MEMBARRIER_CMD_GLOBAL (slow but sufficient)"),
	supported("pidfd_open", sysPidfdOpen, "int,uint"),
	supported("pidfd_send_signal", sysPidfdSendSignal, "fd,signal,ptr,uint"),
	partial("pidfd_getfd", sysPidfdGetfd, "fd,fd,uint", "only the caller's own process: moat refuses ptrace, so other processes are EPERM"),
}
