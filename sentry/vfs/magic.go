package vfs

import (
	"sort"

	"golang.org/x/sys/unix"
)

// MagicLink is implemented by a symlink Inode whose target depends on who
// follows it, or is an object rather than a path: proc's self, and its
// [pid]/{exe,cwd,root,fd/N}. The walk asks Target instead of Readlink;
// readlink(2) shows LinkTarget.Path.
type MagicLink interface {
	// Target returns what the link names for the caller c. A valid Loc
	// (or a File) is jumped to without resolving Path, so a link to an
	// open file leads to that file even when its path is gone or is not
	// reachable from the caller's root, and never to a host path.
	Target(c *Creds) (LinkTarget, error)
}

// LinkTarget is where a MagicLink leads.
type LinkTarget struct {
	// Path is the link's text: what readlink(2) returns and, when Loc is
	// invalid and File nil, the path the walk resolves (relative to the
	// link's directory, or the caller's root when absolute).
	Path string
	// Loc, when valid, is the place the link leads to.
	Loc Location
	// File, when not nil (and Loc invalid), is an open file description
	// with no place in the tree (a pipe, the sandbox's stdio) that
	// opening the link opens again. It carries a reference the VFS drops.
	File *File
}

// follow resolves the magic link at link for c. It returns the location
// to jump to, or, when the target is a plain path, an invalid Location
// and the text to resolve.
func (v *VFS) followMagic(c *Creds, link Location, ml MagicLink) (Location, string, error) {
	t, err := ml.Target(c)
	if err != nil {
		return Location{}, "", err
	}
	if t.Loc.Valid() {
		if t.File != nil {
			t.File.DecRef()
		}
		return t.Loc, "", nil
	}
	if t.File == nil {
		return Location{}, t.Path, nil
	}
	// A file without a place: give it a dentry of its own under the
	// link's directory, never cached, so Stat and Open reach the file.
	// The dentry holds no reference (nothing would drop it); Open takes
	// one only if the file is still open.
	fi := fileInode{f: t.File}
	st, err := t.File.Stat()
	t.File.DecRef()
	if err != nil {
		return Location{}, "", err
	}
	fi.attr = InodeAttr{Mode: st.Mode, UID: st.Uid, GID: st.Gid}
	return Location{m: link.m, d: newDentry(link.d.parent, link.d.name, fi)}, "", nil
}

// readlinkFor is Readlink as the caller c sees it.
func readlinkFor(c *Creds, i Inode) (string, error) {
	if ml, ok := i.(MagicLink); ok {
		t, err := ml.Target(c)
		if err != nil {
			return "", err
		}
		if t.File != nil {
			t.File.DecRef()
		}
		return t.Path, nil
	}
	return i.Readlink()
}

