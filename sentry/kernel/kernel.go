package kernel

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"moat/platform/arch"
	"moat/sentry/kernel/tty"
	"moat/sentry/mm"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Kernel is one sandbox's kernel: its tasks, thread groups and the
// system-call table they run.
type Kernel struct {
	cfg    Config
	log    *slog.Logger
	table  *SyscallTable
	strace io.Writer
	vfs    *vfs.VFS
	// bootTime is when New ran: the sandbox's uptime starts there.
	bootTime time.Time
	// numCPU is the CPU count reported by sched_getaffinity and sysinfo.
	numCPU int
	// creds are the init process's credentials.
	creds *Credentials
	// hostMem is the host's memory as sysinfo reported it at New.
	hostMem HostMemory

	// hostnameMu guards hostname and domainname (the UTS namespace).
	hostnameMu sync.Mutex
	hostname   string
	domainname string

	// mu guards the registries and the exit state below. Lock order:
	// Kernel.mu, then ThreadGroup.mu, then Task.sigMu.
	mu sync.Mutex
	// tasks is every live task by TID; groups every live process by PID.
	tasks  map[int32]*Task
	groups map[int32]*ThreadGroup
	// nextID is the next TID/PID to hand out (init gets 1).
	nextID int32
	init   *ThreadGroup
	// initStatus is set once init's thread group has ended.
	initStatus ExitStatus
	initDone   bool
	started    bool
	// done is closed when init has exited and every task is gone.
	done chan struct{}
	// cttys are the sessions' controlling terminals by SID (sessions_tty.go).
	cttys map[int32]tty.Terminal

	// unknownMu guards unknownSeen, the numbers already logged as missing
	// from the table.
	unknownMu   sync.Mutex
	unknownSeen map[uintptr]bool
	// unknownCount counts calls refused because they are not in the table.
	unknownCount atomic.Uint64

	// warnedMu guards warned, the one-time warnings already logged.
	warnedMu sync.Mutex
	warned   map[string]bool

	// mmMu guards mmUsers, the number of tasks using each memory manager
	// (CLONE_VM shares one). A leaf lock.
	mmMu    sync.Mutex
	mmUsers map[*mm.MemoryManager]int

	// futexes is the sandbox's futex table.
	futexes futexTable

	// straceMu serialises --strace lines of concurrent tasks.
	straceMu sync.Mutex

	// pause stops every task for Pause until Resume (pause.go).
	pause pauseGate

	// ext holds per-sandbox state of packages above the kernel (ext.go).
	ext sync.Map
}

