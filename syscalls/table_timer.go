package syscalls

// timerSyscalls: timer and signal descriptors (timerfd, signalfd), POSIX
// timers, synchronous signal waits and CPU-time accounting. Handlers in
// sys_timer*.go.
var timerSyscalls = []entry{}
