package kernel

import (
	"bytes"
	"errors"
	"path"

	"moat/platform"
	"moat/platform/arch"
	"moat/sentry/mm"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

const (
	// maxInterpDepth is how many #! scripts may name each other
	// (BINPRM_MAX_RECURSION); one more is ELOOP.
	maxInterpDepth = 4
	// binprmBufSize is how much of the file the kernel looks at for #!.
	binprmBufSize = 256
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
	argv := a.Argv
	filename := a.Path
	root, dir, p, flags := a.Root, a.Dir, a.Path, a.Flags
	var exe *vfs.File
	for depth := 0; ; depth++ {
		f, err := k.openExecutable(c.VFS(), root, dir, p, flags)
		if err != nil {
			return err
		}
		interp, arg, isScript, err := readInterpreter(f)
		if err != nil {
			f.DecRef()
			return err
		}
		if !isScript {
			exe = f
			break
		}
		f.DecRef()
		if depth >= maxInterpDepth {
			return unix.ELOOP
		}
		// argv[0] gives way to the interpreter, its argument and the
		// script's path, as binfmt_script does.
		nargv := []string{interp}
		if arg != "" {
			nargv = append(nargv, arg)
		}
		nargv = append(nargv, filename)
		if len(argv) > 1 {
			nargv = append(nargv, argv[1:]...)
		}
		argv = nargv
		p, flags = interp, 0
		dir = t.fs.Cwd()
		filename = interp
	}
	defer exe.DecRef()

	as, err := k.cfg.Platform.NewAddressSpace()
	if err != nil {
		k.log.Warn("execve: new address space failed", "pid", t.tg.pid, "err", err)
		return unix.ENOMEM
	}
	nmm := mm.New(k.cfg.Platform, as)
	entry, sp, err := k.load(t.tg, nmm, c, exe, filename, argv, a.Envv)
	if err != nil {
		nmm.Release()
		return execErrno(err)
	}
	if !t.deThread() {
		// A fatal signal won: the process ends instead.
		nmm.Release()
		return ErrNoReturn
	}

	// The point of no return: the old image goes.
	old := t.mm
	t.releaseMM()
	t.ctx.Release()
	t.mm = nmm
	k.mmGet(nmm)
	k.mmPut(old)
	ctx, err := nmm.AddressSpace().NewContext()
	if err != nil {
		k.log.Error("execve: new platform context failed; killing the process", "pid", t.tg.pid, "err", err)
		t.ctx = deadContext{}
		t.tg.exitGroup(ExitStatus{Signal: unix.SIGKILL})
		return ErrNoReturn
	}
	t.ctx = ctx

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

// openExecutable opens the file an exec names and checks it may be run:
// a regular file (EACCES otherwise) with an execute bit its credentials
// may use (EACCES).
func (k *Kernel) openExecutable(c *vfs.Creds, root, dir vfs.Location, p string, flags int) (*vfs.File, error) {
	if p == "" {
		if flags&unix.AT_EMPTY_PATH == 0 {
			return nil, unix.ENOENT
		}
		f, err := k.vfs.Open(c, dir, unix.O_RDONLY)
		if err != nil {
			return nil, err
		}
		return k.checkExecFile(c, f)
	}
	oflags := unix.O_RDONLY
	if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
		oflags |= unix.O_NOFOLLOW
	}
	f, err := k.vfs.OpenAt(c, root, dir, p, oflags, 0)
	if err != nil {
		if err == unix.EISDIR {
			return nil, unix.EACCES
		}
		return nil, err
	}
	return k.checkExecFile(c, f)
}

// checkExecFile checks an open file may be executed; it drops f on error.
func (k *Kernel) checkExecFile(c *vfs.Creds, f *vfs.File) (*vfs.File, error) {
	st, err := f.Stat()
	if err != nil {
		f.DecRef()
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		f.DecRef()
		return nil, unix.EACCES
	}
	if err := k.vfs.Permission(c, f.Location(), unix.X_OK); err != nil {
		f.DecRef()
		return nil, err
	}
	return f, nil
}

// readInterpreter looks for a "#!" line at the start of f and returns its
// interpreter and optional argument.
func readInterpreter(f *vfs.File) (interp, arg string, ok bool, err error) {
	var buf [binprmBufSize]byte
	n, err := f.PRead(buf[:], 0)
	if err != nil && n == 0 {
		if err == unix.EISDIR {
			return "", "", false, unix.EACCES
		}
		// An empty file is no script; the ELF loader says ENOEXEC.
		return "", "", false, nil
	}
	return parseInterpreter(buf[:n])
}

// parseInterpreter parses the start of a file as binfmt_script does: a
// "#!" line names the interpreter and at most one argument (the rest of
// the line, trimmed). ENOEXEC for a "#!" line without an interpreter.
func parseInterpreter(b []byte) (interp, arg string, ok bool, err error) {
	if !bytes.HasPrefix(b, []byte("#!")) {
		return "", "", false, nil
	}
	b = b[2:]
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	b = bytes.Trim(b, " \t")
	if len(b) == 0 {
		return "", "", false, unix.ENOEXEC
	}
	end := bytes.IndexAny(b, " \t")
	if end < 0 {
		return string(b), "", true, nil
	}
	return string(b[:end]), string(bytes.Trim(b[end:], " \t")), true, nil
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
