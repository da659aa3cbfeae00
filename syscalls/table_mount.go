package syscalls

// mountSyscalls: the mount tree as the application sees it (statfs of tmpfs/proc mounts, sethostname ...).
var mountSyscalls = []entry{}
