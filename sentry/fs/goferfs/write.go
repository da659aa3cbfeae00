package goferfs

import (
	"os"

	"moat/gofer"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// WritableRemote is the part of the gofer client the write operations
// and bind mounts use; *gofer.Client satisfies it. A Remote without it
// serves a tree that cannot change (EROFS).
type WritableRemote interface {
	AttachMount(dest string) (gofer.FID, gofer.Attr, error)
	Create(dir gofer.FID, name string, flags int, mode, uid, gid uint32) (gofer.FID, gofer.Attr, *os.File, error)
	Mkdir(dir gofer.FID, name string, mode, uid, gid uint32) error
	Mknod(dir gofer.FID, name string, mode, uid, gid uint32) error
	Symlink(dir gofer.FID, name, target string, uid, gid uint32) error
	Link(f, dir gofer.FID, name string) error
	Unlink(dir gofer.FID, name string, flags int) error
	Rename(oldDir gofer.FID, oldName string, newDir gofer.FID, newName string, flags uint) error
	SetAttr(f gofer.FID, a gofer.SetAttr) error
	StatFS(f gofer.FID) (gofer.Statfs, error)
	GetXattr(f gofer.FID, name string) ([]byte, error)
	ListXattr(f gofer.FID) ([]byte, error)
	SetXattr(f gofer.FID, name string, value []byte, flags int) error
	RemoveXattr(f gofer.FID, name string) error
}

// Compile-time checks: the inode implements the VFS's optional write
// interfaces.
var (
	_ vfs.WritableDir   = (*inode)(nil)
	_ vfs.WritableInode = (*inode)(nil)
	_ vfs.StatFSInode   = (*inode)(nil)
	_ vfs.XattrInode    = (*inode)(nil)
	_ WritableRemote    = (*gofer.Client)(nil)
)

// w returns the writable remote, or EROFS.
func (i *inode) w() (WritableRemote, error) {
	w, ok := i.fs.r.(WritableRemote)
	if !ok {
		return nil, unix.EROFS
	}
	return w, nil
}

// Create implements vfs.WritableDir.
func (i *inode) Create(name string, flags int, mode uint32, o vfs.Owner) (vfs.Inode, vfs.FileImpl, error) {
	w, err := i.w()
	if err != nil {
		return nil, nil, err
	}
	fid, a, hf, err := w.Create(i.fid, name, flags&(unix.O_ACCMODE|unix.O_APPEND|unix.O_NONBLOCK), mode, o.UID, o.GID)
	if err != nil {
		return nil, nil, errno(err)
	}
	return &inode{fs: i.fs, fid: fid, attr: a}, newFileImpl(hf, a.Mode), nil
}

// Mkdir implements vfs.WritableDir.
func (i *inode) Mkdir(name string, mode uint32, o vfs.Owner) error {
	w, err := i.w()
	if err != nil {
		return err
	}
	return errnoOrNil(w.Mkdir(i.fid, name, mode, o.UID, o.GID))
}

// Mknod implements vfs.WritableDir.
func (i *inode) Mknod(name string, mode uint32, o vfs.Owner) error {
	w, err := i.w()
	if err != nil {
		return err
	}
	return errnoOrNil(w.Mknod(i.fid, name, mode, o.UID, o.GID))
}

// Symlink implements vfs.WritableDir.
func (i *inode) Symlink(name, target string, o vfs.Owner) error {
	w, err := i.w()
	if err != nil {
		return err
	}
	return errnoOrNil(w.Symlink(i.fid, name, target, o.UID, o.GID))
}

// Link implements vfs.WritableDir: target must be a goferfs inode of the
// same connection (EXDEV otherwise).
func (i *inode) Link(name string, target vfs.Inode) error {
	w, err := i.w()
	if err != nil {
		return err
	}
	t, ok := target.(*inode)
	if !ok || t.fs.r != i.fs.r {
		return unix.EXDEV
	}
	return errnoOrNil(w.Link(t.fid, i.fid, name))
}

// Unlink implements vfs.WritableDir.
func (i *inode) Unlink(name string, rmdir bool) error {
	w, err := i.w()
	if err != nil {
		return err
	}
	flags := 0
	if rmdir {
		flags = unix.AT_REMOVEDIR
	}
	return errnoOrNil(w.Unlink(i.fid, name, flags))
}

// Rename implements vfs.WritableDir.
func (i *inode) Rename(oldName string, newDir vfs.Inode, newName string, flags uint) error {
	w, err := i.w()
	if err != nil {
		return err
	}
	nd, ok := newDir.(*inode)
	if !ok || nd.fs.r != i.fs.r {
		return unix.EXDEV
	}
	return errnoOrNil(w.Rename(i.fid, oldName, nd.fid, newName, flags))
}

// SetAttr implements vfs.WritableInode, then refreshes the cached
// attributes (chown may have cleared set-ID bits on the host).
func (i *inode) SetAttr(a vfs.AttrChange) error {
	w, err := i.w()
	if err != nil {
		return err
	}
	ga := gofer.SetAttr{Mode: a.Mode, UID: a.UID, GID: a.GID, Size: uint64(a.Size),
		Atime: [2]int64{a.Atime.Sec, a.Atime.Nsec}, Mtime: [2]int64{a.Mtime.Sec, a.Mtime.Nsec}}
	for _, m := range [][2]uint32{
		{vfs.SetMode, gofer.SetMode}, {vfs.SetUID, gofer.SetUID}, {vfs.SetGID, gofer.SetGID},
		{vfs.SetSize, gofer.SetSize}, {vfs.SetTimes, gofer.SetTimes},
	} {
		if a.Mask&m[0] != 0 {
			ga.Mask |= m[1]
		}
	}
	if err := w.SetAttr(i.fid, ga); err != nil {
		return errno(err)
	}
	na, err := i.fs.r.Stat(i.fid)
	if err != nil {
		return errno(err)
	}
	i.mu.Lock()
	i.attr = na
	i.mu.Unlock()
	return nil
}

// StatFS implements vfs.StatFSInode with the host's statfs of the file's
// file system, f_type included.
func (i *inode) StatFS() (unix.Statfs_t, error) {
	w, err := i.w()
	if err != nil {
		return unix.Statfs_t{}, unix.ENOSYS
	}
	s, err := w.StatFS(i.fid)
	if err != nil {
		return unix.Statfs_t{}, errno(err)
	}
	return statfsOf(&s), nil
}

// GetXattr implements vfs.XattrInode.
func (i *inode) GetXattr(name string) ([]byte, error) {
	w, err := i.w()
	if err != nil {
		return nil, unix.EOPNOTSUPP
	}
	v, err := w.GetXattr(i.fid, name)
	if err != nil {
		return nil, errno(err)
	}
	return v, nil
}

// ListXattr implements vfs.XattrInode.
func (i *inode) ListXattr() ([]byte, error) {
	w, err := i.w()
	if err != nil {
		return nil, nil
	}
	v, err := w.ListXattr(i.fid)
	if err != nil {
		return nil, errno(err)
	}
	return v, nil
}

// SetXattr implements vfs.XattrInode.
func (i *inode) SetXattr(name string, value []byte, flags int) error {
	w, err := i.w()
	if err != nil {
		return err
	}
	return errnoOrNil(w.SetXattr(i.fid, name, value, flags))
}

// RemoveXattr implements vfs.XattrInode.
func (i *inode) RemoveXattr(name string) error {
	w, err := i.w()
	if err != nil {
		return err
	}
	return errnoOrNil(w.RemoveXattr(i.fid, name))
}

// errnoOrNil is errno for a possibly nil error.
func errnoOrNil(err error) error {
	if err == nil {
		return nil
	}
	return errno(err)
}
