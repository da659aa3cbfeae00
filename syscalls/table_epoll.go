package syscalls

// epollSyscalls: epoll instances. Handlers in sys_epoll.go.
var epollSyscalls = []entry{
	supported("epoll_create", sysEpollCreate, "int"),
	supported("epoll_create1", sysEpollCreate1, "hex"),
	partial("epoll_ctl", sysEpollCtl, "fd,int,fd,ptr", "EPOLLEXCLUSIVE wakes every waiter; EPOLLWAKEUP is ignored"),
	partial("epoll_wait", sysEpollWait, "fd,ptr,int,int", "host descriptors (the stdio) are polled every few milliseconds"),
	partial("epoll_pwait", sysEpollPwait, "fd,ptr,int,int,ptr,size", "host descriptors (the stdio) are polled every few milliseconds"),
	partial("epoll_pwait2", sysEpollPwait2, "fd,ptr,int,timespec,ptr,size", "host descriptors (the stdio) are polled every few milliseconds"),
}
