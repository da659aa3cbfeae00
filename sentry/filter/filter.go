// Package filter installs the sentry's own seccomp filter: the short list
// of host system calls the sentry may make once application code runs.
//
// The filter is the sentry's last wall: a bug that lets an application
// steer the sentry still cannot open a host path, execute a program, mount
// anything or load kernel code, because the host kernel kills the whole
// sentry process the moment it tries. Anything not listed here kills the
// process too (SCMP_ACT_KILL_PROCESS), so a missing entry shows up as a
// SIGSYS death in testing rather than as a silent hole.
package filter

import (
	"errors"

	"golang.org/x/sys/unix"
)

// Forbidden lists calls that kill the sentry whatever the platform asks
// for: the ones that reach the host file system, start programs, change
// mounts or load code into the kernel. Install refuses an extra list that
// names one of them.
var Forbidden = []string{
	"open", "openat", "openat2", "open_by_handle_at", "creat",
	"execve", "execveat",
	"mount", "umount2", "pivot_root", "chroot", "move_mount", "fsopen", "fsmount", "open_tree",
	"init_module", "finit_module", "delete_module",
	"kexec_load", "kexec_file_load",
	"bpf",
}

// Rule allows one host call: outright when Values is empty, otherwise only
// when argument Arg (0-based) equals one of Values.
type Rule struct {
	Name   string
	Arg    uint
	Values []uint64
}

// Allow returns rules allowing each named call outright.
func Allow(names ...string) []Rule {
	rules := make([]Rule, len(names))
	for i, n := range names {
		rules[i] = Rule{Name: n}
	}
	return rules
}

var errMallopt = errors.New("sentry filter: mallopt(M_ARENA_MAX, 1) failed")

// threadFlags are the clone flags of a new thread, as the Go runtime
// (CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_SYSVSEM|CLONE_THREAD)
// and glibc's pthread_create pass them; cgo threads add the optional
// flags below.
const threadFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
	unix.CLONE_SYSVSEM | unix.CLONE_THREAD

// threadOptional are clone flags pthread_create adds that do not make the
// child anything but a thread of this process.
const threadOptional = unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID

// allowed are the calls the Go runtime and the sentry make, allowed
// whatever their arguments. Calls allowed only with some arguments are
// in conditional below.
var allowed = []string{
	// Memory, threads, scheduling: the Go runtime and glibc.
	"mmap", "munmap", "madvise", "mprotect", "mremap", "brk", "membarrier",
	"futex", "set_robust_list", "rseq", "sched_yield", "sched_getaffinity",
	"gettid", "getpid", "exit", "exit_group", "restart_syscall",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
	"nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "getrandom", "uname", "sysinfo",
	// Descriptors the sentry already holds: host files the gofer passed,
	// the control socket, pipes, the platform's memfds.
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
	"lseek", "close", "fstat", "fstatfs", "getdents64", "dup", "dup3", "ftruncate", "fallocate", "fsync", "fdatasync",
	"epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_pwait2", "eventfd2", "pipe2", "ppoll", "pselect6",
	"sendmsg", "recvmsg", "sendto", "recvfrom", "accept4", "shutdown", "getsockname", "getpeername", "getsockopt",
	"memfd_create", "timerfd_create", "timerfd_settime", "timerfd_gettime",
	"wait4", "waitid",
}

// amd64Only are calls the Go runtime uses on amd64 whose arm64 twins are
// in the list above (epoll_pwait, ...).
var amd64Only = []string{"epoll_wait", "epoll_create", "arch_prctl", "pipe", "dup2", "poll"}

// allowedIoctls are the only ioctl requests the sentry makes: terminal
// queries and settings on the container's host stdio, and non-blocking
// and close-on-exec switches. Not TIOCSTI (typing into the host's
// terminal), TIOCSPGRP/TIOCSCTTY (taking the host terminal's foreground
// or a controlling terminal), nor the pty-allocation requests (create
// allocates the console before the sentry exists).
var allowedIoctls = []uint64{
	unix.TCGETS, unix.TCSETS, unix.TCSETSW, unix.TCSETSF, unix.TIOCGWINSZ, unix.TIOCSWINSZ,
	unix.TIOCGPGRP, unix.TIOCINQ, fionbio, fioclex, fionclex,
	// Queue sizes of host inet sockets (SIOCINQ is TIOCINQ).
	unix.SIOCOUTQ,
	// tcflush, tcflow, tcdrain and tcsendbreak of the app on a host
	// terminal stdio (sentry/fs/host/ioctl.go): they act on that
	// terminal's queues only.
	unix.TCFLSH, unix.TCXONC, unix.TCSBRK, tcsbrkp,
}

// InterfaceQueries are the netdevice(7) ioctls hostinet passes to a host
// socket: reading an interface's name, index, flags, addresses, MTU and
// hardware address, and the interface list. No SIOCS* (setting) request.
var InterfaceQueries = []uint64{
	unix.SIOCGIFCONF, unix.SIOCGIFNAME, unix.SIOCGIFINDEX, unix.SIOCGIFFLAGS,
	unix.SIOCGIFADDR, unix.SIOCGIFNETMASK, unix.SIOCGIFBRDADDR, unix.SIOCGIFMTU,
	unix.SIOCGIFHWADDR,
}

// Generic ioctl numbers (asm-generic/ioctls.h, the same on amd64 and
// arm64) that x/sys/unix does not export.
const (
	tcsbrkp  = 0x5425
	fionbio  = 0x5421
	fionclex = 0x5450
	fioclex  = 0x5451
)

