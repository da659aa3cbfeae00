package kernel

import (
	"errors"
	"path"

	"moat/platform"
	"moat/platform/arch"
	"moat/sentry/mm"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// ExecArgs are execve/execveat's arguments once copied in.
type ExecArgs struct {
	// Root and Dir are where Path is resolved from.
	Root, Dir vfs.Location
	// Path is the file; empty with AT_EMPTY_PATH means Dir itself.
	Path string
	// Argv and Envv are the new program's arguments and environment.
	Argv, Envv []string
	// Flags are execveat's AT_EMPTY_PATH and AT_SYMLINK_NOFOLLOW.
	Flags int
}

// Execve implements execve(2) and execveat(2). On success the task runs
// the new program (the result is ErrNoReturn: the registers are already
// set); on failure the old program continues with the errno.
func (t *Task) Execve(a ExecArgs) error {
	k := t.k
	c := t.Credentials()
	// filename is the path as execve was given it: AT_EXECFN and the new
	// comm, even when the file is a "#!" script run by an interpreter.
	filename := a.Path
	exe, err := k.openExecutable(c.VFS(), a.Root, a.Dir, a.Path, a.Flags)
	if err != nil {
		return err
	}
	defer exe.DecRef()

	as, err := k.cfg.Platform.NewAddressSpace()
	if err != nil {
		k.log.Warn("execve: new address space failed", "pid", t.tg.pid, "err", err)
		return unix.ENOMEM
	}
	nmm := mm.New(k.cfg.Platform, as)
	// Interpreters ("#!" and PT_INTERP) resolve as open_exec does: in the
	// task's root, relative paths from its working directory.
	root, cwd := t.fs.Get()
	entry, sp, err := k.load(t.tg, nmm, c, exe, filename, a.Argv, a.Envv, root, cwd)
	if err != nil {
		nmm.Release()
		return execErrno(err)
	}
	if !t.deThread() {
		// A fatal signal won: the process ends instead.
		nmm.Release()
		return ErrNoReturn
	}

	// The point of no return: the old image goes, and with it the
	// process's POSIX timers (exit_itimers in begin_new_exec).
	t.tg.deletePosixTimers()
	old := t.mm
	t.releaseMM()
	t.ctx.Release()
	k.mmGet(nmm)
	t.tg.swapMM(t, nmm)
	k.mmPut(old)
	ctx, err := nmm.AddressSpace().NewContext()
	if err != nil {
		k.log.Error("execve: new platform context failed; killing the process", "pid", t.tg.pid, "err", err)
		t.setContext(deadContext{})
		t.tg.exitGroup(ExitStatus{Signal: unix.SIGKILL})
		return ErrNoReturn
	}
	t.setContext(ctx)

	if t.fds.users.Load() > 1 {
		// A table shared with another process (CLONE_FILES) is unshared.
		nf := t.fds.Fork()
		nf.incUsers()
		t.fds.decUsers()
		t.fds = nf
	}
	t.fds.CloseOnExecAll()
	t.tg.resetHandlersForExec()
	t.altStack = SignalStack{}
	t.robustList, t.robustLen = 0, 0
	t.SetComm([]byte(path.Base(filename)))
	t.execControl()
	t.regs.StartThread(entry, sp)
	k.mu.Lock()
	t.tg.execed = true
	k.mu.Unlock()
	return ErrNoReturn
}

// execErrno turns a load error into what execve returns.
func execErrno(err error) error {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return unix.ENOEXEC
}

// openExecutable opens the file an exec names and checks it may be run,
// as do_open_execat does: it must be a regular file (EACCES otherwise,
// ELOOP for a symlink under AT_SYMLINK_NOFOLLOW) with an execute bit c
// may use (EACCES). Read permission is not needed: the file is then
// opened with the sentry's own rights, as the kernel reads an executable
// for itself, so a mode 0111 program runs for anyone.
func (k *Kernel) openExecutable(c *vfs.Creds, root, dir vfs.Location, p string, flags int) (*vfs.File, error) {
	loc := dir
	if p == "" {
		if flags&unix.AT_EMPTY_PATH == 0 {
			return nil, unix.ENOENT
		}
	} else {
		var err error
		loc, err = k.vfs.LookupAt(c, root, dir, p, flags&unix.AT_SYMLINK_NOFOLLOW == 0)
		if err != nil {
			return nil, err
		}
	}
	if !loc.Valid() {
		return nil, unix.ENOENT
	}
	switch loc.Mode() & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFLNK:
		return nil, unix.ELOOP
	default:
		return nil, unix.EACCES
	}
	if err := k.vfs.Permission(c, loc, vfs.MayExec); err != nil {
		return nil, err
	}
	f, err := k.vfs.Open(sentryCreds(), loc, unix.O_RDONLY)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// sentryCreds are the rights the sentry reads executables with once the
// caller's execute permission is checked: those of root, which pass any
// read check.
func sentryCreds() *vfs.Creds { return &vfs.Creds{} }

// swapMM makes m the memory manager of t, which is execve'ing, and
// gives m the group's RLIMIT_DATA. It is done under tg.mu so SetRlimit
// sees either the old or the new manager of each thread.
func (tg *ThreadGroup) swapMM(t *Task, m *mm.MemoryManager) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	t.mm = m
	m.SetDataLimit(tg.rlimits[unix.RLIMIT_DATA].Cur)
}

// deThread makes t the only thread of its process (execve's de_thread):
// the others are told to leave and t waits until they have. It returns
// false if the process is being killed instead. A non-leader takes the
// leader's TID, as Linux does.
func (t *Task) deThread() bool {
	tg := t.tg
	tg.mu.Lock()
	if tg.exiting {
		tg.mu.Unlock()
		return false
	}
	if len(tg.tasks) > 1 {
		tg.exiting = true
		tg.execer = t
		others := make([]*Task, 0, len(tg.tasks)-1)
		for _, o := range tg.tasks {
			if o != t {
				others = append(others, o)
			}
		}
		tg.mu.Unlock()
		for _, o := range others {
			o.kick()
		}
		for {
			tg.mu.Lock()
			n, killed := len(tg.tasks), tg.execer != t
			tg.mu.Unlock()
			if killed {
				return false
			}
			if n == 1 {
				break
			}
			<-t.wake
		}
		tg.mu.Lock()
		tg.exiting = false
		tg.execer = nil
	}
	tg.mu.Unlock()

	if t.tid != tg.pid {
		k := t.k
		k.mu.Lock()
		delete(k.tasks, t.tid)
		t.tid = tg.pid
		k.tasks[t.tid] = t
		k.mu.Unlock()
	}
	return true
}

// resetHandlersForExec resets caught signals to SIG_DFL and clears every
// action's flags and mask; ignored signals stay ignored.
func (tg *ThreadGroup) resetHandlersForExec() {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	for i := range tg.actions {
		a := &tg.actions[i]
		h := a.Handler
		if h != SIG_IGN {
			h = SIG_DFL
		}
		*a = SigAction{Handler: h}
	}
}

// deadContext stands in for a platform context that could not be made:
// the task only leaves its loop.
type deadContext struct{}

// Switch implements platform.Context.Switch: it always fails.
func (deadContext) Switch(*arch.Registers) (platform.Trap, error) {
	return platform.Trap{}, errors.New("no platform context")
}

// Interrupt implements platform.Context.Interrupt.
func (deadContext) Interrupt() {}

// Release implements platform.Context.Release.
func (deadContext) Release() {}
