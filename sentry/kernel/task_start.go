package kernel

import (
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"moat/sentry/loader"
	"moat/sentry/mm"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// defaultPath is the search path when the environment has no PATH.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ResolveExecutable finds Args[0] in the root file system the way execvp
// does (PATH from Env when it has no "/") and checks it is an executable
// regular file. It returns the absolute path, or an error naming the
// command ("exec: \"foo\": executable file not found in $PATH").
func (k *Kernel) ResolveExecutable() (string, error) {
	return k.resolveExecutable(k.creds.VFS(), k.cfg.Args[0], k.cfg.Env, k.cfg.Cwd)
}

// resolveExecutable is ResolveExecutable for any program: name looked up
// with env's PATH relative to cwd, checked with credentials c.
func (k *Kernel) resolveExecutable(c *vfs.Creds, name string, env []string, cwd string) (string, error) {
	root := k.vfs.Root()
	if strings.Contains(name, "/") {
		p := name
		if !path.IsAbs(p) {
			p = path.Join(cwd, p)
		}
		if err := k.checkExecutable(c, root, p); err != nil {
			return "", fmt.Errorf("exec: %q: %w", name, err)
		}
		return p, nil
	}
	search := defaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			search = v
		}
	}
	for _, dir := range strings.Split(search, ":") {
		if dir == "" {
			dir = "."
		}
		p := path.Join(dir, name)
		if !path.IsAbs(p) {
			p = path.Join(cwd, p)
		}
		if k.checkExecutable(c, root, p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}

// checkExecutable checks that p is a regular file its credentials may
// execute.
func (k *Kernel) checkExecutable(c *vfs.Creds, root vfs.Location, p string) error {
	st, err := k.vfs.StatAt(c, root, root, p, 0)
	if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return unix.EISDIR
		}
		return unix.EACCES
	}
	return k.vfs.AccessAt(c, root, root, p, unix.X_OK, 0)
}

// Start loads the init program and starts running it as PID 1. It
// returns once the program is running, or with the exec error.
func (k *Kernel) Start() error {
	k.mu.Lock()
	if k.started {
		k.mu.Unlock()
		return errors.New("kernel: already started")
	}
	k.started = true
	k.mu.Unlock()
	if err := k.startInit(); err != nil {
		// Nothing runs: let Wait return at once with "command not
		// executable", as a shell would report it.
		k.mu.Lock()
		k.initDone = true
		k.initStatus = ExitStatus{Code: 127}
		k.mu.Unlock()
		close(k.done)
		return err
	}
	return nil
}

// startInit builds PID 1 and starts its task.
func (k *Kernel) startInit() error {
	exePath, err := k.ResolveExecutable()
	if err != nil {
		return err
	}
	c := k.creds.VFS()
	root := k.vfs.Root()
	cwd, err := k.vfs.ChdirAt(c, root, root, k.cfg.Cwd)
	if err != nil {
		return fmt.Errorf("cwd %q: %w", k.cfg.Cwd, err)
	}
	exe, err := k.openExecutable(c, root, cwd, exePath, 0)
	if err != nil {
		return fmt.Errorf("exec: %q: %w", exePath, err)
	}
	defer exe.DecRef()

	tg := &ThreadGroup{
		k:          k,
		pid:        1,
		exitSignal: unix.SIGCHLD,
		start:      k.Uptime(),
		children:   map[*ThreadGroup]struct{}{},
		pgid:       1,
		sid:        1,
		umask:      k.initUmask(),
		rlimits:    initRlimits(k.cfg.Rlimits),
	}
	fds := NewFDTable()
	if err := k.installStdio(fds, k.cfg.Stdio); err != nil {
		fds.CloseAll()
		return err
	}
	k.adoptStdioTerminal(tg, fds)
	as, err := k.cfg.Platform.NewAddressSpace()
	if err != nil {
		fds.CloseAll()
		return fmt.Errorf("new address space: %w", err)
	}
	m := mm.New(k.cfg.Platform, as)
	entry, sp, err := k.load(tg, m, k.creds, exe, exePath, k.cfg.Args, k.cfg.Env, root, cwd)
	if err != nil {
		fds.CloseAll()
		m.Release()
		return fmt.Errorf("exec: %q: %w", exePath, err)
	}

	t := k.newTask(tg, 1)
	if err := t.initControl(); err != nil {
		fds.CloseAll()
		m.Release()
		return err
	}
	t.mm = m
	k.mmGet(m)
	t.fds = fds
	fds.incUsers()
	t.fs = vfs.NewFS(root, cwd)
	t.SetComm([]byte(path.Base(exePath)))
	t.regs.StartThread(entry, sp)

	k.mu.Lock()
	k.nextID = 2
	k.init = tg
	k.groups[tg.pid] = tg
	k.tasks[t.tid] = t
	k.mu.Unlock()

	started := make(chan error, 1)
	go t.run(started)
	return <-started
}

