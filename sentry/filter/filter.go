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
	"fmt"

	seccomp "github.com/seccomp/libseccomp-golang"
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
}

// Generic ioctl numbers (asm-generic/ioctls.h, the same on amd64 and
// arm64) that x/sys/unix does not export.
const (
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

// Install loads the sentry's filter into every thread of the process
// (libseccomp sets TSYNC, and the kernel then also copies no_new_privs
// to every thread). extra are further calls to allow: the platform's
// (ptrace.HostSyscalls, with the ptrace requests and signals it needs).
// Names unknown to the host architecture are skipped, so one list can
// serve amd64 and arm64.
func Install(extra []Rule) error {
	for _, r := range extra {
		for _, f := range Forbidden {
			if r.Name == f {
				return fmt.Errorf("sentry filter: %q may not be allowed", r.Name)
			}
		}
	}
	if err := limitMallocArenas(); err != nil {
		return err
	}
	f, err := build(extra)
	if err != nil {
		return err
	}
	defer f.Release()
	// The filter is refused without no_new_privs unless the caller has
	// CAP_SYS_ADMIN; the sentry sets it anyway, so ask for it here too.
	if err := f.SetNoNewPrivsBit(true); err != nil {
		return fmt.Errorf("sentry filter: no_new_privs: %w", err)
	}
	if err := f.Load(); err != nil {
		return fmt.Errorf("sentry filter: load: %w", err)
	}
	return nil
}

// build makes the filter without loading it.
func build(extra []Rule) (*seccomp.ScmpFilter, error) {
	f, err := seccomp.NewFilter(seccomp.ActKillProcess)
	if err != nil {
		return nil, fmt.Errorf("sentry filter: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Release()
		}
	}()
	native, err := seccomp.GetNativeArch()
	if err != nil {
		return nil, fmt.Errorf("sentry filter: %w", err)
	}
	uncond := map[string]bool{}
	names := append([]string{}, allowed...)
	if native == seccomp.ArchAMD64 {
		names = append(names, amd64Only...)
	}
	var condExtra []Rule
	for _, r := range extra {
		if len(r.Values) == 0 {
			names = append(names, r.Name)
		} else {
			condExtra = append(condExtra, r)
		}
	}
	for _, name := range names {
		if uncond[name] {
			continue
		}
		uncond[name] = true
		if err := addRule(f, native, name, seccomp.ActAllow, nil); err != nil {
			return nil, err
		}
	}
	if err := addConditional(f, native, uncond, condExtra); err != nil {
		return nil, err
	}
	// clone3 passes its flags in memory, where a filter cannot look:
	// answer ENOSYS so glibc falls back to clone, whose flags it can.
	if !uncond["clone3"] {
		if err := addRule(f, native, "clone3", seccomp.ActErrno.SetReturnCode(int16(unix.ENOSYS)), nil); err != nil {
			return nil, err
		}
	}
	ok = true
	return f, nil
}

// addConditional adds the calls allowed only with some arguments, unless
// uncond (the platform's extra list) already allows them outright.
func addConditional(f *seccomp.ScmpFilter, native seccomp.ScmpArch, uncond map[string]bool, extra []Rule) error {
	type rule struct {
		name string
		arg  uint
		op   seccomp.ScmpCompareOp
		vals []uint64
	}
	var rules []rule
	// The caller's own conditional rules: one allow per value.
	for _, r := range extra {
		for _, v := range r.Values {
			rules = append(rules, rule{r.Name, r.Arg, seccomp.CompareEqual, []uint64{v}})
		}
	}
	// A thread of this process, nothing else: no fork, no new namespace.
	rules = append(rules, rule{"clone", 0, seccomp.CompareMaskedEqual, []uint64{^uint64(threadOptional), threadFlags}})
	for _, req := range allowedIoctls {
		rules = append(rules, rule{"ioctl", 1, seccomp.CompareEqual, []uint64{req}})
	}
	for _, cmd := range allowedFcntls {
		rules = append(rules, rule{"fcntl", 1, seccomp.CompareEqual, []uint64{cmd}})
	}
	for _, opt := range allowedPrctls {
		rules = append(rules, rule{"prctl", 0, seccomp.CompareEqual, []uint64{opt}})
	}
	// stat of a descriptor only: with AT_EMPTY_PATH and an empty path the
	// kernel uses the descriptor. The filter cannot read the path, so it
	// pins the flags to exactly AT_EMPTY_PATH; a non-empty path can then
	// only resolve inside the empty root the sentry pivoted into, or
	// below a directory descriptor the gofer chose to hand over.
	rules = append(rules, rule{"newfstatat", 3, seccomp.CompareEqual, []uint64{unix.AT_EMPTY_PATH}})
	// Reading limits (prlimit64 with a NULL new limit) is what glibc and
	// the Go runtime do; setting them is not.
	rules = append(rules, rule{"prlimit64", 2, seccomp.CompareEqual, []uint64{0}})
	// kill and tgkill: only the sentry itself (the Go runtime signals its
	// own threads with tgkill(getpid(), tid, sig); exitLike re-raises the
	// init's fatal signal). The platform adds the signals it sends stubs.
	self := uint64(unix.Getpid())
	rules = append(rules, rule{"kill", 0, seccomp.CompareEqual, []uint64{self}})
	rules = append(rules, rule{"tgkill", 0, seccomp.CompareEqual, []uint64{self}})
	for _, r := range rules {
		if uncond[r.name] {
			continue
		}
		c, err := seccomp.MakeCondition(r.arg, r.op, r.vals...)
		if err != nil {
			return fmt.Errorf("sentry filter: %s condition: %w", r.name, err)
		}
		if err := addRule(f, native, r.name, seccomp.ActAllow, []seccomp.ScmpCondition{c}); err != nil {
			return err
		}
	}
	// Forbidden calls need no rule of their own: the default action
	// kills, and Install refuses an extra list that would allow one.
	return nil
}

// addRule adds one rule, skipping a name the native architecture lacks
// (open on arm64).
func addRule(f *seccomp.ScmpFilter, native seccomp.ScmpArch, name string, act seccomp.ScmpAction, conds []seccomp.ScmpCondition) error {
	nr, err := seccomp.GetSyscallFromNameByArch(name, native)
	if err != nil || nr < 0 {
		// Unknown to libseccomp, or a pseudo-number: not a call this
		// architecture has.
		return nil
	}
	if conds == nil {
		err = f.AddRule(nr, act)
	} else {
		err = f.AddRuleConditional(nr, act, conds)
	}
	if err != nil {
		return fmt.Errorf("sentry filter: rule for %s: %w", name, err)
	}
	return nil
}
