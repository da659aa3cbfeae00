package syscalls

// schedSyscalls: scheduling, priorities and the other small process
// calls (sched_*, getpriority, getcpu, personality, pidfd_*). Handlers in
// sys_sched*.go.
var schedSyscalls = []entry{}
