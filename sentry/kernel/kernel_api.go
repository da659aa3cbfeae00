// Package kernel is the heart of the sentry: the sandbox's tasks (one
// goroutine per application thread), thread groups and their PID
// namespace, file descriptor tables, signals, and the loop that runs an
// application thread on the platform and dispatches its system calls
// through a SyscallTable.
package kernel

// This file fixes the API cmd/moat codes against. The kernel owner fills
// in the bodies; the signatures change only together with their callers.

import (
	"errors"
	"io"
	"log/slog"

	"moat/gofer"
	"moat/platform"
	"moat/platform/arch"

	"golang.org/x/sys/unix"
)

var errTODO = errors.New("kernel: not implemented yet")

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
}

// Config is everything a kernel needs to run one container.
type Config struct {
	Platform platform.Platform
	// Root serves the container's root file system.
	Root *gofer.Client
	// Stdio are host descriptors that become the init's fds 0, 1 and 2.
	Stdio [3]int
	// The init process: argv, environment ("K=V"), working directory.
	Args, Env []string
	Cwd       string
	// Credentials of the init process.
	UID, GID       uint32
	AdditionalGIDs []uint32
	Hostname       string
	Table          *SyscallTable
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

// Kernel is one sandbox's kernel.
type Kernel struct {
	cfg Config
}

// New checks cfg and returns a kernel that has not started anything.
func New(cfg Config) (*Kernel, error) { return &Kernel{cfg: cfg}, nil }

// ResolveExecutable finds Args[0] in the root file system the way execvp
// does (PATH from Env when it has no "/") and checks it is an executable
// regular file. It returns the absolute path, or an error naming the
// command ("exec: \"foo\": executable file not found in $PATH").
func (k *Kernel) ResolveExecutable() (string, error) { return "", errTODO }

// Start loads the init program and starts running it as PID 1. It
// returns once the program is running, or with the exec error.
func (k *Kernel) Start() error { return errTODO }

// Wait blocks until the init process has exited and every task is gone,
// and returns its status.
func (k *Kernel) Wait() ExitStatus { return ExitStatus{} }

// Signal sends sig to the init process, or with all to every process of
// the sandbox.
func (k *Kernel) Signal(sig unix.Signal, all bool) error { return errTODO }

// Processes returns the sandbox PIDs of all live processes.
func (k *Kernel) Processes() []int { return nil }

// Task is one application thread.
type Task struct {
	k *Kernel
}
