// Package kernel is the heart of the sentry: the sandbox's tasks (one
// goroutine per application thread), thread groups and their PID
// namespace, file descriptor tables, signals, and the loop that runs an
// application thread on the platform and dispatches its system calls
// through a SyscallTable.
package kernel

// This file fixes the API cmd/moat codes against. The kernel owner fills
// in the bodies; the signatures change only together with their callers.

import (
	"io"
	"log/slog"

	"moat/gofer"
	"moat/platform"
	"moat/platform/arch"
	"moat/sentry/fs/tmpfs"
	"moat/sentry/seccomp"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Support says how completely moat implements a system call.
type Support int

const (
	// Supported: implemented with the kernel's semantics.
	Supported Support = iota
	// Partial: implemented, with differences given in the entry's Note.
	Partial
	// Refused: deliberately not implemented; returns the entry's Errno.
	Refused
)

// SyscallFn handles one system call for task t. It returns the call's
// result, or an error: a unix.Errno is returned to the application as
// -errno; any other error is a sentry bug, logged, and turned into EFAULT.
type SyscallFn func(t *Task, args arch.SyscallArguments) (uintptr, error)

// Syscall is one entry of a system call table.
type Syscall struct {
	Name    string
	Fn      SyscallFn
	Support Support
	Note    string
	Errno   unix.Errno // for Refused entries
}

// SyscallTable maps the host architecture's system-call numbers to
// entries. A number without an entry is refused with ENOSYS, logged once
// per sandbox and counted.
type SyscallTable struct {
	// Arch is the architecture the numbers belong to (arch.Name).
	Arch string
	// Table is indexed by system-call number; a zero Syscall (nil Fn and
	// Support Supported) means "not in the table".
	Table []Syscall
	// Names names every number of the architecture, in or out of the
	// table, for logs ("" where the number is unassigned). May be nil.
	Names []string
	// Strace formats one finished call for Config.Strace: it appends the
	// line (with its trailing newline) to c.Buf. Nil means the kernel
	// prints the bare number and raw arguments.
	Strace func(c *StraceCall)
}

// StraceCall is one finished system call handed to SyscallTable.Strace.
// It lives in the Task and is reused, so the hook must not keep it.
type StraceCall struct {
	Task  *Task
	Sysno uintptr
	Args  arch.SyscallArguments
	// Ret is the result when Err is nil.
	Ret uintptr
	// Err is nil, a unix.Errno, or ErrNoReturn for calls that do not
	// return (exit, exit_group, a successful rt_sigreturn).
	Err error
	// Buf is where the hook appends its line; it is reset before each call.
	Buf []byte
}

// DeviceNode is one node of config.json's linux.devices: Path is
// relative to /dev ("fuse", "net/tun"), Mode has the type bits.
type DeviceNode struct {
	Path     string
	Mode     uint32
	Rdev     uint64
	UID, GID uint32
}

// Config is everything a kernel needs to run one container.
type Config struct {
	Platform platform.Platform
	// Root serves the container's root file system.
	Root *gofer.Client
	// VFS, when not nil, is used as the sandbox's file system instead of
	// a read-only mount of Root (tests, and later bind mounts built by
	// the caller).
	VFS *vfs.VFS
	// RootReadonly mounts the root read-only (config.json's
	// root.readonly).
	RootReadonly bool
	// RootOverlay keeps the root's writes in memory: an overlay whose
	// upper layer is a tmpfs limited by OverlayUpper's size= and
	// nr_inodes= (the annotation dev.moat.overlay=memory, and moat do).
	RootOverlay  bool
	OverlayUpper tmpfs.Options
	// Mounts are mounted in order after the root (config.json's
	// mounts); FSTypes makes the types the kernel cannot build itself
	// (proc, sysfs, devpts ...); Devices opens the device nodes of tmpfs
	// mounts (/dev). Missing FSTypes entries are skipped with a log for
	// proc, sysfs, devpts, mqueue and cgroup, an error for others.
	Mounts  []MountSpec
	FSTypes map[string]FSFactory
	Devices tmpfs.DeviceOpener
	// DeviceNodes are made in a tmpfs mounted at /dev besides the
	// default ones (config.json's linux.devices).
	DeviceNodes []DeviceNode
	// MaskedPaths and ReadonlyPaths are config.json's
	// linux.maskedPaths and linux.readonlyPaths, applied after the
	// mounts as runc does (masks.go).
	MaskedPaths, ReadonlyPaths []string
	// Stdio are host descriptors that become the init's fds 0, 1 and 2.
	Stdio [3]int
	// The init process: argv, environment ("K=V"), working directory.
	Args, Env []string
	Cwd       string
	// Credentials of the init process.
	UID, GID       uint32
	AdditionalGIDs []uint32
	// Umask is the init process's umask (process.user.umask); nil
	// means 022.
	Umask *uint32
	// Caps are the init process's capability sets
	// (process.capabilities); nil means uid 0 has every capability and
	// other uids none, with a full bounding set.
	Caps *CapSets
	// NoNewPrivs sets the init process's no_new_privs bit
	// (process.noNewPrivileges).
	NoNewPrivs bool
	// Seccomp, when not nil, is installed on the init process before its
	// first instruction (linux.seccomp, compiled by seccomp.FromSpec).
	Seccomp seccomp.Filter
	// Rlimits override the init process's default resource limits
	// (process.rlimits), by RLIMIT_* number. New fails on a resource out
	// of range or a soft limit above the hard one.
	Rlimits  map[int]Rlimit
	Hostname string
	Table    *SyscallTable
	// Strace, when not nil, receives one line per application system
	// call with decoded arguments and result.
	Strace io.Writer
	Log    *slog.Logger
}

// ExitStatus is how the container's init ended: Signal is non-zero when it
// was killed by that signal, else Code is its exit code.
type ExitStatus struct {
	Code   int
	Signal unix.Signal
}

// The Kernel, its constructor and methods are in kernel.go; Task is in
// task.go.
