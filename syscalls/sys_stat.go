package syscalls

import (
	"encoding/binary"

	"moat/platform/arch"
	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

// copyOutStat writes st to application memory at addr in the
// architecture's struct stat layout.
func copyOutStat(t *kernel.Task, addr uintptr, st *unix.Stat_t) error {
	var b [statSize]byte
	marshalStat(b[:], st)
	if c, err := t.CopyOut(addr, b[:]); err != nil || c != len(b) {
		return unix.EFAULT
	}
	return nil
}

// sysFstat implements fstat(2).
func sysFstat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, err := file(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return 0, copyOutStat(t, a[1], &st)
}

// statAt resolves and stats path for the stat family. An empty path with
// AT_EMPTY_PATH stats dirfd itself, whatever kind of file it is.
func statAt(t *kernel.Task, dirfd int32, pathAddr uintptr, flags int) (unix.Stat_t, error) {
	var path string
	if pathAddr != 0 || flags&unix.AT_EMPTY_PATH == 0 {
		p, err := copyInPath(t, pathAddr)
		if err != nil {
			return unix.Stat_t{}, err
		}
		path = p
	}
	if path == "" && flags&unix.AT_EMPTY_PATH != 0 && dirfd != atFDCWD {
		f, err := file(t, dirfd)
		if err != nil {
			return unix.Stat_t{}, err
		}
		defer f.DecRef()
		return f.Stat()
	}
	root, dir, err := startAt(t, dirfd, path, flags&unix.AT_EMPTY_PATH != 0)
	if err != nil {
		return unix.Stat_t{}, err
	}
	return t.Kernel().VFS().StatAt(t.VFSCreds(), root, dir, path, flags)
}

// sysStat implements stat(2) (amd64 only).
func sysStat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	st, err := statAt(t, atFDCWD, a[0], 0)
	if err != nil {
		return 0, err
	}
	return 0, copyOutStat(t, a[1], &st)
}

// sysLstat implements lstat(2) (amd64 only).
func sysLstat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	st, err := statAt(t, atFDCWD, a[0], unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return 0, err
	}
	return 0, copyOutStat(t, a[1], &st)
}

// sysNewfstatat implements newfstatat(2) (fstatat): EINVAL for flags other
// than AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH and AT_NO_AUTOMOUNT.
func sysNewfstatat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	flags := int(a.Int(3))
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH|unix.AT_NO_AUTOMOUNT) != 0 {
		return 0, unix.EINVAL
	}
	st, err := statAt(t, a.Int(0), a[1], flags)
	if err != nil {
		return 0, err
	}
	return 0, copyOutStat(t, a[2], &st)
}

// statx constants (linux/stat.h).
const (
	statxBasicStats = 0x7ff
	statxReserved   = 0x80000000
	statxSize       = 256
	// atStatxSyncType masks AT_STATX_FORCE_SYNC and AT_STATX_DONT_SYNC;
	// both at once is invalid.
	atStatxSyncType = 0x6000
)

// sysStatx implements statx(2). The mask returned is STATX_BASIC_STATS
// whatever was asked (Linux too may return more than asked); there is no
// birth time. AT_STATX_FORCE_SYNC and DONT_SYNC change nothing.
func sysStatx(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	flags, mask := int(a.Int(2)), a.Uint(3)
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH|unix.AT_NO_AUTOMOUNT|atStatxSyncType) != 0 {
		return 0, unix.EINVAL
	}
	if flags&atStatxSyncType == atStatxSyncType || mask&statxReserved != 0 {
		return 0, unix.EINVAL
	}
	st, err := statAt(t, a.Int(0), a[1], flags&^atStatxSyncType)
	if err != nil {
		return 0, err
	}
	var b [statxSize]byte
	marshalStatx(b[:], &st)
	if c, err := t.CopyOut(a[4], b[:]); err != nil || c != len(b) {
		return 0, unix.EFAULT
	}
	return 0, nil
}

// marshalStatx fills b (256 bytes) with struct statx from st. The layout
// is the same on every architecture.
func marshalStatx(b []byte, st *unix.Stat_t) {
	le := binary.LittleEndian
	clear(b)
	le.PutUint32(b[0:], statxBasicStats)
	le.PutUint32(b[4:], uint32(st.Blksize))
	le.PutUint32(b[16:], uint32(st.Nlink))
	le.PutUint32(b[20:], st.Uid)
	le.PutUint32(b[24:], st.Gid)
	le.PutUint16(b[28:], uint16(st.Mode))
	le.PutUint64(b[32:], st.Ino)
	le.PutUint64(b[40:], uint64(st.Size))
	le.PutUint64(b[48:], uint64(st.Blocks))
	putStatxTime := func(off int, ts unix.Timespec) {
		le.PutUint64(b[off:], uint64(ts.Sec))
		le.PutUint32(b[off+8:], uint32(ts.Nsec))
	}
	putStatxTime(64, st.Atim)
	// 80 is stx_btime: not in the mask, left zero.
	putStatxTime(96, st.Ctim)
	putStatxTime(112, st.Mtim)
	le.PutUint32(b[128:], unix.Major(uint64(st.Rdev)))
	le.PutUint32(b[132:], unix.Minor(uint64(st.Rdev)))
	le.PutUint32(b[136:], unix.Major(uint64(st.Dev)))
	le.PutUint32(b[140:], unix.Minor(uint64(st.Dev)))
}
