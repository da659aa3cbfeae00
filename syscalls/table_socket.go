package syscalls

// socketSyscalls: sockets: socket, socketpair, bind, connect, listen, accept,
// send and receive, socket options. Handlers in sys_socket*.go; Unix
// sockets live in sentry/socket/unix, inet ones in sentry/socket/hostinet.
var socketSyscalls = []entry{
	partial("socket", sysSocket, "int,hex,int", "AF_UNIX in the sentry; other families only where a package registers them (else EAFNOSUPPORT)"),
	partial("socketpair", sysSocketpair, "int,hex,int,ptr", "AF_UNIX only"),
	partial("bind", sysBind, "fd,ptr,int", unixNote),
	partial("connect", sysConnect, "fd,ptr,int", unixNote),
	supported("listen", sysListen, "fd,int"),
	supported("accept", sysAccept, "fd,ptr,ptr"),
	supported("accept4", sysAccept4, "fd,ptr,ptr,hex"),
	supported("getsockname", sysGetsockname, "fd,ptr,ptr"),
	supported("getpeername", sysGetpeername, "fd,ptr,ptr"),
	partial("getsockopt", sysGetsockopt, "fd,int,int,ptr,ptr", unixOptNote),
	partial("setsockopt", sysSetsockopt, "fd,int,int,ptr,int", unixOptNote),
	supported("shutdown", sysShutdown, "fd,int"),
	partial("sendto", sysSendto, "fd,wbuf,size,hex,ptr,int", unixSendNote),
	partial("recvfrom", sysRecvfrom, "fd,ptr,size,hex,ptr,ptr", unixSendNote),
	partial("sendmsg", sysSendmsg, "fd,ptr,hex", unixSendNote),
	partial("recvmsg", sysRecvmsg, "fd,ptr,hex", unixSendNote),
	partial("sendmmsg", sysSendmmsg, "fd,ptr,uint,hex", unixSendNote),
	partial("recvmmsg", sysRecvmmsg, "fd,ptr,uint,hex,timespec", unixSendNote+"; the timeout is checked only between messages, as Linux"),
}

// Notes shared by the socket entries (AF_UNIX behaviour).
const (
	unixNote = "AF_UNIX: a pathname socket is found through its node's device and inode number, so a bound socket whose " +
		"node was removed can be reached by a new S_IFSOCK node that reuses the inode number"
	unixOptNote = "AF_UNIX: SOL_SOCKET options only (SO_PEEK_OFF, SO_TIMESTAMP*, SO_PASSSEC, SO_PEERSEC, SO_PEERGROUPS, " +
		"SO_*BUFFORCE unknown: ENOPROTOOPT); SO_RCVTIMEO/SO_SNDTIMEO are kept exactly, not rounded to jiffies"
	unixSendNote = "AF_UNIX: MSG_OOB is EOPNOTSUPP; send buffers count data bytes, not skb truesize, so how much fits " +
		"before EAGAIN differs; file descriptors in flight are not garbage-collected (a socket sent over itself leaks) " +
		"and not limited by RLIMIT_NOFILE (no ETOOMANYREFS)"
)
