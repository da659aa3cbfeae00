package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Extended attributes: the getxattr, listxattr, setxattr and removexattr
// families. Only user.* attributes of regular files and directories are
// the host's; see vfs.VFS.GetXattr.

// xattrMax is XATTR_SIZE_MAX (and XATTR_LIST_MAX).
const xattrMax = 65536

// xattrLoc resolves the file of an xattr call: a path (following a final
// symlink when follow is set), or with isFD the descriptor a[0].
func xattrLoc(t *kernel.Task, a *arch.SyscallArguments, isFD, follow bool) (vfs.Location, error) {
	if isFD {
		return fdLocation(t, a.Int(0), false)
	}
	path, root, dir, err := pathAt(t, atFDCWD, a[0], false)
	if err != nil {
		return vfs.Location{}, err
	}
	return t.Kernel().VFS().LookupAt(t.VFSCreds(), root, dir, path, follow)
}

// xattrName copies in an attribute name: ERANGE when empty or over 255
// bytes.
func xattrName(t *kernel.Task, addr uintptr) (string, error) {
	name, err := t.CopyInString(addr, 256)
	if err == unix.ENAMETOOLONG {
		return "", unix.ERANGE
	}
	if err != nil {
		return "", err
	}
	if name == "" {
		return "", unix.ERANGE
	}
	return name, nil
}

// copyOutSized is the size protocol of getxattr and listxattr: size 0
// asks for the length; a smaller buffer is ERANGE.
func copyOutSized(t *kernel.Task, addr uintptr, size uintptr, v []byte) (uintptr, error) {
	if size == 0 {
		return uintptr(len(v)), nil
	}
	if uintptr(len(v)) > size {
		return 0, unix.ERANGE
	}
	if err := copyOutAll(t, addr, v); err != nil {
		return 0, err
	}
	return uintptr(len(v)), nil
}

func getxattr(t *kernel.Task, a arch.SyscallArguments, isFD, follow bool) (uintptr, error) {
	loc, err := xattrLoc(t, &a, isFD, follow)
	if err != nil {
		return 0, err
	}
	name, err := xattrName(t, a[1])
	if err != nil {
		return 0, err
	}
	v, err := t.Kernel().VFS().GetXattr(t.VFSCreds(), loc, name)
	if err == unix.E2BIG {
		err = unix.ERANGE
	}
	if err != nil {
		return 0, err
	}
	return copyOutSized(t, a[2], a[3], v)
}

func sysFgetxattr(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return getxattr(t, a, true, false)
}

func listxattr(t *kernel.Task, a arch.SyscallArguments, isFD, follow bool) (uintptr, error) {
	loc, err := xattrLoc(t, &a, isFD, follow)
	if err != nil {
		return 0, err
	}
	v, err := t.Kernel().VFS().ListXattr(t.VFSCreds(), loc)
	if err != nil {
		return 0, err
	}
	return copyOutSized(t, a[1], a[2], v)
}

func sysFlistxattr(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return listxattr(t, a, true, false)
}

func setxattr(t *kernel.Task, a arch.SyscallArguments, isFD, follow bool) (uintptr, error) {
	flags := a.Int(4)
	if flags&^(unix.XATTR_CREATE|unix.XATTR_REPLACE) != 0 {
		return 0, unix.EINVAL
	}
	loc, err := xattrLoc(t, &a, isFD, follow)
	if err != nil {
		return 0, err
	}
	name, err := xattrName(t, a[1])
	if err != nil {
		return 0, err
	}
	if a[3] > xattrMax {
		return 0, unix.E2BIG
	}
	value := make([]byte, a[3])
	if err := copyInAll(t, a[2], value); err != nil {
		return 0, err
	}
	return 0, t.Kernel().VFS().SetXattr(t.VFSCreds(), loc, name, value, int(flags))
}

func sysFsetxattr(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return setxattr(t, a, true, false)
}

func removexattr(t *kernel.Task, a arch.SyscallArguments, isFD, follow bool) (uintptr, error) {
	loc, err := xattrLoc(t, &a, isFD, follow)
	if err != nil {
		return 0, err
	}
	name, err := xattrName(t, a[1])
	if err != nil {
		return 0, err
	}
	return 0, t.Kernel().VFS().RemoveXattr(t.VFSCreds(), loc, name)
}

func sysFremovexattr(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return removexattr(t, a, true, false)
}

// xattrFn is one extended attribute call; isFD and follow say how its
// first argument names the file (an fd, a path, a path whose last
// symlink is not followed).
type xattrFn func(t *kernel.Task, a arch.SyscallArguments, isFD, follow bool) (uintptr, error)

// xattrForms makes the table entries of OPxattr, lOPxattr and fOPxattr
// from their one implementation fn; args are the --strace formats of
// the arguments after the file.
func xattrForms(op string, fn xattrFn, args string) []entry {
	return []entry{
		partial(op+"xattr", func(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
			return fn(t, a, false, true)
		}, "path,"+args, xattrNote),
		partial("l"+op+"xattr", func(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
			return fn(t, a, false, false)
		}, "path,"+args, xattrNote),
		partial("f"+op+"xattr", func(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
			return fn(t, a, true, false)
		}, "fd,"+args, xattrNote),
	}
}