// tryIncRef takes a reference on f unless it has already been released.
func (f *File) tryIncRef() bool {
	for {
		n := f.refs.Load()
		if n <= 0 {
			return false
		}
		if f.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// fileInode is the inode of an open file reached through a magic link
// when the file has no place in the tree.
type fileInode struct {
	f    *File
	attr InodeAttr
}

func (i fileInode) Attr() InodeAttr              { return i.attr }
func (i fileInode) Lookup(string) (Inode, error) { return nil, unix.ENOTDIR }
func (i fileInode) Readlink() (string, error)    { return "", unix.EINVAL }
func (i fileInode) Stat() (unix.Stat_t, error)   { return i.f.Stat() }
func (i fileInode) Release()                     {}
func (i fileInode) Open(flags int) (FileImpl, error) {
	if !i.f.tryIncRef() {
		return nil, unix.ENOENT
	}
	return &ReopenedFile{orig: i.f}, nil
}

// ReopenedFile is a new open file description of a file that has no
// place in the tree, made by opening /proc/[pid]/fd/N: it reads and
// writes through the original's implementation (Linux opens the same
// pipe or device anew; here they also share the original's offset).
type ReopenedFile struct {
	orig *File
}

// Origin returns the open file description this one was opened from.
func (r *ReopenedFile) Origin() *File { return r.orig }

// Read implements FileImpl.
func (r *ReopenedFile) Read(_ *File, dst []byte) (int, error) { return r.orig.impl.Read(r.orig, dst) }

// Write implements FileImpl.
func (r *ReopenedFile) Write(_ *File, src []byte) (int, error) {
	return r.orig.impl.Write(r.orig, src)
}

// PRead implements FileImpl.
func (r *ReopenedFile) PRead(_ *File, dst []byte, off int64) (int, error) {
	return r.orig.impl.PRead(r.orig, dst, off)
}

// PWrite implements FileImpl.
func (r *ReopenedFile) PWrite(_ *File, src []byte, off int64) (int, error) {
	return r.orig.impl.PWrite(r.orig, src, off)
}

// Seek implements FileImpl.
func (r *ReopenedFile) Seek(_ *File, off int64, whence int) (int64, error) {
	return r.orig.impl.Seek(r.orig, off, whence)
}

// Stat implements FileImpl.
func (r *ReopenedFile) Stat(*File) (unix.Stat_t, error) { return r.orig.impl.Stat(r.orig) }

// Getdents implements FileImpl.
func (r *ReopenedFile) Getdents(_ *File, buf []byte) (int, error) {
	return r.orig.impl.Getdents(r.orig, buf)
}

// Ioctl implements FileImpl.
func (r *ReopenedFile) Ioctl(_ *File, req, arg uintptr, io IOContext) (uintptr, error) {
	return r.orig.impl.Ioctl(r.orig, req, arg, io)
}

// HostFD implements FileImpl.
func (r *ReopenedFile) HostFD() int { return r.orig.impl.HostFD() }

// Release implements FileImpl: it drops the reference on the original.
func (r *ReopenedFile) Release() { r.orig.DecRef() }

// ReadInterruptible implements BlockingIO when the original does.
func (r *ReopenedFile) ReadInterruptible(_ *File, dst []byte, in Interruptible) (int, error) {
	if b, ok := r.orig.impl.(BlockingIO); ok {
		return b.ReadInterruptible(r.orig, dst, in)
	}
	return r.orig.impl.Read(r.orig, dst)
}

// WriteInterruptible implements BlockingIO when the original does.
func (r *ReopenedFile) WriteInterruptible(_ *File, src []byte, in Interruptible) (int, error) {
	if b, ok := r.orig.impl.(BlockingIO); ok {
		return b.WriteInterruptible(r.orig, src, in)
	}
	return r.orig.impl.Write(r.orig, src)
}

// Readiness implements Waitable.
func (r *ReopenedFile) Readiness(mask EventMask) EventMask { return Readiness(r.orig, mask) }

// EventRegister implements Waitable.
func (r *ReopenedFile) EventRegister(e *WaitEntry) bool {
	if w, ok := r.orig.impl.(Waitable); ok {
		return w.EventRegister(e)
	}
	return true
}

// EventUnregister implements Waitable.
func (r *ReopenedFile) EventUnregister(e *WaitEntry) {
	if w, ok := r.orig.impl.(Waitable); ok {
		w.EventUnregister(e)
	}
}

// PathOf returns the path of loc as seen from root, "" when loc is not
// below root (Linux's d_path shows such a path from the tree's root; the
// sandbox must not learn more than its own tree, so proc shows it so).
func (v *VFS) PathOf(root, loc Location) (string, bool) {
	if !loc.Valid() || !root.Valid() {
		return "", false
	}
	p := v.Getcwd(root, loc)
	if len(p) == 0 || p[0] != '/' {
		return p, false
	}
	return p, true
}

// MountInfo describes one mount for /proc/[pid]/mounts and mountinfo.
type MountInfo struct {
	// ID numbers the mount (1 is the root mount, others in mount order);
	// ParentID is the mount it is attached to (the root's own ID for the
	// root mount).
	ID, ParentID int
	// Root is the mount's root directory.
	Root    Location
	Options MountOptions
}

// Mounts lists the mounts of the tree in mount order.
func (v *VFS) Mounts() []MountInfo {
	v.mountsMu.RLock()
	ms := make([]*Mount, 0, len(v.mounts)+1)
	ms = append(ms, v.root)
	for _, m := range v.mounts {
		ms = append(ms, m)
	}
	v.mountsMu.RUnlock()
	sort.Slice(ms, func(i, j int) bool { return ms[i].id < ms[j].id })
	out := make([]MountInfo, 0, len(ms))
	for _, m := range ms {
		pid := m.id
		if m.parent != nil {
			pid = m.parent.id
		}
		out = append(out, MountInfo{ID: m.id, ParentID: pid, Root: Location{m: m, d: m.root}, Options: m.opts})
	}
	return out
}

// ID returns the mount's number in /proc/[pid]/mountinfo.
func (m *Mount) ID() int { return m.id }
