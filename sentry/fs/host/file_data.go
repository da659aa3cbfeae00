package host

import (
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// The container's standard streams may be regular files (a shell's
// redirection): the data calls go to the host descriptor, whose kernel
// answers for pipes and terminals too (EINVAL for fsync or ftruncate,
// ESPIPE for fallocate of a pipe).

// Truncate implements vfs.DataFile.
func (h *file) Truncate(_ *vfs.File, size int64) error {
	return errnoOf(unix.Ftruncate(h.fd, size))
}

// Allocate implements vfs.DataFile.
func (h *file) Allocate(_ *vfs.File, mode uint32, off, length int64) error {
	return errnoOf(unix.Fallocate(h.fd, mode, off, length))
}

// Sync implements vfs.DataFile.
func (h *file) Sync(_ *vfs.File, dataOnly bool) error {
	if dataOnly {
		return errnoOf(unix.Fdatasync(h.fd))
	}
	return errnoOf(unix.Fsync(h.fd))
}

var _ vfs.DataFile = (*file)(nil)
