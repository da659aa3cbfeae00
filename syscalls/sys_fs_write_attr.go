package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Metadata changes (chmod, chown, truncate, utimes) and statfs.

// fdLocation returns the place in the tree of the file open as fd, for
// the f* calls: EBADF for an O_PATH descriptor unless pathOK, EPERM for
// a descriptor with no place in the tree (the sandbox's stdio, which
// belong to the host: moat does not change them).
func fdLocation(t *kernel.Task, fd int32, pathOK bool) (vfs.Location, error) {
	f, err := file(t, fd)
	if err != nil {
		return vfs.Location{}, err
	}
	defer f.DecRef()
	if !pathOK && f.Flags()&unix.O_PATH != 0 {
		return vfs.Location{}, unix.EBADF
	}
	loc := f.Location()
	if !loc.Valid() {
		return vfs.Location{}, unix.EPERM
	}
	return loc, nil
}

func chmodAt(t *kernel.Task, dirfd int32, addr uintptr, mode uint32, follow bool) (uintptr, error) {
	path, root, dir, err := pathAt(t, dirfd, addr, false)
	if err != nil {
		return 0, err
	}
	return 0, t.Kernel().VFS().ChmodAt(t.VFSCreds(), root, dir, path, follow, mode&0o7777)
}

// sysChmod implements chmod(2) (amd64 only).
func sysChmod(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return chmodAt(t, atFDCWD, a[0], a.Uint(1), true)
}

// sysFchmodat implements fchmodat(2), which has no flags argument.
func sysFchmodat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return chmodAt(t, a.Int(0), a[1], a.Uint(2), true)
}

// sysFchmod implements fchmod(2).
func sysFchmod(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	loc, err := fdLocation(t, a.Int(0), false)
	if err == unix.EPERM {
		// No place in the mount tree: a memfd changes its own inode.
		f, ferr := file(t, a.Int(0))
		if ferr != nil {
			return 0, ferr
		}
		defer f.DecRef()
		return 0, vfs.ChmodAnon(t.VFSCreds(), f, a.Uint(1)&0o7777)
	}
	if err != nil {
		return 0, err
	}
	return 0, t.Kernel().VFS().Chmod(t.VFSCreds(), loc, a.Uint(1)&0o7777)
}

// ownerArg reads a uid_t/gid_t argument: -1 (as 32 bits) means unchanged.
func ownerArg(v uint32) int64 {
	if v == 0xffffffff {
		return -1
	}
	return int64(v)
}

func chownAt(t *kernel.Task, dirfd int32, addr uintptr, uid, gid uint32, flags int32) (uintptr, error) {
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	path, root, dir, err := pathAt(t, dirfd, addr, flags&unix.AT_EMPTY_PATH != 0)
	if err != nil {
		return 0, err
	}
	v, c := t.Kernel().VFS(), t.VFSCreds()
	if path == "" {
		if !dir.Valid() {
			return 0, unix.EPERM
		}
		return 0, v.Chown(c, dir, ownerArg(uid), ownerArg(gid))
	}
	return 0, v.ChownAt(c, root, dir, path, flags&unix.AT_SYMLINK_NOFOLLOW == 0, ownerArg(uid), ownerArg(gid))
}

// sysChown implements chown(2) (amd64 only).
func sysChown(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return chownAt(t, atFDCWD, a[0], a.Uint(1), a.Uint(2), 0)
}

// sysLchown implements lchown(2) (amd64 only).
func sysLchown(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return chownAt(t, atFDCWD, a[0], a.Uint(1), a.Uint(2), unix.AT_SYMLINK_NOFOLLOW)
}

// sysFchownat implements fchownat(2).
func sysFchownat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return chownAt(t, a.Int(0), a[1], a.Uint(2), a.Uint(3), a.Int(4))
}

// sysFchown implements fchown(2).
func sysFchown(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	loc, err := fdLocation(t, a.Int(0), false)
	if err != nil {
		return 0, err
	}
	return 0, t.Kernel().VFS().Chown(t.VFSCreds(), loc, ownerArg(a.Uint(1)), ownerArg(a.Uint(2)))
}

// sysTruncate implements truncate(2) (ftruncate is with the file data
// calls).
func sysTruncate(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	path, root, dir, err := pathAt(t, atFDCWD, a[0], false)
	if err != nil {
		return 0, err
	}
	return 0, t.Kernel().VFS().TruncateAt(t.VFSCreds(), root, dir, path, int64(a[1]))
}

// utimes is the common end of utimensat, futimesat, utimes and utime:
// times nil means now. A NULL path acts on dirfd itself (futimens), which
// takes no flags.
func utimes(t *kernel.Task, dirfd int32, pathAddr uintptr, times *[2]unix.Timespec, flags int32) (uintptr, error) {
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	for i := 0; times != nil && i < 2; i++ {
		ns := times[i].Nsec
		if ns != unix.UTIME_NOW && ns != unix.UTIME_OMIT && (ns < 0 || ns >= 1e9) {
			return 0, unix.EINVAL
		}
	}
	v, c := t.Kernel().VFS(), t.VFSCreds()
	if pathAddr == 0 {
		if dirfd == atFDCWD {
			return 0, unix.EFAULT
		}
		if flags != 0 {
			return 0, unix.EINVAL
		}
		loc, err := fdLocation(t, dirfd, false)
		if err != nil {
			return 0, err
		}
		return 0, v.Utimes(c, loc, times)
	}
	path, root, dir, err := pathAt(t, dirfd, pathAddr, flags&unix.AT_EMPTY_PATH != 0)
	if err != nil {
		return 0, err
	}
	if path == "" {
		if !dir.Valid() {
			return 0, unix.EPERM
		}
		return 0, v.Utimes(c, dir, times)
	}
	return 0, v.UtimesAt(c, root, dir, path, flags&unix.AT_SYMLINK_NOFOLLOW == 0, times)
}

