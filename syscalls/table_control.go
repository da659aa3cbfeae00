package syscalls

// controlSyscalls: process controls: prctl, seccomp and capabilities.
// Handlers in sys_control*.go.
var controlSyscalls = []entry{}
