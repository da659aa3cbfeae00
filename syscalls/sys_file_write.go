package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// The calls that change the file system. Nothing is writable yet (the
// root is read-only), so each resolves its paths, to fail with ENOENT,
// ENOTDIR, EEXIST... where Linux would, and then answers EROFS.

// pathCheck is one of the vfs write checks.
type pathCheck func(v *vfs.VFS, c *vfs.Creds, root, dir vfs.Location, path string) error

func createCheck(v *vfs.VFS, c *vfs.Creds, root, dir vfs.Location, path string) error {
	return v.CreateAt(c, root, dir, path)
}

func removeCheck(v *vfs.VFS, c *vfs.Creds, root, dir vfs.Location, path string) error {
	return v.RemoveAt(c, root, dir, path)
}

func modifyCheck(v *vfs.VFS, c *vfs.Creds, root, dir vfs.Location, path string) error {
	return v.ModifyAt(c, root, dir, path, true)
}

func modifyNoFollowCheck(v *vfs.VFS, c *vfs.Creds, root, dir vfs.Location, path string) error {
	return v.ModifyAt(c, root, dir, path, false)
}

// checkPathAt copies in the path at pathAddr, resolves it from dirfd and
// runs check on it.
func checkPathAt(t *kernel.Task, dirfd int32, pathAddr uintptr, check pathCheck) error {
	path, err := copyInPath(t, pathAddr)
	if err != nil {
		return err
	}
	root, dir, err := startAt(t, dirfd, path, false)
	if err != nil {
		return err
	}
	return check(t.Kernel().VFS(), t.VFSCreds(), root, dir, path)
}

func sysMkdir(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return 0, checkPathAt(t, atFDCWD, a[0], createCheck)
}

func sysMkdirat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return 0, checkPathAt(t, a.Int(0), a[1], createCheck)
}

func sysMknod(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return 0, checkPathAt(t, atFDCWD, a[0], createCheck)
}

func sysMknodat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return 0, checkPathAt(t, a.Int(0), a[1], createCheck)
}

// sysSymlink checks the new name only (the target is any string).
func sysSymlink(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	if _, err := copyInPath(t, a[0]); err != nil {
		return 0, err
	}
	return 0, checkPathAt(t, atFDCWD, a[1], createCheck)
}

func sysSymlinkat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	if _, err := copyInPath(t, a[0]); err != nil {
		return 0, err
	}
	return 0, checkPathAt(t, a.Int(1), a[2], createCheck)
}

func sysUnlink(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return 0, checkPathAt(t, atFDCWD, a[0], removeCheck)
}

func sysRmdir(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return 0, checkPathAt(t, atFDCWD, a[0], removeCheck)
}

func sysUnlinkat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	if a.Int(2)&^unix.AT_REMOVEDIR != 0 {
		return 0, unix.EINVAL
	}
	return 0, checkPathAt(t, a.Int(0), a[1], removeCheck)
}

// twoPaths checks the old name of link or rename with oldCheck, then the
// new name with createCheck.
func twoPaths(t *kernel.Task, olddir int32, oldAddr uintptr, newdir int32, newAddr uintptr, oldCheck pathCheck) error {
	if err := checkPathAt(t, olddir, oldAddr, oldCheck); err != nil {
		return err
	}
	return checkPathAt(t, newdir, newAddr, createCheck)
}

// existsCheck only requires the old name of link to exist; the write
// refusal comes from the new name.
func existsCheck(v *vfs.VFS, c *vfs.Creds, root, dir vfs.Location, path string) error {
	_, err := v.LookupAt(c, root, dir, path, false)
	return err
}

func sysLink(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return 0, twoPaths(t, atFDCWD, a[0], atFDCWD, a[1], existsCheck)
}

func sysLinkat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	if a.Int(4)&^(unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	return 0, twoPaths(t, a.Int(0), a[1], a.Int(2), a[3], existsCheck)
}

func sysRename(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return 0, twoPaths(t, atFDCWD, a[0], atFDCWD, a[1], removeCheck)
}

func sysRenameat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return 0, twoPaths(t, a.Int(0), a[1], a.Int(2), a[3], removeCheck)
}

// Flags of renameat2 (linux/fs.h).
const renameFlags = 1<<0 | 1<<1 | 1<<2 // NOREPLACE, EXCHANGE, WHITEOUT

func sysRenameat2(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	if a.Uint(4)&^renameFlags != 0 {
		return 0, unix.EINVAL
	}
	return 0, twoPaths(t, a.Int(0), a[1], a.Int(2), a[3], removeCheck)
}

func sysChmod(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return 0, checkPathAt(t, atFDCWD, a[0], modifyCheck)
}

func sysFchmodat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return 0, checkPathAt(t, a.Int(0), a[1], modifyCheck)
}

func sysChown(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return 0, checkPathAt(t, atFDCWD, a[0], modifyCheck)
}

func sysLchown(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return 0, checkPathAt(t, atFDCWD, a[0], modifyNoFollowCheck)
}

func sysFchownat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	flags := a.Int(4)
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
		return 0, checkPathAt(t, a.Int(0), a[1], modifyNoFollowCheck)
	}
	return 0, checkPathAt(t, a.Int(0), a[1], modifyCheck)
}

func sysTruncate(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	if int64(a[1]) < 0 {
		return 0, unix.EINVAL
	}
	return 0, checkPathAt(t, atFDCWD, a[0], func(v *vfs.VFS, c *vfs.Creds, root, dir vfs.Location, path string) error {
		loc, err := v.LookupAt(c, root, dir, path, true)
		if err != nil {
			return err
		}
		if loc.IsDir() {
			return unix.EISDIR
		}
		return v.ModifyAt(c, root, dir, path, true)
	})
}

// sysUtimensat implements utimensat(2) as far as its checks: the file
// must exist, then EROFS (a NULL path acts on dirfd itself, as futimens;
// a descriptor the sandbox was given from the host is refused with
// EPERM rather than touching a host file's times).
func sysUtimensat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	dirfd, pathAddr, flags := a.Int(0), a[1], a.Int(3)
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	if pathAddr == 0 {
		f, err := file(t, dirfd)
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		loc := f.Location()
		if !loc.Valid() {
			return 0, unix.EPERM
		}
		if loc.Mount().ReadOnly() {
			return 0, unix.EROFS
		}
		return 0, unix.EOPNOTSUPP
	}
	if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
		return 0, checkPathAt(t, dirfd, pathAddr, modifyNoFollowCheck)
	}
	return 0, checkPathAt(t, dirfd, pathAddr, modifyCheck)
}
