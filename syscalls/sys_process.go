package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

var processSyscalls = []entry{
	partial("clone", sysClone, "hex,ptr,ptr,ptr,ptr",
		"namespace flags EPERM; CLONE_PIDFD EINVAL; CLONE_SIGHAND without CLONE_THREAD copies the handlers"),
	refused("clone3", unix.ENOSYS, "not yet; glibc falls back to clone"),
	supported("fork", sysFork, ""),
	supported("vfork", sysVfork, ""),
	supported("execve", sysExecve, "path,ptr,ptr"),
	supported("execveat", sysExecveat, "fd,path,ptr,ptr,hex"),
	partial("wait4", sysWait4, "int,ptr,hex,ptr", "rusage is zero"),
	supported("waitid", sysWaitid, "int,int,ptr,hex,ptr"),
	supported("setpgid", sysSetpgid, "int,int"),
}

// maxArgStrLen is MAX_ARG_STRLEN: one argument or environment string,
// its NUL included, may take at most 32 pages.
const maxArgStrLen = 32 * 4096

// maxArgTotal bounds what execve copies in before the loader applies the
// RLIMIT_STACK-based limit: argv and envp together, strings and pointers.
// It is the largest limit Linux ever applies (3/4 of the 8 MiB _STK_LIM),
// so it refuses nothing the loader would take, and it bounds what one
// execve makes the sentry allocate (every thread of the sandbox may be in
// one at once).
const maxArgTotal = 8 << 20 / 4 * 3

// copyInStrings reads a NULL-terminated array of string pointers (argv,
// envp); a NULL array is empty. E2BIG for oversized strings or totals.
func copyInStrings(t *kernel.Task, addr uintptr, total *int) ([]string, error) {
	if addr == 0 {
		return nil, nil
	}
	var out []string
	for i := uintptr(0); ; i++ {
		p, err := copyInU64(t, addr+8*i)
		if err != nil {
			return nil, err
		}
		if p == 0 {
			return out, nil
		}
		s, err := t.CopyInString(uintptr(p), maxArgStrLen)
		if err == unix.ENAMETOOLONG {
			return nil, unix.E2BIG
		}
		if err != nil {
			return nil, err
		}
		*total += len(s) + 1 + 8
		if *total > maxArgTotal {
			return nil, unix.E2BIG
		}
		out = append(out, s)
	}
}

// execveAt is execve and execveat.
func execveAt(t *kernel.Task, dirfd int32, pathAddr, argvAddr, envpAddr uintptr, flags int) (uintptr, error) {
	if flags&^(unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW) != 0 {
		return 0, unix.EINVAL
	}
	path, err := copyInPath(t, pathAddr)
	if err != nil {
		return 0, err
	}
	total := 0
	argv, err := copyInStrings(t, argvAddr, &total)
	if err != nil {
		return 0, err
	}
	envv, err := copyInStrings(t, envpAddr, &total)
	if err != nil {
		return 0, err
	}
	if path == "" && flags&unix.AT_EMPTY_PATH == 0 {
		return 0, unix.ENOENT
	}
	root, dir, err := startAt(t, dirfd, path, flags&unix.AT_EMPTY_PATH != 0)
	if err != nil {
		return 0, err
	}
	return 0, t.Execve(kernel.ExecArgs{Root: root, Dir: dir, Path: path, Argv: argv, Envv: envv, Flags: flags})
}

func sysExecve(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return execveAt(t, atFDCWD, a[0], a[1], a[2], 0)
}

func sysExecveat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return execveAt(t, a.Int(0), a[1], a[2], a[3], int(a.Int(4)))
}

// sysClone implements clone(2); the argument order of the thread pointer
// and the child TID pointer differs per architecture (cloneTIDArgs).
func sysClone(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	flags := uint64(a[0])
	ctid, tls := cloneTIDArgs(a)
	tid, err := t.Clone(kernel.CloneArgs{
		Flags:      flags &^ 0xff,
		ExitSignal: unix.Signal(flags & 0xff),
		Stack:      a[1],
		ParentTID:  a[2],
		ChildTID:   ctid,
		TLS:        tls,
	})
	return uintptr(tid), err
}

func sysFork(t *kernel.Task, _ arch.SyscallArguments) (uintptr, error) {
	tid, err := t.Clone(kernel.CloneArgs{ExitSignal: unix.SIGCHLD})
	return uintptr(tid), err
}