// allowedFcntls are the fcntl commands the Go runtime and the sentry use.
var allowedFcntls = []uint64{
	unix.F_GETFD, unix.F_SETFD, unix.F_GETFL, unix.F_SETFL, unix.F_DUPFD, unix.F_DUPFD_CLOEXEC,
	unix.F_GETLK, unix.F_SETLK, unix.F_SETLKW, unix.F_OFD_GETLK, unix.F_OFD_SETLK, unix.F_OFD_SETLKW,
	unix.F_ADD_SEALS, unix.F_GET_SEALS,
}

// allowedPrctls are the prctl options the Go runtime and glibc use.
var allowedPrctls = []uint64{
	unix.PR_GET_NAME, unix.PR_SET_NAME, unix.PR_GET_DUMPABLE, unix.PR_SET_VMA,
	unix.PR_GET_NO_NEW_PRIVS, unix.PR_CAPBSET_READ,
}

// SockOpt is one socket option: a setsockopt level and name.
type SockOpt struct{ Level, Name int }

// SetSockOpts are the options the sentry may set on its host inet
// sockets (sentry/socket/hostinet, which refuses any other with
// ENOPROTOOPT before asking the host). Options that need a capability
// the sentry lacks (SO_BINDTODEVICE, SO_MARK, SO_DEBUG, IP_TRANSPARENT)
// or that act on raw packets are absent.
var SetSockOpts = []SockOpt{
	{unix.SOL_SOCKET, unix.SO_REUSEADDR}, {unix.SOL_SOCKET, unix.SO_REUSEPORT},
	{unix.SOL_SOCKET, unix.SO_KEEPALIVE}, {unix.SOL_SOCKET, unix.SO_RCVBUF},
	{unix.SOL_SOCKET, unix.SO_SNDBUF}, {unix.SOL_SOCKET, unix.SO_BROADCAST},
	{unix.SOL_SOCKET, unix.SO_LINGER}, {unix.SOL_SOCKET, unix.SO_OOBINLINE},
	{unix.SOL_SOCKET, unix.SO_RCVLOWAT}, {unix.SOL_SOCKET, unix.SO_PRIORITY},
	{unix.SOL_SOCKET, unix.SO_RCVTIMEO_OLD}, {unix.SOL_SOCKET, unix.SO_SNDTIMEO_OLD},
	{unix.SOL_SOCKET, unix.SO_RCVTIMEO_NEW}, {unix.SOL_SOCKET, unix.SO_SNDTIMEO_NEW},
	{unix.SOL_SOCKET, unix.SO_TIMESTAMP_OLD}, {unix.SOL_SOCKET, unix.SO_TIMESTAMPNS_OLD},
	{unix.SOL_SOCKET, unix.SO_TIMESTAMP_NEW}, {unix.SOL_SOCKET, unix.SO_TIMESTAMPNS_NEW},
	{unix.SOL_SOCKET, unix.SO_PASSCRED},
	{unix.IPPROTO_TCP, unix.TCP_NODELAY}, {unix.IPPROTO_TCP, unix.TCP_MAXSEG},
	{unix.IPPROTO_TCP, unix.TCP_CORK}, {unix.IPPROTO_TCP, unix.TCP_KEEPIDLE},
	{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL}, {unix.IPPROTO_TCP, unix.TCP_KEEPCNT},
	{unix.IPPROTO_TCP, unix.TCP_SYNCNT}, {unix.IPPROTO_TCP, unix.TCP_LINGER2},
	{unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT}, {unix.IPPROTO_TCP, unix.TCP_WINDOW_CLAMP},
	{unix.IPPROTO_TCP, unix.TCP_QUICKACK}, {unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT},
	{unix.IPPROTO_TCP, unix.TCP_FASTOPEN}, {unix.IPPROTO_TCP, unix.TCP_FASTOPEN_CONNECT},
	{unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT}, {unix.IPPROTO_TCP, unix.TCP_CONGESTION},
	{unix.IPPROTO_UDP, unix.UDP_CORK},
	{unix.IPPROTO_IP, unix.IP_TOS}, {unix.IPPROTO_IP, unix.IP_TTL},
	{unix.IPPROTO_IP, unix.IP_RECVERR}, {unix.IPPROTO_IP, unix.IP_PKTINFO},
	{unix.IPPROTO_IP, unix.IP_RECVTOS}, {unix.IPPROTO_IP, unix.IP_RECVTTL},
	{unix.IPPROTO_IP, unix.IP_MTU_DISCOVER}, {unix.IPPROTO_IP, unix.IP_FREEBIND},
	{unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT},
	{unix.IPPROTO_IP, unix.IP_MULTICAST_TTL}, {unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP},
	{unix.IPPROTO_IP, unix.IP_MULTICAST_IF}, {unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP},
	{unix.IPPROTO_IP, unix.IP_DROP_MEMBERSHIP},
	{unix.IPPROTO_IPV6, unix.IPV6_V6ONLY}, {unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS},
	{unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS}, {unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_LOOP},
	{unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF}, {unix.IPPROTO_IPV6, unix.IPV6_ADD_MEMBERSHIP},
	{unix.IPPROTO_IPV6, unix.IPV6_DROP_MEMBERSHIP}, {unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO},
	{unix.IPPROTO_IPV6, unix.IPV6_TCLASS}, {unix.IPPROTO_IPV6, unix.IPV6_RECVTCLASS},
	{unix.IPPROTO_IPV6, unix.IPV6_RECVERR}, {unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER},
	{unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT},
	// NETLINK_ROUTE: event groups (readable without privilege) and the
	// extended-ack and strict-check modes iproute2 asks for.
	{unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP}, {unix.SOL_NETLINK, unix.NETLINK_DROP_MEMBERSHIP},
	{unix.SOL_NETLINK, unix.NETLINK_EXT_ACK}, {unix.SOL_NETLINK, unix.NETLINK_GET_STRICT_CHK},
}