// New checks cfg and returns a kernel that has not started anything.
func New(cfg Config) (*Kernel, error) {
	if cfg.Platform == nil {
		return nil, errors.New("kernel config: no platform")
	}
	if cfg.Table == nil {
		return nil, errors.New("kernel config: no system-call table")
	}
	if cfg.Table.Arch != arch.Name {
		return nil, fmt.Errorf("kernel config: system-call table is for %s, the host is %s", cfg.Table.Arch, arch.Name)
	}
	if len(cfg.Args) == 0 || cfg.Args[0] == "" {
		return nil, errors.New("kernel config: no program to run (empty args)")
	}
	if cfg.Cwd == "" {
		cfg.Cwd = "/"
	}
	if !strings.HasPrefix(cfg.Cwd, "/") {
		return nil, fmt.Errorf("kernel config: cwd %q is not absolute", cfg.Cwd)
	}
	if err := checkRlimits(cfg.Rlimits); err != nil {
		return nil, fmt.Errorf("kernel config: %w", err)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	v := cfg.VFS
	if v == nil {
		var err error
		if v, err = buildRootVFS(cfg); err != nil {
			return nil, err
		}
	}
	hostname := cfg.Hostname
	if hostname == "" {
		hostname = "moat"
	}
	k := &Kernel{
		cfg:         cfg,
		log:         log,
		table:       cfg.Table,
		strace:      cfg.Strace,
		vfs:         v,
		bootTime:    time.Now(),
		numCPU:      runtime.NumCPU(),
		creds:       initCredentials(&cfg),
		hostname:    hostname,
		domainname:  "(none)",
		tasks:       map[int32]*Task{},
		groups:      map[int32]*ThreadGroup{},
		nextID:      1,
		done:        make(chan struct{}),
		unknownSeen: map[uintptr]bool{},
		warned:      map[string]bool{},
		mmUsers:     map[*mm.MemoryManager]int{},
	}
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err == nil {
		u := uint64(si.Unit)
		if u == 0 {
			u = 1
		}
		k.hostMem = HostMemory{
			Total: uint64(si.Totalram) * u, Free: uint64(si.Freeram) * u,
			Shared: uint64(si.Sharedram) * u, Buffer: uint64(si.Bufferram) * u,
			TotalSwap: uint64(si.Totalswap) * u, FreeSwap: uint64(si.Freeswap) * u,
		}
	}
	// The mounts come after the Kernel exists: proc and its kind are
	// made from it.
	if cfg.VFS == nil {
		if err := k.mountAll(); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// VFS returns the sandbox's file system.
func (k *Kernel) VFS() *vfs.VFS { return k.vfs }

// Log returns the sandbox's logger.
func (k *Kernel) Log() *slog.Logger { return k.log }

// Uptime returns how long the sandbox has been up.
func (k *Kernel) Uptime() time.Duration { return time.Since(k.bootTime) }

// NumCPU returns the number of CPUs the sandbox reports.
func (k *Kernel) NumCPU() int { return k.numCPU }

// Hostname returns the UTS node name.
func (k *Kernel) Hostname() string {
	k.hostnameMu.Lock()
	defer k.hostnameMu.Unlock()
	return k.hostname
}

// UnknownSyscalls returns how many calls were refused for not being in
// the table.
func (k *Kernel) UnknownSyscalls() uint64 { return k.unknownCount.Load() }

// Wait blocks until the init process has exited and every task is gone,
// and returns its status.
func (k *Kernel) Wait() ExitStatus {
	<-k.done
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.initStatus
}

// Signal sends sig to the init process, or with all to every process of
// the sandbox, as kill(2) from the host would: the init, like a PID
// namespace's init seen from its parent namespace, gets only SIGKILL,
// SIGSTOP and signals it has a handler for (so `docker stop` on an init
// without a SIGTERM handler waits for its SIGKILL); other processes get
// every signal.
func (k *Kernel) Signal(sig unix.Signal, all bool) error {
	if !ValidSignal(sig) {
		return fmt.Errorf("signal %d: out of range", int(sig))
	}
	k.mu.Lock()
	if !k.started || k.init == nil {
		k.mu.Unlock()
		return errors.New("signal: the container's process has not started")
	}
	var targets []*ThreadGroup
	if all {
		for _, tg := range k.groups {
			if !tg.zombie {
				targets = append(targets, tg)
			}
		}
	} else if !k.initDone {
		targets = append(targets, k.init)
	}
	k.mu.Unlock()
	if len(targets) == 0 {
		return errors.New("signal: the container's process has exited")
	}
	for _, tg := range targets {
		tg.sendSignal(outsideSigInfo(sig))
	}
	return nil
}

// Processes returns the sandbox PIDs of all live processes, sorted.
func (k *Kernel) Processes() []int {
	k.mu.Lock()
	defer k.mu.Unlock()
	pids := make([]int, 0, len(k.groups))
	for pid, tg := range k.groups {
		if !tg.zombie {
			pids = append(pids, int(pid))
		}
	}
	sort.Ints(pids)
	return pids
}

// ThreadGroupByPID returns process pid (live or a zombie), or nil.
func (k *Kernel) ThreadGroupByPID(pid int32) *ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.groups[pid]
}

// TaskByTID returns the live thread tid, or nil.
func (k *Kernel) TaskByTID(tid int32) *Task {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.tasks[tid]
}

// NumTasks returns the number of live tasks.
func (k *Kernel) NumTasks() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.tasks)
}

// unknownSyscall logs a number missing from the table once per sandbox
// and counts every call.
func (k *Kernel) unknownSyscall(t *Task, nr uintptr) {
	k.unknownCount.Add(1)
	k.unknownMu.Lock()
	seen := k.unknownSeen[nr]
	k.unknownSeen[nr] = true
	k.unknownMu.Unlock()
	if seen {
		return
	}
	name := ""
	if nr < uintptr(len(k.table.Names)) {
		name = k.table.Names[nr]
	}
	k.log.Warn("unsupported system call refused with ENOSYS", "nr", nr, "name", name, "pid", t.tg.pid)
}

// warnOnce logs msg the first time it is seen in this sandbox.
func (k *Kernel) warnOnce(msg string, attrs ...any) {
	k.warnedMu.Lock()
	seen := k.warned[msg]
	k.warned[msg] = true
	k.warnedMu.Unlock()
	if !seen {
		k.log.Warn(msg, attrs...)
	}
}

// HostMemory is the memory figures sysinfo reports, in bytes.
type HostMemory struct {
	Total, Free, Shared, Buffer, TotalSwap, FreeSwap uint64
}

// HostMemory returns the host's memory figures as read when the kernel
// was made (the sentry's seccomp filter may not allow sysinfo later).
func (k *Kernel) HostMemory() HostMemory { return k.hostMem }
