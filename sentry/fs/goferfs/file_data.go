package goferfs

import (
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// The data calls go straight to the host descriptor the gofer opened:
// it has the access mode the application asked for, so the host kernel
// gives exactly Linux's answers (EINVAL truncating a directory, EISDIR
// allocating one, EOPNOTSUPP for a fallocate mode the host file system
// lacks) with no gofer round trip.

// Truncate implements vfs.DataFile.
func (h *hostFile) Truncate(_ *vfs.File, size int64) error {
	return errnoOf(unix.Ftruncate(h.fd, size))
}

// Allocate implements vfs.DataFile.
func (h *hostFile) Allocate(_ *vfs.File, mode uint32, off, length int64) error {
	return errnoOf(unix.Fallocate(h.fd, mode, off, length))
}

// Sync implements vfs.DataFile.
func (h *hostFile) Sync(_ *vfs.File, dataOnly bool) error {
	if dataOnly {
		return errnoOf(unix.Fdatasync(h.fd))
	}
	return errnoOf(unix.Fsync(h.fd))
}

var _ vfs.DataFile = (*regularFile)(nil)
