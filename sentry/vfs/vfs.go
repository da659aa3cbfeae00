package vfs

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// VFS is one sandbox's file system view: its mount tree.
type VFS struct {
	root *Mount

	// mountsMu guards mounts.
	mountsMu sync.RWMutex
	// mounts maps a mount point (a dentry in a parent mount) to the
	// mount covering it.
	mounts map[mountKey]*Mount
	// lastMountID is the ID of the newest mount (the root mount is 1).
	lastMountID int

	// renameMu guards every Dentry's name and parent: rename holds it
	// for writing (with the dentries' mu taken inside it), code that
	// follows parents for reading. It is never held across a file
	// system call except the rename itself.
	renameMu sync.RWMutex
	// renameOpMu serialises renames (Linux's s_vfs_rename_mutex): it is
	// held across the file system's rename, renameMu only around the
	// cache update after it.
	renameOpMu sync.Mutex
}

// mountKey names a mount point: a dentry as seen through one mount.
type mountKey struct {
	parent *Mount
	d      *Dentry
}

// Mount is one file system mounted in the tree. The root mount has no
// parent.
type Mount struct {
	fs   FilesystemImpl
	root *Dentry
	opts MountOptions

	// parent and point are where the mount is attached; nil for the
	// root mount. They never change after the mount is made.
	parent *Mount
	point  *Dentry
	// id numbers the mount in /proc/[pid]/mountinfo; fixed at mount.
	id int
}

// ReadOnly reports whether writes to the mount are refused with EROFS.
func (m *Mount) ReadOnly() bool { return m.opts.ReadOnly }

// New builds a VFS whose root mount is root (in this issue the
// gofer-backed tree from sentry/fs/goferfs).
func New(root FilesystemImpl, opts MountOptions) (*VFS, error) {
	m, err := newMount(root, opts, true)
	if err != nil {
		return nil, fmt.Errorf("vfs: root mount: %w", err)
	}
	m.id = 1
	return &VFS{root: m, mounts: map[mountKey]*Mount{}, lastMountID: 1}, nil
}

// newMount makes a mount of fs. The root mount's file system must have
// a directory as its root (dirRoot); others may have any file as their
// root, which Mount checks against the mount point.
func newMount(fs FilesystemImpl, opts MountOptions, dirRoot bool) (*Mount, error) {
	ri, err := fs.Root()
	if err != nil {
		return nil, err
	}
	if dirRoot && ri.Attr().Mode&unix.S_IFMT != unix.S_IFDIR {
		ri.Release()
		return nil, fmt.Errorf("root of file system is not a directory: %w", unix.ENOTDIR)
	}
	d := newDentry(nil, "/", ri)
	return &Mount{fs: fs, root: d, opts: opts}, nil
}

// Mount attaches fs on at. As with Linux's bind mounts, a directory goes
// on a directory and anything else (a single file: Docker's /etc/hosts)
// on a non-directory; a mix fails with ENOTDIR, Linux's answer both ways
// (graft_tree in fs/namespace.c). A later mount on the same point hides
// the earlier one (the earlier one is still reachable by anything that
// already holds a Location inside it).
func (v *VFS) Mount(at Location, fs FilesystemImpl, opts MountOptions) error {
	if !at.Valid() {
		return fmt.Errorf("vfs: mount on an invalid location: %w", unix.EINVAL)
	}
	m, err := newMount(fs, opts, false)
	if err != nil {
		return fmt.Errorf("vfs: mount on %q: %w", at.d.name, err)
	}
	if m.root.isDir() != at.IsDir() {
		m.root.inode.Release()
		return fmt.Errorf("vfs: mount on %q: root and mount point differ in type (directory and not): %w", at.d.name, unix.ENOTDIR)
	}
	m.parent, m.point = at.m, at.d
	v.mountsMu.Lock()
	v.lastMountID++
	m.id = v.lastMountID
	v.mounts[mountKey{at.m, at.d}] = m
	v.mountsMu.Unlock()
	return nil
}

// BindMount mounts the tree below src again on at, with opts (mount
// --bind without MS_REC: mounts below src are not carried along): the
// same file system and dentries, rooted at src. Types must agree as for
// Mount.
func (v *VFS) BindMount(at, src Location, opts MountOptions) error {
	if !at.Valid() || !src.Valid() {
		return fmt.Errorf("vfs: bind mount of an invalid location: %w", unix.EINVAL)
	}
	if src.IsDir() != at.IsDir() {
		return fmt.Errorf("vfs: bind mount on %q: source and mount point differ in type (directory and not): %w", at.d.name, unix.ENOTDIR)
	}
	m := &Mount{fs: src.m.fs, root: src.d, opts: opts, parent: at.m, point: at.d}
	v.mountsMu.Lock()
	v.lastMountID++
	m.id = v.lastMountID
	v.mounts[mountKey{at.m, at.d}] = m
	v.mountsMu.Unlock()
	return nil
}

// Root returns the root of the mount tree. Locations are plain values:
// dentries stay cached for the life of the VFS, so there is no reference
// to drop.
func (v *VFS) Root() Location { return Location{m: v.root, d: v.root.root} }

// coveredBy returns the mount mounted on l, or nil.
func (v *VFS) coveredBy(l Location) *Mount {
	v.mountsMu.RLock()
	defer v.mountsMu.RUnlock()
	return v.mounts[mountKey{l.m, l.d}]
}

// Location is a place in the mount tree: a mount and a dentry in it
// (what the kernel calls a struct path). The zero Location is invalid.
type Location struct {
	m *Mount
	d *Dentry
}

// Valid reports whether l names a place (the zero Location does not).
func (l Location) Valid() bool { return l.m != nil && l.d != nil }

// Mode returns the file type and permission bits of l's inode.
func (l Location) Mode() uint32 { return l.d.attr.Mode }

// IsDir reports whether l is a directory.
func (l Location) IsDir() bool { return l.Valid() && l.d.attr.Mode&unix.S_IFMT == unix.S_IFDIR }

// Mount returns the mount l is in.
func (l Location) Mount() *Mount { return l.m }

// Inode returns the file system's inode at l (the mount-tree builder
// makes missing mount points through it).
func (l Location) Inode() Inode { return l.d.inode }

// Options returns the mount's options.
func (m *Mount) Options() MountOptions { return m.opts }

// NoExec reports whether the mount forbids executing its files.
func (m *Mount) NoExec() bool { return m.opts.NoExec }

// isMountRoot reports whether l is the root of its mount.
func (l Location) isMountRoot() bool { return l.d == l.m.root }
