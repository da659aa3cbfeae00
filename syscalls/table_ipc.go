package syscalls

// ipcSyscalls: System V IPC (shm, sem, msg) and POSIX message queues.
// Handlers in sys_ipc*.go.
var ipcSyscalls = []entry{
	supported("shmget", sysShmget, "int,size,hex"),
	supported("shmat", sysShmat, "int,ptr,hex").returnsHex(),
	supported("shmdt", sysShmdt, "ptr"),
	partial("shmctl", sysShmctl, "int,int,ptr", "SHM_LOCK is recorded; pages are not pinned"),
	supported("semget", sysSemget, "int,int,hex"),
	supported("semop", sysSemop, "int,ptr,size"),
	supported("semtimedop", sysSemtimedop, "int,ptr,size,timespec"),
	supported("semctl", sysSemctl, "int,int,int,hex"),
	supported("msgget", sysMsgget, "int,hex"),
	supported("msgsnd", sysMsgsnd, "int,ptr,size,hex"),
	partial("msgrcv", sysMsgrcv, "int,ptr,size,int,hex", "MSG_COPY is ENOSYS, as without CONFIG_CHECKPOINT_RESTORE"),
	supported("msgctl", sysMsgctl, "int,int,ptr"),
	partial("mq_open", sysMqOpen, "path,oflags,mode,ptr", "queue-count and RLIMIT_MSGQUEUE limits are checked per queue, not summed per user"),
	supported("mq_unlink", sysMqUnlink, "path"),
	supported("mq_timedsend", sysMqTimedsend, "fd,ptr,size,int,ptr"),
	supported("mq_timedreceive", sysMqTimedreceive, "fd,ptr,size,ptr,ptr"),
	supported("mq_getsetattr", sysMqGetsetattr, "fd,ptr,ptr"),
	partial("mq_notify", sysMqNotify, "fd,ptr", "SIGEV_NONE and SIGEV_SIGNAL; SIGEV_THREAD (a netlink socket in glibc) is EINVAL; closing a descriptor does not drop the registration"),
}
