package kernel

import (
	"errors"
	"fmt"
	"path"

	"moat/sentry/fs/host"
	"moat/sentry/mm"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// SpawnConfig describes a process started in a running sandbox from
// outside (moat exec), as runc exec joins a running container.
type SpawnConfig struct {
	// Args, Env and Cwd are the program, its environment ("K=V") and
	// working directory (absolute; "" means "/"). Args[0] without a "/"
	// is looked up in Env's PATH inside the sandbox.
	Args, Env []string
	Cwd       string
	// Credentials; Caps nil means uid 0 has every capability and other
	// uids none, as for the init.
	UID, GID       uint32
	AdditionalGIDs []uint32
	Caps           *CapSets
	// Umask nil means the init's configured umask.
	Umask *uint32
	// Rlimits override the default limits by RLIMIT_* number; nil means
	// the init's configured ones.
	Rlimits map[int]Rlimit
	// FDs are host descriptors that become the process's fds 0, 1, 2,
	// 3 ... in order; each is duplicated, the caller keeps its own.
	FDs []int
	// NoNewPrivs sets the process's no_new_privs bit
	// (process.noNewPrivileges); the container's seccomp profile
	// (Config.Seccomp) applies to it whatever this says.
	NoNewPrivs bool
}

// Process is a process started by Spawn.
type Process struct {
	tg   *ThreadGroup
	done chan ExitStatus
}

// PID returns the process's PID in the sandbox.
func (p *Process) PID() int32 { return p.tg.pid }

// Done receives the process's status once, when it has ended (it is
// reaped at once: it has no parent in the sandbox).
func (p *Process) Done() <-chan ExitStatus { return p.done }

// Signal sends sig to the process as kill(2) from the host would.
func (p *Process) Signal(sig unix.Signal) error {
	if !ValidSignal(sig) {
		return fmt.Errorf("signal %d: out of range", int(sig))
	}
	p.tg.sendSignal(outsideSigInfo(sig))
	return nil
}

// maxSpawnFDs bounds SpawnConfig.FDs (stdio and preserved descriptors).
const maxSpawnFDs = 1024

// Spawn starts a new process in the running sandbox. Like a process
// runc exec puts into a container's PID namespace, it gets a new PID,
// has no parent inside (PPID 0: nobody in the sandbox can wait for it;
// the caller learns its status from Done), and leads a session and
// process group of its own. It shares the sandbox's mounts, hostname and
// PID namespace; when the init ends it is killed with everything else.
func (k *Kernel) Spawn(cfg SpawnConfig) (*Process, error) {
	if len(cfg.Args) == 0 || cfg.Args[0] == "" {
		return nil, errors.New("spawn: no program to run (empty args)")
	}
	if cfg.Cwd == "" {
		cfg.Cwd = "/"
	}
	if !path.IsAbs(cfg.Cwd) {
		return nil, fmt.Errorf("spawn: cwd %q is not absolute", cfg.Cwd)
	}
	if len(cfg.FDs) > maxSpawnFDs {
		return nil, fmt.Errorf("spawn: %d descriptors: at most %d", len(cfg.FDs), maxSpawnFDs)
	}
	rl := cfg.Rlimits
	if rl == nil {
		rl = k.cfg.Rlimits
	}
	if err := checkRlimits(rl); err != nil {
		return nil, fmt.Errorf("spawn: %w", err)
	}
	if !k.running() {
		return nil, errors.New("spawn: container not running")
	}
	creds := NewCredentials(cfg.UID, cfg.GID, cfg.AdditionalGIDs)
	if cfg.Caps != nil {
		creds = creds.WithCaps(*cfg.Caps)
	}
	c := creds.VFS()
	exePath, err := k.resolveExecutable(c, cfg.Args[0], cfg.Env, cfg.Cwd)
	if err != nil {
		return nil, err
	}
	root := k.vfs.Root()
	cwd, err := k.vfs.ChdirAt(c, root, root, cfg.Cwd)
	if err != nil {
		return nil, fmt.Errorf("cwd %q: %w", cfg.Cwd, err)
	}
	exe, err := k.openExecutable(c, root, cwd, exePath, 0)
	if err != nil {
		return nil, fmt.Errorf("exec: %q: %w", exePath, err)
	}
	defer exe.DecRef()

	umask := k.initUmask()
	if cfg.Umask != nil {
		umask = *cfg.Umask & 0o777
	}
	p := &Process{done: make(chan ExitStatus, 1)}
	tg := &ThreadGroup{
		k:          k,
		exitSignal: unix.SIGCHLD,
		start:      k.Uptime(),
		children:   map[*ThreadGroup]struct{}{},
		umask:      umask,
		rlimits:    initRlimits(rl),
		onExit: func(st ExitStatus) {
			p.done <- st
		},
	}
	p.tg = tg
	fds := NewFDTable()
	if err := installHostFDs(fds, cfg.FDs); err != nil {
		fds.CloseAll()
		return nil, err
	}
	as, err := k.cfg.Platform.NewAddressSpace()
	if err != nil {
		fds.CloseAll()
		return nil, fmt.Errorf("new address space: %w", err)
	}
	m := mm.New(k.cfg.Platform, as)
	entry, sp, err := k.load(tg, m, creds, exe, exePath, cfg.Args, cfg.Env, root, cwd)
	if err != nil {
		fds.CloseAll()
		m.Release()
		return nil, fmt.Errorf("exec: %q: %w", exePath, err)
	}

	k.mu.Lock()
	if !k.started || k.initDone {
		k.mu.Unlock()
		fds.CloseAll()
		m.Release()
		return nil, errors.New("spawn: container not running")
	}
	pid := k.allocIDLocked()
	if pid < 0 {
		k.mu.Unlock()
		fds.CloseAll()
		m.Release()
		return nil, fmt.Errorf("spawn: %w", unix.EAGAIN)
	}
	tg.pid, tg.pgid, tg.sid = pid, pid, pid
	t := k.newTask(tg, pid)
	if err := t.startControl(cfg.NoNewPrivs); err != nil {
		k.mu.Unlock()
		fds.CloseAll()
		m.Release()
		return nil, err
	}
	t.creds.Store(creds)
	t.mm = m
	k.mmGet(m)
	t.fds = fds
	fds.incUsers()
	t.fs = vfs.NewFS(root, cwd)
	t.SetComm([]byte(path.Base(exePath)))
	t.regs.StartThread(entry, sp)
	k.groups[pid] = tg
	k.tasks[pid] = t
	k.mu.Unlock()
	// Its own session leader with a terminal on stdin (exec -t) gets it
	// as its controlling terminal, as init does, so a shell's job
	// control works in `docker exec -it`.
	k.adoptStdioTerminal(tg, fds)

	started := make(chan error, 1)
	go t.run(started)
	if err := <-started; err != nil {
		// The task is gone already (taskGone reaped it quietly).
		return nil, err
	}
	return p, nil
}

// running reports whether the init has started and not ended.
func (k *Kernel) running() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.started && k.init != nil && !k.initDone
}

// installHostFDs makes host descriptors hfds the fds 0, 1, 2 ... of fds.
// Each is duplicated so the files own their descriptors, whatever the
// caller shares (stdout and stderr are often the same).
func installHostFDs(fds *FDTable, hfds []int) error {
	for i, hfd := range hfds {
		flags, err := host.Flags(hfd)
		if err != nil {
			return fmt.Errorf("fd %d: %w", i, err)
		}
		dup, err := unix.FcntlInt(uintptr(hfd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("fd %d: dup host fd %d: %w", i, hfd, err)
		}
		f, err := host.NewFile(dup, flags)
		if err != nil {
			unix.Close(dup)
			return fmt.Errorf("fd %d: %w", i, err)
		}
		err = fds.Replace(int32(i), f, false, RlimInfinity)
		f.DecRef()
		if err != nil {
			return fmt.Errorf("fd %d: %w", i, err)
		}
	}
	return nil
}
