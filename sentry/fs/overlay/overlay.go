// Package overlay keeps a file system's writes in memory: a tmpfs upper
// layer over a read-only lower layer (the gofer-served root). A lookup
// sees the upper name if there is one, else the lower one; the first
// change to a lower file copies it up (data into the upper file's
// memfd, then mode, owner and times); deleting a lower name leaves a
// whiteout in the upper layer, and a directory made where a lower one
// was deleted is opaque (hides the lower layer). Directory listings
// merge both layers. Renaming a directory that exists in the lower layer
// fails with EXDEV, as Linux's overlayfs does without redirect_dir:
// mv(1) then copies and deletes. The lower layer is never written.
package overlay

import (
	"fmt"
	"sync"

	"moat/sentry/fs/fsutil"
	"moat/sentry/fs/tmpfs"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// upperInoBase offsets the inode numbers of files that exist only in the
// upper layer, so they never collide with the lower layer's numbers
// (which overlay files keep, across a copy-up too).
const upperInoBase = 1 << 56

// newDirSize is st_size (and newDirBlocks st_blocks) of a directory made
// in the overlay: what a fresh directory on ext4 reports, since the
// overlay stands in for a writable disk root.
const (
	newDirSize   = 4096
	newDirBlocks = 8
)

// Filesystem is one overlay: its layers and the tree of nodes seen so
// far.
type Filesystem struct {
	upper *tmpfs.Filesystem
	lower vfs.FilesystemImpl
	dev   uint64

	// mu serialises every change of the tree (copy-up, create, remove,
	// rename) and guards every node's upper, lower, parent, name,
	// children and nlinkBias. Lower-layer lookups run without it.
	mu   sync.Mutex
	root *node
}

// New makes an overlay of an empty tmpfs (limited by upper's options)
// on lower.
func New(lower vfs.FilesystemImpl, upper tmpfs.Options) (*Filesystem, error) {
	li, err := lower.Root()
	if err != nil {
		return nil, fmt.Errorf("overlay: lower root: %w", err)
	}
	st, err := li.Stat()
	if err != nil {
		li.Release()
		return nil, fmt.Errorf("overlay: lower root: %w", err)
	}
	fs := &Filesystem{lower: lower, dev: fsutil.NewAnonDev()}
	upper.Mode = st.Mode & 0o7777
	upper.UID, upper.GID = st.Uid, st.Gid
	fs.upper = tmpfs.New(upper)
	ur := fs.upper.RootInode()
	// The upper root stands for the lower one: same times.
	ur.SetAttr(vfs.AttrChange{Mask: vfs.SetTimes, Atime: st.Atim, Mtime: st.Mtim})
	fs.root = &node{fs: fs, typ: unix.S_IFDIR, upper: ur, lower: li, lowerIno: int64(st.Ino), lowerSize: st.Size, lowerBlocks: st.Blocks,
		nlinkBias: int64(st.Nlink) - 2}
	return fs, nil
}

// Root implements vfs.FilesystemImpl.
func (fs *Filesystem) Root() (vfs.Inode, error) { return fs.root, nil }

// Upper returns the upper layer (statfs reports its use).
func (fs *Filesystem) Upper() *tmpfs.Filesystem { return fs.upper }
