package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// The calls that change the tree: mkdir, mknod, symlink, link, unlink,
// rmdir, rename. Thin: copy the paths in, resolve the starting points,
// let sentry/vfs check and act.

// pathAt copies in the path at addr and returns it with the root and the
// directory it resolves from (dirfd, or the cwd for AT_FDCWD).
func pathAt(t *kernel.Task, dirfd int32, addr uintptr, emptyOK bool) (path string, root, dir vfs.Location, err error) {
	path, err = copyInPath(t, addr)
	if err != nil {
		return "", vfs.Location{}, vfs.Location{}, err
	}
	root, dir, err = startAt(t, dirfd, path, emptyOK)
	return path, root, dir, err
}

// umasked applies the caller's umask to the permission bits of mode.
func umasked(t *kernel.Task, mode uint32) uint32 {
	return mode &^ t.ThreadGroup().Umask()
}

func mkdirAt(t *kernel.Task, dirfd int32, addr uintptr, mode uint32) (uintptr, error) {
	path, root, dir, err := pathAt(t, dirfd, addr, false)
	if err != nil {
		return 0, err
	}
	return 0, t.Kernel().VFS().MkdirAt(t.VFSCreds(), root, dir, path, umasked(t, mode&0o1777))
}

// sysMkdir implements mkdir(2) (amd64 only).
func sysMkdir(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return mkdirAt(t, atFDCWD, a[0], a.Uint(1))
}

// sysMkdirat implements mkdirat(2).
func sysMkdirat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return mkdirAt(t, a.Int(0), a[1], a.Uint(2))
}

func mknodAt(t *kernel.Task, dirfd int32, addr uintptr, mode uint32) (uintptr, error) {
	path, root, dir, err := pathAt(t, dirfd, addr, false)
	if err != nil {
		return 0, err
	}
	mode = mode&unix.S_IFMT | umasked(t, mode&0o7777)
	return 0, t.Kernel().VFS().MknodAt(t.VFSCreds(), root, dir, path, mode)
}

// sysMknod implements mknod(2) (amd64 only): FIFOs, sockets and regular
// files; devices EPERM.
func sysMknod(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return mknodAt(t, atFDCWD, a[0], a.Uint(1))
}

// sysMknodat implements mknodat(2).
func sysMknodat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return mknodAt(t, a.Int(0), a[1], a.Uint(2))
}

func symlinkAt(t *kernel.Task, targetAddr uintptr, dirfd int32, addr uintptr) (uintptr, error) {
	target, err := copyInPath(t, targetAddr)
	if err != nil {
		return 0, err
	}
	path, root, dir, err := pathAt(t, dirfd, addr, false)
	if err != nil {
		return 0, err
	}
	return 0, t.Kernel().VFS().SymlinkAt(t.VFSCreds(), root, dir, path, target)
}

// sysSymlink implements symlink(2) (amd64 only).
func sysSymlink(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return symlinkAt(t, a[0], atFDCWD, a[1])
}

// sysSymlinkat implements symlinkat(2).
func sysSymlinkat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return symlinkAt(t, a[0], a.Int(1), a[2])
}

func unlinkAt(t *kernel.Task, dirfd int32, addr uintptr, rmdir bool) (uintptr, error) {
	path, root, dir, err := pathAt(t, dirfd, addr, false)
	if err != nil {
		return 0, err
	}
	return 0, t.Kernel().VFS().UnlinkAt(t.VFSCreds(), root, dir, path, rmdir)
}

// sysUnlink implements unlink(2) (amd64 only).
func sysUnlink(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return unlinkAt(t, atFDCWD, a[0], false)
}

// sysRmdir implements rmdir(2) (amd64 only).
func sysRmdir(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return unlinkAt(t, atFDCWD, a[0], true)
}

// sysUnlinkat implements unlinkat(2): AT_REMOVEDIR is rmdir.
func sysUnlinkat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	flags := a.Int(2)
	if flags&^unix.AT_REMOVEDIR != 0 {
		return 0, unix.EINVAL
	}
	return unlinkAt(t, a.Int(0), a[1], flags&unix.AT_REMOVEDIR != 0)
}

func renameAt(t *kernel.Task, olddirfd int32, oldAddr uintptr, newdirfd int32, newAddr uintptr, flags uint) (uintptr, error) {
	oldpath, root, olddir, err := pathAt(t, olddirfd, oldAddr, false)
	if err != nil {
		return 0, err
	}
	newpath, _, newdir, err := pathAt(t, newdirfd, newAddr, false)
	if err != nil {
		return 0, err
	}
	return 0, t.Kernel().VFS().RenameAt(t.VFSCreds(), root, olddir, oldpath, newdir, newpath, flags)
}

// sysRename implements rename(2) (amd64 only).
func sysRename(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return renameAt(t, atFDCWD, a[0], atFDCWD, a[1], 0)
}

// sysRenameat implements renameat(2).
func sysRenameat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return renameAt(t, a.Int(0), a[1], a.Int(2), a[3], 0)
}

// sysRenameat2 implements renameat2(2): RENAME_NOREPLACE and
// RENAME_EXCHANGE; RENAME_WHITEOUT is EINVAL.
func sysRenameat2(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return renameAt(t, a.Int(0), a[1], a.Int(2), a[3], uint(a.Uint(4)))
}

func linkAt(t *kernel.Task, olddirfd int32, oldAddr uintptr, newdirfd int32, newAddr uintptr, flags int32) (uintptr, error) {
	if flags&^(unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	emptyOK := flags&unix.AT_EMPTY_PATH != 0
	oldpath, root, olddir, err := pathAt(t, olddirfd, oldAddr, emptyOK)
	if err != nil {
		return 0, err
	}
	v, c := t.Kernel().VFS(), t.VFSCreds()
	old := olddir
	if oldpath != "" {
		old, err = v.LookupAt(c, root, olddir, oldpath, flags&unix.AT_SYMLINK_FOLLOW != 0)
		if err != nil {
			return 0, err
		}
	} else if !old.Valid() {
		// A descriptor with no place in the tree (the sandbox's stdio).
		return 0, unix.EXDEV
	}
	newpath, _, newdir, err := pathAt(t, newdirfd, newAddr, false)
	if err != nil {
		return 0, err
	}
	return 0, v.LinkAt(c, root, old, newdir, newpath)
}

// sysLink implements link(2) (amd64 only).
func sysLink(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return linkAt(t, atFDCWD, a[0], atFDCWD, a[1], 0)
}

// sysLinkat implements linkat(2): AT_SYMLINK_FOLLOW, and AT_EMPTY_PATH
// (which Linux allows with CAP_DAC_READ_SEARCH; the sandbox's root has
// it, others too: moat does not check it).
func sysLinkat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return linkAt(t, a.Int(0), a[1], a.Int(2), a[3], a.Int(4))
}
