// Package proc is the sandbox's /proc: its own processes only (self,
// thread-self, [pid]/...), and the global files programs read (cpuinfo,
// meminfo, stat, uptime, version, sys/...). Everything is generated from
// the kernel at read time through Source, which *kernel.Kernel
// implements (in sentry/kernel/introspect.go): this package does not
// import the kernel, so the kernel's mount code can import it.
package proc

import (
	"time"

	"moat/sentry/mm"
	"moat/sentry/vfs"
)

// Source is what proc needs from the kernel.
type Source interface {
	// VFS returns the sandbox's mount tree (mounts, mountinfo, paths).
	VFS() *vfs.VFS
	// Caller returns the process and thread c belongs to (vfs.Creds's
	// Caller); ok is false when c names no task.
	Caller(c *vfs.Creds) (pid, tid int32, ok bool)
	// PIDs returns the sandbox's processes, zombies included, sorted.
	PIDs() []int32
	// Thread returns thread tid of process pid; for a zombie process
	// (tid == pid) a Thread whose Status says so and that has nothing
	// else. ok is false when there is no such thread.
	Thread(pid, tid int32) (Thread, bool)
	// Uptime is how long the sandbox has been up.
	Uptime() time.Duration
	// NumCPU is the number of CPUs the sandbox reports.
	NumCPU() int
	// Hostname is the UTS node name.
	Hostname() string
	// Memory returns the memory figures meminfo shows.
	Memory() Memory
}

// Thread is one thread as proc sees it. Every method takes a fresh look
// (the thread may have exited since it was found: methods then return
// zero values and ok false).
type Thread interface {
	// Status is a snapshot of the thread's identity and state.
	Status() (Status, bool)
	// TIDs lists the threads of its process.
	TIDs() []int32
	// SetComm sets the thread's name (a write to comm).
	SetComm(name []byte)
	// MM returns the thread's memory, nil for a zombie.
	MM() *mm.MemoryManager
	// FDs lists its open descriptors in order.
	FDs() []int32
	// FD returns the file at fd with a new reference and its close-on-
	// exec flag (EBADF if fd is not open).
	FD(fd int32) (f *vfs.File, cloexec bool, err error)
	// FSContext returns its root and working directory.
	FSContext() (root, cwd vfs.Location, ok bool)
	// Exec describes the program its process runs.
	Exec() Exec
	// Limits returns its process's resource limits, indexed by RLIMIT_*.
	Limits() []Rlimit
}

// Status is what stat and status report about a thread.
type Status struct {
	Comm string
	// State is the one-letter state: R, S, Z.
	State                byte
	PID, TID, PPID       int32
	PGID, SID            int32
	UIDs, GIDs           [4]uint32 // real, effective, saved, filesystem
	Groups               []uint32
	Umask                uint32
	Threads              int
	SigPnd, ShdPnd       uint64
	SigBlk, SigIgn       uint64
	SigCgt               uint64
	StartTime            time.Duration // since the sandbox booted
	ExitSignal           int32
	UserTime, SystemTime time.Duration
	// Capability sets, bit n for CAP_* number n.
	CapInh, CapPrm, CapEff uint64
	CapBnd, CapAmb         uint64
}

// Exec is the program a process runs and where its arguments and
// environment strings lie in its memory.
type Exec struct {
	// Path is the executable's path as exec named it; Loc is the file.
	Path               string
	Loc                vfs.Location
	ArgvStart, ArgvEnd uintptr
	EnvvStart, EnvvEnd uintptr
	// Auxv is the auxiliary vector the loader wrote, as key, value
	// pairs without the terminating AT_NULL.
	Auxv []uint64
}

// Rlimit is one resource limit; ^uint64(0) is unlimited.
type Rlimit struct {
	Cur, Max uint64
}

// Memory is what meminfo shows, in bytes.
type Memory struct {
	Total, Free, Available, Shared, Buffers, Cached uint64
	SwapTotal, SwapFree                             uint64
}
