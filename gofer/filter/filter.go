// Package filter installs the gofer's seccomp filter: the short list of
// host system calls a confined gofer needs to serve its tree. Anything
// else kills the whole gofer process (SCMP_ACT_KILL_PROCESS), so a
// compromised gofer cannot mount, ptrace, execute, create files or open a
// path while following a final symlink; and a missing entry shows up as a
// SIGSYS death in testing, not as a silent hole.
package filter

import (
	"fmt"
	"runtime"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// common are the calls the gofer makes on every architecture.
var common = []string{
	// Serving: walk (openat/openat2 with O_PATH|O_NOFOLLOW; openat is
	// conditional, below), stat, readlink, reopen, fcntl to clear the
	// O_NONBLOCK the reopen uses, the socket, close.
	"openat2", "fstat", "newfstatat", "statx", "readlinkat", "fcntl",
	"recvmsg", "sendmsg", "close",
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
	"fstatfs", "fgetxattr", "flistxattr", "fsetxattr", "fremovexattr",
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

// Install loads the filter for the calling process: every thread (TSYNC),
// with no_new_privs set. It is final: nothing can widen it afterwards.
// writable adds WriteSyscalls and WriteConditional.
func Install(writable bool) error {
	f, err := build(runtime.GOARCH, unix.Getpid(), writable)
	if err != nil {
		return err
	}
	defer f.Release()
	if err := f.Load(); err != nil {
		return fmt.Errorf("gofer filter: loading: %w", err)
	}
	return nil
}

// build makes the filter for arch; pid is the gofer's own, the only
// target kill and tgkill may name.
func build(arch string, pid int, writable bool) (*seccomp.ScmpFilter, error) {
	sarch, err := seccomp.GetArchFromString(map[string]string{"amd64": "amd64", "arm64": "arm64"}[arch])
	if err != nil {
		return nil, fmt.Errorf("gofer filter: architecture %q: %w", arch, err)
	}
	f, err := seccomp.NewFilter(seccomp.ActKillProcess)
	if err != nil {
		return nil, fmt.Errorf("gofer filter: %w", err)
	}
	if err := fill(f, sarch, arch, pid, writable); err != nil {
		f.Release()
		return nil, err
	}
	return f, nil
}

func fill(f *seccomp.ScmpFilter, sarch seccomp.ScmpArch, arch string, pid int, writable bool) error {
	native, err := seccomp.GetNativeArch()
	if err != nil {
		return fmt.Errorf("gofer filter: native architecture: %w", err)
	}
	if sarch != native {
		// Building for another architecture (the tests check the
		// arm64 names on amd64): rules then go to that arch only.
		if err := f.AddArch(sarch); err != nil {
			return fmt.Errorf("gofer filter: adding %v: %w", sarch, err)
		}
		if err := f.RemoveArch(native); err != nil {
			return fmt.Errorf("gofer filter: removing %v: %w", native, err)
		}
	}
	if err := f.SetNoNewPrivsBit(true); err != nil {
		return fmt.Errorf("gofer filter: no_new_privs: %w", err)
	}
	lookup := func(name string) (seccomp.ScmpSyscall, error) {
		nr, err := seccomp.GetSyscallFromNameByArch(name, sarch)
		if err != nil {
			return 0, fmt.Errorf("gofer filter: %s on %s: %w", name, arch, err)
		}
		return nr, nil
	}
	names := Syscalls(arch)
	if writable {
		names = append(names, WriteSyscalls...)
	}
	for _, name := range names {
		nr, err := lookup(name)
		if err != nil {
			return err
		}
		if err := f.AddRule(nr, seccomp.ActAllow); err != nil {
			return fmt.Errorf("gofer filter: allowing %s: %w", name, err)
		}
	}
	type cond struct {
		name string
		arg  uint
		op   seccomp.ScmpCompareOp
		vals []uint64
	}
	conds := []cond{
		{"openat", 2, seccomp.CompareMaskedEqual, []uint64{unix.O_NOFOLLOW, unix.O_NOFOLLOW}},
		{"clone", 0, seccomp.CompareMaskedEqual, []uint64{unix.CLONE_THREAD, unix.CLONE_THREAD}},
		{"tgkill", 0, seccomp.CompareEqual, []uint64{uint64(pid)}},
		{"kill", 0, seccomp.CompareEqual, []uint64{uint64(pid)}},
	}
	if writable {
		conds = append(conds,
			cond{"mknodat", 2, seccomp.CompareMaskedEqual, []uint64{unix.S_IFMT, unix.S_IFIFO}},
			cond{"mknodat", 2, seccomp.CompareMaskedEqual, []uint64{unix.S_IFMT, unix.S_IFSOCK}},
			cond{"linkat", 4, seccomp.CompareMaskedEqual, []uint64{unix.AT_SYMLINK_FOLLOW, 0}},
			cond{"fchownat", 4, seccomp.CompareMaskedEqual, []uint64{unix.AT_SYMLINK_NOFOLLOW, unix.AT_SYMLINK_NOFOLLOW}},
			cond{"utimensat", 3, seccomp.CompareMaskedEqual, []uint64{unix.AT_SYMLINK_NOFOLLOW, unix.AT_SYMLINK_NOFOLLOW}},
		)
	}
	for _, c := range conds {
		nr, err := lookup(c.name)
		if err != nil {
			return err
		}
		sc, err := seccomp.MakeCondition(c.arg, c.op, c.vals...)
		if err != nil {
			return fmt.Errorf("gofer filter: condition on %s: %w", c.name, err)
		}
		if err := f.AddRuleConditional(nr, seccomp.ActAllow, []seccomp.ScmpCondition{sc}); err != nil {
			return fmt.Errorf("gofer filter: allowing %s conditionally: %w", c.name, err)
		}
	}
	nr, err := lookup("clone3")
	if err != nil {
		return err
	}
	if err := f.AddRule(nr, seccomp.ActErrno.SetReturnCode(int16(unix.ENOSYS))); err != nil {
		return fmt.Errorf("gofer filter: clone3: %w", err)
	}
	return nil
}
