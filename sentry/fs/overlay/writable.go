package overlay

import (
	"moat/sentry/fs/fsutil"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// superMagic is OVERLAYFS_SUPER_MAGIC, statfs's f_type for an overlay.
const superMagic = 0x794c7630

var (
	_ vfs.WritableDir   = (*node)(nil)
	_ vfs.WritableInode = (*node)(nil)
	_ vfs.StatFSInode   = (*node)(nil)
)

// Create implements vfs.WritableDir.
func (d *node) Create(name string, flags int, mode uint32, owner vfs.Owner) (vfs.Inode, vfs.FileImpl, error) {
	return fsutil.Create(d.makeNode, name, flags, mode, owner)
}

// Mkdir implements vfs.WritableDir.
func (d *node) Mkdir(name string, mode uint32, owner vfs.Owner) error {
	return fsutil.Mkdir(d.makeNode, name, mode, owner)
}

// Mknod implements vfs.WritableDir (FIFOs and sockets).
func (d *node) Mknod(name string, mode uint32, owner vfs.Owner) error {
	return fsutil.Mknod(d.makeNode, name, mode, owner)
}

// Symlink implements vfs.WritableDir.
func (d *node) Symlink(name, target string, owner vfs.Owner) error {
	return fsutil.Symlink(d.makeSymlink, name, target, owner)
}

// Unlink implements vfs.WritableDir.
func (d *node) Unlink(name string, rmdir bool) error {
	if rmdir {
		return d.rmdir(name)
	}
	return d.unlink(name)
}

// StatFS implements vfs.StatFSInode: the upper layer's use, as Linux's
// overlayfs reports it, under the overlay's magic.
func (n *node) StatFS() (unix.Statfs_t, error) {
	st := n.fs.upper.Statfs()
	st.Type = superMagic
	return st, nil
}