func sysVfork(t *kernel.Task, _ arch.SyscallArguments) (uintptr, error) {
	tid, err := t.Clone(kernel.CloneArgs{Flags: kernel.CLONE_VM | kernel.CLONE_VFORK, ExitSignal: unix.SIGCHLD})
	return uintptr(tid), err
}

// rusageSize is sizeof(struct rusage) on 64-bit Linux.
const rusageSize = 144

// sysWait4 implements wait4(2).
func sysWait4(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	pid, statusAddr, options, rusageAddr := a.Int(0), a[1], a.Uint(2), a[3]
	const allowed = kernel.WNOHANG | kernel.WUNTRACED | kernel.WCONTINUED | kernel.WNOTHREAD | kernel.WCLONE | kernel.WALL
	if options&^allowed != 0 {
		return 0, unix.EINVAL
	}
	if pid == -1<<31 {
		// -INT_MIN has no process group.
		return 0, unix.ESRCH
	}
	res, err := t.Wait(t.WaitRequestForPID(pid, options|kernel.WEXITED))
	if err != nil {
		return 0, err
	}
	if res.PID == 0 {
		return 0, nil
	}
	if statusAddr != 0 {
		if err := copyOutU32(t, statusAddr, res.WaitStatus()); err != nil {
			return 0, err
		}
	}
	if rusageAddr != 0 {
		var zero [rusageSize]byte
		if err := copyOutAll(t, rusageAddr, zero[:]); err != nil {
			return 0, err
		}
	}
	return uintptr(res.PID), nil
}

// waitid idtypes.
const (
	pAll  = 0
	pPID  = 1
	pPGID = 2
	// pPIDFD is P_PIDFD: id is a pidfd.
	pPIDFD = 3
)

// sysWaitid implements waitid(2).
func sysWaitid(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	idtype, id, infoAddr, options, rusageAddr := a.Int(0), a.Int(1), a[2], a.Uint(3), a[4]
	const allowed = kernel.WNOHANG | kernel.WNOWAIT | kernel.WEXITED | kernel.WSTOPPED | kernel.WCONTINUED |
		kernel.WNOTHREAD | kernel.WCLONE | kernel.WALL
	if options&^allowed != 0 || options&(kernel.WEXITED|kernel.WSTOPPED|kernel.WCONTINUED) == 0 {
		return 0, unix.EINVAL
	}
	req := kernel.WaitRequest{Options: options}
	var err0 error
	pidfdNonblock := false
	switch idtype {
	case pAll:
		req.Which = kernel.WaitAny
	case pPID:
		if id <= 0 {
			return 0, unix.EINVAL
		}
		req.Which, req.ID = kernel.WaitPID, id
	case pPGID:
		if id < 0 {
			return 0, unix.EINVAL
		}
		req.Which, req.ID = kernel.WaitPGID, id
		if id == 0 {
			// The caller's group (Linux 5.4 and later).
			req.ID = t.ThreadGroup().PGID()
		}
	case pPIDFD:
		// The pidfd's process; a non-blocking pidfd makes the wait
		// EAGAIN while the child runs (sys_sched_pidfd.go).
		var nonblock bool
		req.ID, nonblock, err0 = pidfdWaitTarget(t, int32(id))
		if err0 != nil {
			return 0, err0
		}
		req.Which = kernel.WaitPID
		if nonblock && options&kernel.WNOHANG == 0 {
			req.Options |= kernel.WNOHANG
			pidfdNonblock = true
		}
	default:
		return 0, unix.EINVAL
	}
	res, err := t.Wait(req)
	if err != nil {
		return 0, err
	}
	if pidfdNonblock && res.PID == 0 {
		return 0, unix.EAGAIN
	}
	if infoAddr != 0 {
		info := res.SigInfo()
		var b [kernel.SigInfoSize]byte
		info.Encode(b[:])
		if err := copyOutAll(t, infoAddr, b[:]); err != nil {
			return 0, err
		}
	}
	if rusageAddr != 0 {
		var zero [rusageSize]byte
		if err := copyOutAll(t, rusageAddr, zero[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// sysSetpgid implements setpgid(2).
func sysSetpgid(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return 0, t.SetPGID(a.Int(0), a.Int(1))
}
