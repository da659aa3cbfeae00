package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// fallocate modes (linux/falloc.h). falloc_fl_write_zeroes is new in
// Linux 6.17 and not in x/sys/unix yet.
const (
	fallocModeMask = unix.FALLOC_FL_PUNCH_HOLE | unix.FALLOC_FL_COLLAPSE_RANGE | unix.FALLOC_FL_ZERO_RANGE |
		unix.FALLOC_FL_INSERT_RANGE | unix.FALLOC_FL_UNSHARE_RANGE | fallocWriteZeroes
	fallocWriteZeroes = 0x80
)

// syncFileRangeFlags are sync_file_range's valid flags.
const syncFileRangeFlags = unix.SYNC_FILE_RANGE_WAIT_BEFORE | unix.SYNC_FILE_RANGE_WRITE | unix.SYNC_FILE_RANGE_WAIT_AFTER

// dataFile returns the open file at fd, refusing O_PATH descriptors with
// EBADF as the kernel's fdget does for every call of this file.
func dataFile(t *kernel.Task, fd int32) (*vfs.File, error) {
	f, err := file(t, fd)
	if err != nil {
		return nil, err
	}
	if f.Flags()&unix.O_PATH != 0 {
		f.DecRef()
		return nil, unix.EBADF
	}
	return f, nil
}

// fileType returns the S_IFMT bits of f.
func fileType(f *vfs.File) (uint32, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Mode & unix.S_IFMT, nil
}

// sysFtruncate implements ftruncate(2): EINVAL for a negative length, a
// file not open for writing or not a regular file.
func sysFtruncate(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	length := int64(a[1])
	if length < 0 {
		return 0, unix.EINVAL
	}
	f, err := dataFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return 0, f.Truncate(length)
}

// sysFallocate implements fallocate(2) with the checks of vfs_fallocate:
// EINVAL for a negative offset or a non-positive length, EOPNOTSUPP for
// an unknown or ill-combined mode (one mode at most; PUNCH_HOLE needs
// KEEP_SIZE; COLLAPSE, INSERT and WRITE_ZEROES refuse it), EBADF unless
// open for writing, then ESPIPE/EISDIR/ENODEV by file type, EFBIG past
// the largest offset, and what the file system says.
func sysFallocate(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	mode := a.Uint(1)
	off, length := int64(a[2]), int64(a[3])
	f, err := dataFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if off < 0 || length <= 0 {
		return 0, unix.EINVAL
	}
	if mode&^(fallocModeMask|unix.FALLOC_FL_KEEP_SIZE) != 0 {
		return 0, unix.EOPNOTSUPP
	}
	keep := mode&unix.FALLOC_FL_KEEP_SIZE != 0
	switch mode & fallocModeMask {
	case 0, unix.FALLOC_FL_UNSHARE_RANGE, unix.FALLOC_FL_ZERO_RANGE:
	case unix.FALLOC_FL_PUNCH_HOLE:
		if !keep {
			return 0, unix.EOPNOTSUPP
		}
	case unix.FALLOC_FL_COLLAPSE_RANGE, unix.FALLOC_FL_INSERT_RANGE, fallocWriteZeroes:
		if keep {
			return 0, unix.EOPNOTSUPP
		}
	default:
		return 0, unix.EOPNOTSUPP
	}
	return 0, f.Allocate(mode, off, length)
}

// sysFsync implements fsync(2): EINVAL for files that cannot be synced.
func sysFsync(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return syncFD(t, a.Int(0), false)
}

// sysFdatasync implements fdatasync(2).
func sysFdatasync(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return syncFD(t, a.Int(0), true)
}

func syncFD(t *kernel.Task, fd int32, dataOnly bool) (uintptr, error) {
	f, err := dataFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return 0, f.Sync(dataOnly)
}

// sysSync implements sync(2). The sandbox's data reaches the host through
// host descriptors (page cache shared with the host), so there is nothing
// of the sentry's own to flush; flushing the host's every file system on
// an application's behalf is not the sandbox's to do.
func sysSync(*kernel.Task, arch.SyscallArguments) (uintptr, error) { return 0, nil }

// sysSyncfs implements syncfs(2) as a sync of the one file: EBADF for a
// bad descriptor, else success (a file that cannot be synced, a pipe,
// still succeeds, as its file system has nothing to write).
func sysSyncfs(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, err := dataFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if err := f.Sync(false); err != nil && err != unix.EINVAL && err != unix.EBADF {
		return 0, err
	}
	return 0, nil
}

// sysSyncFileRange implements sync_file_range(2): EINVAL for unknown
// flags, a negative offset or a range that wraps, ESPIPE for files other
// than regular files, directories, symlinks and block devices. Writing
// the range out is done as an fdatasync of the file (stronger than asked).
func sysSyncFileRange(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	off, n, flags := int64(a[1]), int64(a[2]), a.Uint(3)
	f, err := dataFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	end := off + n
	if flags&^syncFileRangeFlags != 0 || off < 0 || end < 0 || end < off {
		return 0, unix.EINVAL
	}
	typ, err := fileType(f)
	if err != nil {
		return 0, err
	}
	switch typ {
	case unix.S_IFREG, unix.S_IFDIR, unix.S_IFLNK, unix.S_IFBLK:
	default:
		return 0, unix.ESPIPE
	}
	if flags&unix.SYNC_FILE_RANGE_WRITE == 0 {
		return 0, nil
	}
	if err := f.Sync(true); err != nil && err != unix.EINVAL {
		return 0, err
	}
	return 0, nil
}

// checkAdvice is generic_fadvise's checking: ESPIPE on a FIFO, EINVAL for
// a negative length or an unknown advice. Advice changes nothing here
// (the host page cache does its own read-ahead), so that is all.
func checkAdvice(f *vfs.File, length int64, advice int32) error {
	typ, err := fileType(f)
	if err != nil {
		return err
	}
	if typ == unix.S_IFIFO {
		return unix.ESPIPE
	}
	if length < 0 {
		return unix.EINVAL
	}
	switch advice {
	case unix.FADV_NORMAL, unix.FADV_RANDOM, unix.FADV_SEQUENTIAL, unix.FADV_WILLNEED,
		unix.FADV_DONTNEED, unix.FADV_NOREUSE:
		return nil
	}
	return unix.EINVAL
}

// sysFadvise64 implements fadvise64(2) (posix_fadvise).
func sysFadvise64(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, err := dataFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return 0, checkAdvice(f, int64(a[2]), a.Int(3))
}

// sysReadahead implements readahead(2): EBADF unless open for reading,
// EINVAL for anything but a regular file or block device, then the
// checks of fadvise(WILLNEED).
func sysReadahead(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, err := dataFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if !f.Readable() {
		return 0, unix.EBADF
	}
	typ, err := fileType(f)
	if err != nil {
		return 0, err
	}
	if typ != unix.S_IFREG && typ != unix.S_IFBLK {
		return 0, unix.EINVAL
	}
	return 0, checkAdvice(f, int64(a[2]), unix.FADV_WILLNEED)
}
