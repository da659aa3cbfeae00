package tmpfs

import (
	"moat/sentry/fs/fsutil"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// The VFS's write interfaces, on top of the MakeNode family.

var (
	_ vfs.WritableDir   = (*Inode)(nil)
	_ vfs.WritableInode = (*Inode)(nil)
	_ vfs.StatFSInode   = (*Inode)(nil)
)

// Create implements vfs.WritableDir.
func (d *Inode) Create(name string, flags int, mode uint32, owner vfs.Owner) (vfs.Inode, vfs.FileImpl, error) {
	return fsutil.Create(d.MakeNode, name, flags, mode, owner)
}

// Mkdir implements vfs.WritableDir.
func (d *Inode) Mkdir(name string, mode uint32, owner vfs.Owner) error {
	return fsutil.Mkdir(d.MakeNode, name, mode, owner)
}

// Mknod implements vfs.WritableDir (FIFOs and sockets).
func (d *Inode) Mknod(name string, mode uint32, owner vfs.Owner) error {
	return fsutil.Mknod(d.MakeNode, name, mode, owner)
}

// Symlink implements vfs.WritableDir.
func (d *Inode) Symlink(name, target string, owner vfs.Owner) error {
	return fsutil.Symlink(d.MakeSymlink, name, target, owner)
}

// Link implements vfs.WritableDir.
func (d *Inode) Link(name string, target vfs.Inode) error {
	t, ok := target.(*Inode)
	if !ok {
		return unix.EXDEV
	}
	return d.AddLink(name, t)
}

// Unlink implements vfs.WritableDir.
func (d *Inode) Unlink(name string, rmdir bool) error {
	if rmdir {
		return d.Rmdir(name, false)
	}
	return d.RemoveName(name)
}

// Rename implements vfs.WritableDir (RENAME_NOREPLACE and
// RENAME_EXCHANGE; the overlay uses Move for RENAME_WHITEOUT).
func (d *Inode) Rename(oldName string, newDir vfs.Inode, newName string, flags uint) error {
	nd, ok := newDir.(*Inode)
	if !ok {
		return unix.EXDEV
	}
	if flags&RenameWhiteout != 0 {
		return unix.EINVAL
	}
	return d.Move(oldName, nd, newName, flags)
}

// StatFS implements vfs.StatFSInode.
func (i *Inode) StatFS() (unix.Statfs_t, error) { return i.fs.Statfs(), nil }
