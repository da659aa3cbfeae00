package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// readlinkAt is readlink and readlinkat: EINVAL for bufsiz <= 0 or a
// path that is not a symlink; the target is copied without a NUL,
// truncated to bufsiz.
func readlinkAt(t *kernel.Task, dirfd int32, pathAddr, buf uintptr, bufsiz int32) (uintptr, error) {
	if bufsiz <= 0 {
		return 0, unix.EINVAL
	}
	path, err := copyInPath(t, pathAddr)
	if err != nil {
		return 0, err
	}
	root, dir, err := startAt(t, dirfd, path, true)
	if err != nil {
		return 0, err
	}
	target, err := t.Kernel().VFS().ReadlinkAt(t.VFSCreds(), root, dir, path)
	if err != nil {
		return 0, err
	}
	n := min(len(target), int(bufsiz))
	if c, err := t.CopyOut(buf, []byte(target[:n])); err != nil || c != n {
		return 0, unix.EFAULT
	}
	return uintptr(n), nil
}

// sysReadlink implements readlink(2) (amd64 only).
func sysReadlink(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return readlinkAt(t, atFDCWD, a[0], a[1], a.Int(2))
}

// sysReadlinkat implements readlinkat(2).
func sysReadlinkat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return readlinkAt(t, a.Int(0), a[1], a[2], a.Int(3))
}

// sysGetcwd implements getcwd(2): ERANGE when the path and its NUL do not
// fit size; the result is the length including the NUL.
func sysGetcwd(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	root, cwd := t.FSContext().Get()
	path := t.Kernel().VFS().Getcwd(root, cwd)
	if len(path)+1 > vfs.PathMax {
		return 0, unix.ENAMETOOLONG
	}
	size := int(min(a[1], uintptr(vfs.PathMax)))
	if len(path)+1 > size {
		return 0, unix.ERANGE
	}
	b := append([]byte(path), 0)
	if c, err := t.CopyOut(a[0], b); err != nil || c != len(b) {
		return 0, unix.EFAULT
	}
	return uintptr(len(b)), nil
}

// sysChdir implements chdir(2).
func sysChdir(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	path, err := copyInPath(t, a[0])
	if err != nil {
		return 0, err
	}
	root, dir, err := startAt(t, atFDCWD, path, false)
	if err != nil {
		return 0, err
	}
	loc, err := t.Kernel().VFS().ChdirAt(t.VFSCreds(), root, dir, path)
	if err != nil {
		return 0, err
	}
	t.FSContext().SetCwd(loc)
	return 0, nil
}

// sysFchdir implements fchdir(2): ENOTDIR unless fd is a directory (a host
// stdio descriptor never is), EACCES without search permission.
func sysFchdir(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, err := file(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	loc := f.Location()
	if err := t.Kernel().VFS().CheckChdir(t.VFSCreds(), loc); err != nil {
		return 0, err
	}
	t.FSContext().SetCwd(loc)
	return 0, nil
}

// accessAt is access, faccessat and faccessat2. Checks use the real uid
// and gid unless AT_EACCESS asks for the effective ones.
func accessAt(t *kernel.Task, dirfd int32, pathAddr uintptr, mode uint32, flags int) (uintptr, error) {
	if mode&^(unix.R_OK|unix.W_OK|unix.X_OK) != 0 {
		return 0, unix.EINVAL
	}
	if flags&^(unix.AT_EACCESS|unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	path, err := copyInPath(t, pathAddr)
	if err != nil {
		return 0, err
	}
	root, dir, err := startAt(t, dirfd, path, flags&unix.AT_EMPTY_PATH != 0)
	if err != nil {
		return 0, err
	}
	creds := t.VFSCreds()
	if flags&unix.AT_EACCESS == 0 {
		creds = t.Credentials().ForAccess()
		creds.Caller = t
	}
	return 0, t.Kernel().VFS().AccessAt(creds, root, dir, path, mode, flags)
}

// sysAccess implements access(2) (amd64 only).
func sysAccess(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return accessAt(t, atFDCWD, a[0], a.Uint(1), 0)
}

// sysFaccessat implements faccessat(2), which has no flags argument.
func sysFaccessat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return accessAt(t, a.Int(0), a[1], a.Uint(2), 0)
}

// sysFaccessat2 implements faccessat2(2).
func sysFaccessat2(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return accessAt(t, a.Int(0), a[1], a.Uint(2), int(a.Int(3)))
}
