package syscalls

import (
	"encoding/binary"
	"os"

	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// openHowSize is sizeof(struct open_how) as this kernel knows it (flags,
// mode, resolve: three u64), which is also OPEN_HOW_SIZE_VER0, the
// smallest size openat2 accepts.
const openHowSize = 24

// oPathFlags are the only flags O_PATH may come with (O_PATH_FLAGS;
// O_CLOEXEC is stripped before the check).
const oPathFlags = unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_PATH | unix.O_CLOEXEC

// openHow is struct open_how (linux/openat2.h).
type openHow struct {
	flags, mode, resolve uint64
}

// copyInOpenHow reads the struct open_how of usize bytes at addr with the
// extensible-struct rules (copy_struct_from_user): smaller than version 0
// is EINVAL, more than a page E2BIG, and bytes beyond the fields this
// kernel knows must be zero (E2BIG otherwise).
func copyInOpenHow(t *kernel.Task, addr, usize uintptr) (openHow, error) {
	if usize < openHowSize {
		return openHow{}, unix.EINVAL
	}
	if usize > uintptr(os.Getpagesize()) {
		return openHow{}, unix.E2BIG
	}
	var b [openHowSize]byte
	if err := copyInAll(t, addr, b[:]); err != nil {
		return openHow{}, err
	}
	if usize > openHowSize {
		tail := make([]byte, usize-openHowSize)
		if err := copyInAll(t, addr+openHowSize, tail); err != nil {
			return openHow{}, err
		}
		for _, c := range tail {
			if c != 0 {
				return openHow{}, unix.E2BIG
			}
		}
	}
	ne := binary.NativeEndian
	return openHow{flags: ne.Uint64(b[0:]), mode: ne.Uint64(b[8:]), resolve: ne.Uint64(b[16:])}, nil
}

// openFlags2 checks how as Linux's build_open_flags does for openat2,
// which, unlike open and openat, refuses what it does not know, and
// returns the open flags and mode to use.
func openFlags2(how openHow) (int, uint32, error) {
	flags := how.flags &^ unix.O_CLOEXEC
	if flags&^uint64(validOpenFlags) != 0 {
		return 0, 0, unix.EINVAL
	}
	rf := vfs.ResolveFlags(how.resolve)
	if rf&^vfs.ValidResolveFlags != 0 {
		return 0, 0, unix.EINVAL
	}
	if rf&vfs.ResolveBeneath != 0 && rf&vfs.ResolveInRoot != 0 {
		return 0, 0, unix.EINVAL
	}
	tmpfile := flags&(unix.O_TMPFILE&^unix.O_DIRECTORY) != 0
	if flags&unix.O_CREAT != 0 || tmpfile {
		if how.mode&^0o7777 != 0 {
			return 0, 0, unix.EINVAL
		}
	} else if how.mode != 0 {
		return 0, 0, unix.EINVAL
	}
	if flags&(unix.O_DIRECTORY|unix.O_CREAT) == unix.O_DIRECTORY|unix.O_CREAT {
		return 0, 0, unix.EINVAL
	}
	if tmpfile {
		// O_TMPFILE carries O_DIRECTORY so that old kernels fail it;
		// Linux insists on both, and on write access.
		if flags&unix.O_DIRECTORY == 0 || flags&unix.O_ACCMODE == unix.O_RDONLY {
			return 0, 0, unix.EINVAL
		}
	}
	if flags&unix.O_PATH != 0 && flags&^oPathFlags != 0 {
		return 0, 0, unix.EINVAL
	}
	if flags&(unix.O_SYNC&^unix.O_DSYNC) != 0 {
		// __O_SYNC always comes with O_DSYNC, as O_SYNC is both.
		flags |= unix.O_DSYNC
	}
	if rf&vfs.ResolveCached != 0 && (flags&(unix.O_TRUNC|unix.O_CREAT) != 0 || tmpfile) {
		return 0, 0, unix.EAGAIN
	}
	out := int(flags) | int(how.flags&unix.O_CLOEXEC)
	if flags&unix.O_PATH == 0 {
		// 64-bit kernels force O_LARGEFILE, except on O_PATH files
		// (where openat2 refuses it).
		out |= oLargefile
	}
	return out, uint32(how.mode), nil
}

// startAt2 is startAt for openat2: with ResolveInRoot an absolute path is
// resolved from dirfd too; otherwise an absolute path ignores dirfd (with
// ResolveBeneath the walk refuses it with EXDEV).
func startAt2(t *kernel.Task, dirfd int32, path string, rf vfs.ResolveFlags) (root, dir vfs.Location, err error) {
	if path == "" || path[0] != '/' || rf&vfs.ResolveInRoot == 0 {
		return startAt(t, dirfd, path, false)
	}
	root, cwd := t.FSContext().Get()
	if dirfd == atFDCWD {
		return root, cwd, nil
	}
	f, err := t.FDTable().Get(dirfd)
	if err != nil {
		return vfs.Location{}, vfs.Location{}, err
	}
	defer f.DecRef()
	loc := f.Location()
	if !loc.IsDir() {
		return vfs.Location{}, vfs.Location{}, unix.ENOTDIR
	}
	return root, loc, nil
}

// sysOpenat2 implements openat2(2): openat with a struct open_how whose
// flags are checked strictly and whose resolve flags restrict the walk.
func sysOpenat2(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	how, err := copyInOpenHow(t, a[2], a[3])
	if err != nil {
		return 0, err
	}
	flags, mode, err := openFlags2(how)
	if err != nil {
		return 0, err
	}
	rf := vfs.ResolveFlags(how.resolve)
	path, err := copyInPath(t, a[1])
	if err != nil {
		return 0, err
	}
	root, dir, err := startAt2(t, a.Int(0), path, rf)
	if err != nil {
		return 0, err
	}
	mode &= 0o7777 &^ t.ThreadGroup().Umask()
	f, err := t.Kernel().VFS().OpenAt2(t.VFSCreds(), root, dir, path, flags, mode, rf)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	fd, err := t.FDTable().Install(f, 0, flags&unix.O_CLOEXEC != 0, nofile(t))
	if err != nil {
		return 0, err
	}
	return uintptr(fd), nil
}
