package fsutil

import (
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// DirFile holds the methods an in-memory directory's open file answers
// as every directory does: no data (read EISDIR, write EBADF), no ioctl
// (ENOTTY), no host descriptor and nothing to release. A directory file
// embeds it and adds Seek, Getdents and Stat.
type DirFile struct{}

// Read implements vfs.FileImpl: a directory has no data to read.
func (DirFile) Read(*vfs.File, []byte) (int, error) { return 0, unix.EISDIR }

// Write implements vfs.FileImpl: a directory is never open for writing.
func (DirFile) Write(*vfs.File, []byte) (int, error) { return 0, unix.EBADF }

// PRead implements vfs.FileImpl, as Read.
func (DirFile) PRead(*vfs.File, []byte, int64) (int, error) { return 0, unix.EISDIR }

// PWrite implements vfs.FileImpl, as Write.
func (DirFile) PWrite(*vfs.File, []byte, int64) (int, error) { return 0, unix.EBADF }

// Ioctl implements vfs.FileImpl: no directory ioctl is supported.
func (DirFile) Ioctl(*vfs.File, uintptr, uintptr, vfs.IOContext) (uintptr, error) {
	return 0, unix.ENOTTY
}

// HostFD implements vfs.FileImpl: the directory lives in the sentry.
func (DirFile) HostFD() int { return -1 }

// Release implements vfs.FileImpl: nothing is held.
func (DirFile) Release() {}

// Seek returns where SEEK_SET or SEEK_CUR by off lands from the offset
// cur, for files with no end to seek from (directories, whose offset is
// a cookie, and generated files). EINVAL for any other whence and for a
// negative result.
func Seek(cur, off int64, whence int) (int64, error) {
	switch whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		off += cur
	default:
		return 0, unix.EINVAL
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	return off, nil
}
