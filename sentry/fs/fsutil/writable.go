package fsutil

import (
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// The creation calls of vfs.WritableDir, for the in-memory file systems
// (tmpfs, overlay): each is one node made by the directory's own
// primitive, so both map the calls to it the same way.

// Opener is a node that can be opened, as vfs.Inode's Open.
type Opener interface {
	vfs.Inode
	Open(flags int) (vfs.FileImpl, error)
}

// MakeNodeFunc makes the node name in a directory: mode carries the
// file type (S_IF*) and permission bits, rdev the device number.
type MakeNodeFunc[N Opener] func(name string, mode uint32, rdev uint64, uid, gid uint32) (N, error)

// MakeSymlinkFunc makes the symbolic link name to target in a directory.
type MakeSymlinkFunc[N Opener] func(name, target string, uid, gid uint32) (N, error)

// Create implements vfs.WritableDir.Create with mk: a regular file with
// mode's permission bits, opened with flags.
func Create[N Opener](mk MakeNodeFunc[N], name string, flags int, mode uint32, owner vfs.Owner) (vfs.Inode, vfs.FileImpl, error) {
	c, err := mk(name, unix.S_IFREG|mode&0o7777, 0, owner.UID, owner.GID)
	if err != nil {
		return nil, nil, err
	}
	f, err := c.Open(flags)
	if err != nil {
		return nil, nil, err
	}
	return c, f, nil
}

// Mkdir implements vfs.WritableDir.Mkdir with mk.
func Mkdir[N Opener](mk MakeNodeFunc[N], name string, mode uint32, owner vfs.Owner) error {
	_, err := mk(name, unix.S_IFDIR|mode&0o7777, 0, owner.UID, owner.GID)
	return err
}

// Mknod implements vfs.WritableDir.Mknod with mk (FIFOs and sockets).
func Mknod[N Opener](mk MakeNodeFunc[N], name string, mode uint32, owner vfs.Owner) error {
	_, err := mk(name, mode, 0, owner.UID, owner.GID)
	return err
}

// Symlink implements vfs.WritableDir.Symlink with mk.
func Symlink[N Opener](mk MakeSymlinkFunc[N], name, target string, owner vfs.Owner) error {
	_, err := mk(name, target, owner.UID, owner.GID)
	return err
}
