package syscalls

// pipeSyscalls: pipes, eventfd and readiness (poll, ppoll, select,
// pselect6). Handlers in sys_pipe.go and sys_poll.go.
var pipeSyscalls = []entry{
	supported("pipe", sysPipe, "ptr"),
	supported("pipe2", sysPipe2, "ptr,oflags"),
	supported("eventfd", sysEventfd, "uint"),
	supported("eventfd2", sysEventfd2, "uint,hex"),
	partial("poll", sysPoll, "ptr,uint,int", "host descriptors (the stdio) are polled every few milliseconds"),
	partial("ppoll", sysPpoll, "ptr,uint,timespec,ptr,size", "host descriptors (the stdio) are polled every few milliseconds"),
	partial("select", sysSelect, "int,ptr,ptr,ptr,ptr", "host descriptors (the stdio) are polled every few milliseconds"),
	partial("pselect6", sysPselect6, "int,ptr,ptr,ptr,timespec,ptr", "host descriptors (the stdio) are polled every few milliseconds"),
}
