package overlay

import (
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// file is an open regular file of either layer, seen through the
// overlay: its data calls go to the layer's file, its fstat is the
// overlay's.
type file struct {
	vfs.FileImpl
	n *node
}

// Stat reports the overlay's metadata of the file.
func (f *file) Stat(*vfs.File) (unix.Stat_t, error) { return f.n.Stat() }

// Truncate implements vfs.DataFile by the layer's file.
func (f *file) Truncate(vf *vfs.File, size int64) error {
	if d, ok := f.FileImpl.(vfs.DataFile); ok {
		return d.Truncate(vf, size)
	}
	return unix.EINVAL
}

// Allocate implements vfs.DataFile by the layer's file.
func (f *file) Allocate(vf *vfs.File, mode uint32, off, length int64) error {
	if d, ok := f.FileImpl.(vfs.DataFile); ok {
		return d.Allocate(vf, mode, off, length)
	}
	return unix.EOPNOTSUPP
}

// Sync implements vfs.DataFile by the layer's file.
func (f *file) Sync(vf *vfs.File, dataOnly bool) error {
	if d, ok := f.FileImpl.(vfs.DataFile); ok {
		return d.Sync(vf, dataOnly)
	}
	return nil
}

// SetStatusFlags implements vfs.StatusFlagsSetter by the layer's file.
func (f *file) SetStatusFlags(flags int) error {
	if s, ok := f.FileImpl.(vfs.StatusFlagsSetter); ok {
		return s.SetStatusFlags(flags)
	}
	return nil
}

var (
	_ vfs.DataFile          = (*file)(nil)
	_ vfs.StatusFlagsSetter = (*file)(nil)
)
