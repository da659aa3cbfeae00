package syscalls

// ipcSyscalls: System V IPC (shm, sem, msg) and POSIX message queues.
// Handlers in sys_ipc*.go.
var ipcSyscalls = []entry{}