// newTask makes a task with id tid in tg (not yet registered or running).
func (k *Kernel) newTask(tg *ThreadGroup, tid int32) *Task {
	t := &Task{k: k, tg: tg, tid: tid, wake: make(chan struct{}, 1), start: k.Uptime()}
	t.creds.Store(k.creds)
	t.timer = time.NewTimer(time.Hour)
	t.timer.Stop()
	tg.tasks = append(tg.tasks, t)
	return t
}

// installStdio makes the host descriptors stdio fds 0, 1 and 2.
func (k *Kernel) installStdio(fds *FDTable, stdio [3]int) error {
	return installHostFDs(fds, stdio[:])
}

// load maps the program into m, a fresh memory manager for tg, and builds
// its initial stack; it returns the entry point and stack pointer. It is
// the one loading path of init and execve: "#!" scripts and ELF
// interpreters are the loader's business, opened in root and relative to
// cwd.
func (k *Kernel) load(tg *ThreadGroup, m *mm.MemoryManager, c *Credentials, exe *vfs.File, exePath string, argv, envv []string, root, cwd vfs.Location) (entry, sp uintptr, err error) {
	st, err := exe.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("stat: %w", err)
	}
	tg.mu.Lock()
	stackLimit := tg.rlimits[unix.RLIMIT_STACK].Cur
	dataLimit := tg.rlimits[unix.RLIMIT_DATA].Cur
	tg.mu.Unlock()
	m.SetDataLimit(dataLimit)
	res, err := loader.Load(m, &exeFile{f: exe, name: exePath, size: st.Size}, loader.LoadArgs{
		Open:       k.execOpener(c, root, cwd),
		Filename:   exePath,
		Argv:       argv,
		Envv:       envv,
		UID:        c.RealUID,
		EUID:       c.EffectiveUID,
		GID:        c.RealGID,
		EGID:       c.EffectiveGID,
		StackLimit: stackLimit,
		// personality(ADDR_NO_RANDOMIZE) (task_sched.go).
		NoRandomize: tg.noRandomize(),
	})
	if err != nil {
		return 0, 0, err
	}
	k.recordExec(tg, c, exe, exePath, &res, root, cwd)
	return res.Entry, res.SP, nil
}

// exeFile presents an open file to the loader.
type exeFile struct {
	f    *vfs.File
	name string
	size int64
	// owned is set when the exeFile holds a reference on f of its own
	// (an opener's file) that Close drops.
	owned bool
}

// ReadAt implements io.ReaderAt with the file's pread.
func (e *exeFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := e.f.PRead(p, off)
	if err == nil && n < len(p) {
		return n, io.EOF
	}
	return n, err
}

// HostFD implements loader.File.
func (e *exeFile) HostFD() int { return e.f.HostFD() }

// Name implements loader.File.
func (e *exeFile) Name() string { return e.name }

// Size implements loader.File.
func (e *exeFile) Size() int64 { return e.size }
