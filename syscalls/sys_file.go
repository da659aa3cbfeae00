package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// atFDCWD is AT_FDCWD as the int argument the kernel reads.
const atFDCWD = int32(unix.AT_FDCWD)

// validOpenFlags are the open(2) flags Linux keeps (VALID_OPEN_FLAGS);
// other bits are dropped silently, as open and openat do.
const validOpenFlags = unix.O_ACCMODE | unix.O_CREAT | unix.O_EXCL | unix.O_NOCTTY |
	unix.O_TRUNC | unix.O_APPEND | unix.O_NONBLOCK | unix.O_DSYNC | unix.O_ASYNC |
	unix.O_DIRECT | oLargefile | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_NOATIME |
	unix.O_CLOEXEC | unix.O_SYNC | unix.O_PATH | unix.O_TMPFILE

// copyInPath reads a path argument: ENAMETOOLONG from PATH_MAX bytes on,
// EFAULT for a bad pointer.
func copyInPath(t *kernel.Task, addr uintptr) (string, error) {
	return t.CopyInString(addr, vfs.PathMax)
}

// nofile returns RLIMIT_NOFILE's soft limit, the bound of new fds.
func nofile(t *kernel.Task) uint64 {
	l, err := t.ThreadGroup().Rlimit(unix.RLIMIT_NOFILE)
	if err != nil {
		return 0
	}
	return l.Cur
}

// startAt returns the root and the directory a *at call resolves path
// from: the working directory for AT_FDCWD, else the directory open as
// dirfd (EBADF when it is not open, ENOTDIR when it is not a directory).
// An absolute path ignores dirfd, as Linux does, even a bad one. With
// emptyOK and an empty path the dirfd may name any file (AT_EMPTY_PATH).
func startAt(t *kernel.Task, dirfd int32, path string, emptyOK bool) (root, dir vfs.Location, err error) {
	if path == "" && !emptyOK {
		// An empty path is ENOENT before dirfd is even looked at.
		return vfs.Location{}, vfs.Location{}, unix.ENOENT
	}
	root, cwd := t.FSContext().Get()
	if len(path) > 0 && path[0] == '/' || dirfd == atFDCWD {
		return root, cwd, nil
	}
	f, err := t.FDTable().Get(dirfd)
	if err != nil {
		return vfs.Location{}, vfs.Location{}, err
	}
	defer f.DecRef()
	loc := f.Location()
	if path == "" && emptyOK {
		return root, loc, nil
	}
	if !loc.IsDir() {
		return vfs.Location{}, vfs.Location{}, unix.ENOTDIR
	}
	return root, loc, nil
}

// openAt is open, openat and creat.
func openAt(t *kernel.Task, dirfd int32, pathAddr uintptr, flags int, mode uint32) (uintptr, error) {
	path, err := copyInPath(t, pathAddr)
	if err != nil {
		return 0, err
	}
	// 64-bit kernels force O_LARGEFILE; F_GETFL shows it.
	flags = flags&validOpenFlags | oLargefile
	root, dir, err := startAt(t, dirfd, path, false)
	if err != nil {
		return 0, err
	}
	mode &= 0o7777 &^ t.ThreadGroup().Umask()
	f, err := t.Kernel().VFS().OpenAt(t.VFSCreds(), root, dir, path, flags, mode)
	if err != nil {
		// A FIFO open waiting for its other end restarts after a
		// signal whose handler has SA_RESTART.
		return 0, interrupted(err)
	}
	defer f.DecRef()
	if f, err = ttyOpened(t, f, flags); err != nil {
		return 0, err
	}
	defer f.DecRef()
	fd, err := t.FDTable().Install(f, 0, flags&unix.O_CLOEXEC != 0, nofile(t))
	if err != nil {
		return 0, err
	}
	return uintptr(fd), nil
}

// sysOpenat implements openat(2).
func sysOpenat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return openAt(t, a.Int(0), a[1], int(a.Int(2)), a.Uint(3))
}

// sysOpen implements open(2) (amd64 only).
func sysOpen(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return openAt(t, atFDCWD, a[0], int(a.Int(1)), a.Uint(2))
}

// sysCreat implements creat(2) (amd64 only): open with
// O_CREAT|O_WRONLY|O_TRUNC, so EROFS on the read-only root.
func sysCreat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return openAt(t, atFDCWD, a[0], unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, a.Uint(1))
}

// sysClose implements close(2).
func sysClose(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return 0, t.FDTable().Close(a.Int(0))
}

// Close-range flags (linux/close_range.h).
const (
	closeRangeUnshare = 1 << 1
	closeRangeCloexec = 1 << 2
)

// sysCloseRange implements close_range(2). CLOSE_RANGE_UNSHARE first
// gives the caller its own copy of a shared descriptor table.
func sysCloseRange(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	first, last, flags := a.Uint(0), a.Uint(1), a.Uint(2)
	if flags&^(closeRangeUnshare|closeRangeCloexec) != 0 || first > last {
		return 0, unix.EINVAL
	}
	if flags&closeRangeUnshare != 0 {
		t.UnshareFDTable()
	}
	ft := t.FDTable()
	for _, fd := range ft.FDs() {
		if uint32(fd) < first || uint32(fd) > last {
			continue
		}
		if flags&closeRangeCloexec != 0 {
			// The descriptor may have been closed by another thread
			// since FDs: EBADF then is no error of ours.
			_ = ft.SetCloseOnExec(fd, true)
			continue
		}
		_ = ft.Close(fd)
	}
	return 0, nil
}

// sysDup implements dup(2).
func sysDup(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, err := t.FDTable().Get(a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	fd, err := t.FDTable().Install(f, 0, false, nofile(t))
	if err != nil {
		return 0, err
	}
	return uintptr(fd), nil
}

// dup3 is dup2 and dup3 once their special cases are handled.
func dup3(t *kernel.Task, oldfd, newfd int32, cloexec bool) (uintptr, error) {
	f, err := t.FDTable().Get(oldfd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if err := t.FDTable().Replace(newfd, f, cloexec, nofile(t)); err != nil {
		return 0, err
	}
	return uintptr(newfd), nil
}

// sysDup2 implements dup2(2) (amd64 only): dup2(fd, fd) checks fd and
// returns it.
func sysDup2(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	oldfd, newfd := a.Int(0), a.Int(1)
	if oldfd == newfd {
		f, err := t.FDTable().Get(oldfd)
		if err != nil {
			return 0, err
		}
		f.DecRef()
		return uintptr(newfd), nil
	}
	return dup3(t, oldfd, newfd, false)
}

// sysDup3 implements dup3(2): EINVAL for flags other than O_CLOEXEC and for
// oldfd == newfd.
func sysDup3(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	oldfd, newfd, flags := a.Int(0), a.Int(1), a.Int(2)
	if flags&^unix.O_CLOEXEC != 0 || oldfd == newfd {
		return 0, unix.EINVAL
	}
	return dup3(t, oldfd, newfd, flags&unix.O_CLOEXEC != 0)
}
