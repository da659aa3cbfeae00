// Package filter installs the gofer's seccomp filter: the short list of
// host system calls a confined gofer needs to serve its tree. Anything
// else kills the whole gofer process (SCMP_ACT_KILL_PROCESS), so a
// compromised gofer cannot mount, ptrace, execute, create files or open a
// path while following a final symlink; and a missing entry shows up as a
// SIGSYS death in testing, not as a silent hole.
package filter

// common are the calls the gofer makes on every architecture.
var common = []string{
	// Serving: walk (openat/openat2 with O_PATH|O_NOFOLLOW; openat is
	// conditional, below), stat, readlink, reopen, fcntl to clear the
	// O_NONBLOCK the reopen uses, the socket, close.
	"openat2", "fstat", "newfstatat", "statx", "readlinkat", "fcntl",
	"recvmsg", "sendmsg", "close",
	// Reads that are not file data, on an open descriptor: statfs
	// (find -xdev, df) and the xattr reads (ls, cp -a). A read-only
	// tree answers them too.
	"fstatfs", "fgetxattr", "flistxattr",
	// Serve sets umask 0 (harmless: it only masks the gofer's own modes).
	"umask",
	// Logging to stderr.
	"write", "writev",
	// The Go runtime and glibc (cgo threads): memory, threads, signals,
	// time, scheduling. The runtime reads with pread64 now and then
	// (seen killing the gofer when it was missing). clone is conditional (threads only); clone3
	// answers ENOSYS so glibc falls back to clone, whose flags a filter
	// can see.
	"read", "pread64", "mmap", "munmap", "mprotect", "madvise", "mremap", "brk",
	"futex", "set_robust_list", "rseq", "exit", "exit_group",
	"gettid", "getpid", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
	"nanosleep", "clock_gettime", "clock_nanosleep", "gettimeofday", "sched_yield",
	"sched_getaffinity", "getrandom", "restart_syscall", "prlimit64",
	"epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_pwait2", "eventfd2", "pipe2",
}

// WriteSyscalls are the calls a gofer serving a writable tree adds to
// Syscalls, each on a descriptor and a single component (the server
// never resolves a path). The ones that could follow a symlink or make a
// device are conditional (WriteConditional); fchmodat is absent because
// it always follows (fchmodat2 does not with AT_EMPTY_PATH).
var WriteSyscalls = []string{
	"mkdirat", "symlinkat", "unlinkat", "renameat2", "fchmodat2", "fchmod", "ftruncate",
	"fsetxattr", "fremovexattr",
}

// WriteConditional describes the conditional rules of a writable gofer.
var WriteConditional = map[string]string{
	"mknodat":   "only S_IFIFO or S_IFSOCK nodes",
	"linkat":    "never with AT_SYMLINK_FOLLOW",
	"fchownat":  "only with AT_SYMLINK_NOFOLLOW",
	"utimensat": "only with AT_SYMLINK_NOFOLLOW",
}

// archOnly are the calls that exist under these names on one architecture
// only.
var archOnly = map[string][]string{
	"amd64": {"arch_prctl", "epoll_wait", "getrlimit"},
	"arm64": {"getrlimit"},
}

// Syscalls returns the calls allowed without conditions on arch ("amd64"
// or "arm64"). Conditional rules come on top, see Conditional.
func Syscalls(arch string) []string {
	return append(append([]string(nil), common...), archOnly[arch]...)
}

// Conditional describes the calls allowed only with some arguments; it is
// documentation for `moat` listings and the README, the rules themselves
// are built in rules.
var Conditional = map[string]string{
	"openat": "only with O_NOFOLLOW in flags",
	"clone":  "only with CLONE_THREAD in flags (new threads, never processes)",
	"tgkill": "only to the gofer's own thread group",
	"kill":   "only to the gofer itself",
	"clone3": "answered ENOSYS (its flags are out of the filter's sight)",
}