// sysUtimensat implements utimensat(2) (and futimens, its NULL path).
func sysUtimensat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	var times *[2]unix.Timespec
	if a[2] != 0 {
		var b [32]byte
		if err := copyInAll(t, a[2], b[:]); err != nil {
			return 0, err
		}
		times = &[2]unix.Timespec{
			{Sec: int64(le.Uint64(b[0:])), Nsec: int64(le.Uint64(b[8:]))},
			{Sec: int64(le.Uint64(b[16:])), Nsec: int64(le.Uint64(b[24:]))},
		}
	}
	return utimes(t, a.Int(0), a[1], times, a.Int(3))
}

// timevals reads struct timeval[2] at addr (nil for NULL): EINVAL for a
// microsecond count out of range.
func timevals(t *kernel.Task, addr uintptr) (*[2]unix.Timespec, error) {
	if addr == 0 {
		return nil, nil
	}
	var b [32]byte
	if err := copyInAll(t, addr, b[:]); err != nil {
		return nil, err
	}
	var ts [2]unix.Timespec
	for i := range ts {
		sec, usec := int64(le.Uint64(b[16*i:])), int64(le.Uint64(b[16*i+8:]))
		if usec < 0 || usec >= 1e6 {
			return nil, unix.EINVAL
		}
		ts[i] = unix.Timespec{Sec: sec, Nsec: usec * 1000}
	}
	return &ts, nil
}

// sysFutimesat implements futimesat(2) (amd64 only).
func sysFutimesat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	ts, err := timevals(t, a[2])
	if err != nil {
		return 0, err
	}
	return utimes(t, a.Int(0), a[1], ts, 0)
}

// sysUtimes implements utimes(2) (amd64 only).
func sysUtimes(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	ts, err := timevals(t, a[1])
	if err != nil {
		return 0, err
	}
	if a[0] == 0 {
		return 0, unix.EFAULT
	}
	return utimes(t, atFDCWD, a[0], ts, 0)
}

// sysUtime implements utime(2) (amd64 only): struct utimbuf holds two
// longs, access and modification times in seconds.
func sysUtime(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	var ts *[2]unix.Timespec
	if a[1] != 0 {
		var b [16]byte
		if err := copyInAll(t, a[1], b[:]); err != nil {
			return 0, err
		}
		ts = &[2]unix.Timespec{{Sec: int64(le.Uint64(b[0:]))}, {Sec: int64(le.Uint64(b[8:]))}}
	}
	if a[0] == 0 {
		return 0, unix.EFAULT
	}
	return utimes(t, atFDCWD, a[0], ts, 0)
}

// statfsSize is sizeof(struct statfs) on x86-64 and arm64 (both use
// 64-bit words throughout).
const statfsSize = 120

// copyOutStatfs writes struct statfs to addr.
func copyOutStatfs(t *kernel.Task, addr uintptr, s *unix.Statfs_t) error {
	var b [statfsSize]byte
	for i, v := range []uint64{uint64(s.Type), uint64(s.Bsize), s.Blocks, s.Bfree, s.Bavail, s.Files, s.Ffree} {
		le.PutUint64(b[8*i:], v)
	}
	le.PutUint32(b[56:], uint32(s.Fsid.Val[0]))
	le.PutUint32(b[60:], uint32(s.Fsid.Val[1]))
	le.PutUint64(b[64:], uint64(s.Namelen))
	le.PutUint64(b[72:], uint64(s.Frsize))
	le.PutUint64(b[80:], uint64(s.Flags))
	return copyOutAll(t, addr, b[:])
}

// sysStatfs implements statfs(2).
func sysStatfs(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	path, root, dir, err := pathAt(t, atFDCWD, a[0], false)
	if err != nil {
		return 0, err
	}
	v := t.Kernel().VFS()
	loc, err := v.LookupAt(t.VFSCreds(), root, dir, path, true)
	if err != nil {
		return 0, err
	}
	s, err := v.StatFS(loc)
	if err != nil {
		return 0, err
	}
	return 0, copyOutStatfs(t, a[1], &s)
}

// sysFstatfs implements fstatfs(2) (O_PATH descriptors included).
func sysFstatfs(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	loc, err := fdLocation(t, a.Int(0), true)
	if err == unix.EPERM {
		// The sandbox's stdio: not in the tree.
		return 0, unix.ENOSYS
	}
	if err != nil {
		return 0, err
	}
	s, err := t.Kernel().VFS().StatFS(loc)
	if err != nil {
		return 0, err
	}
	return 0, copyOutStatfs(t, a[1], &s)
}
