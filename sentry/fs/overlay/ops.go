package overlay

import (
	"moat/sentry/fs/tmpfs"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// The write operations. The VFS has resolved the names and checked
// permissions; each operation copies up what it changes, then acts on
// the upper layer. Names are checked against the merged view first
// (EEXIST, ENOENT) without the lock, then changed under it: the VFS
// serialises changes of one directory's names well enough for that.

// exists reports whether name is visible in directory d.
func (d *node) exists(name string) (*node, bool, error) {
	c, err := d.Lookup(name)
	if err == unix.ENOENT {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return c.(*node), true, nil
}

// lowerHasLocked reports whether the lower layer has name in d where the
// upper layer would show it: a deletion there needs a whiteout.
//
// Preconditions: fs.mu is locked; d has an upper directory.
func (d *node) lowerHasLocked(name string) bool {
	if d.lower == nil || d.upper.Opaque() {
		return false
	}
	li, err := d.lower.Lookup(name)
	if err != nil {
		// Not there, or unreadable: either way nothing to hide.
		return false
	}
	li.Release()
	return true
}

// clearWhiteoutLocked removes a whiteout at name in d's upper directory
// and reports whether there was one.
//
// Preconditions: fs.mu is locked; d has an upper directory.
func (d *node) clearWhiteoutLocked(name string) bool {
	w, err := d.upper.LookupRaw(name)
	if err != nil || !w.IsWhiteout() {
		return false
	}
	return d.upper.RemoveName(name) == nil
}

// makeNode makes name in directory d: mode's S_IFMT says what (regular
// file, directory, device, FIFO, socket). A directory made where a
// deleted lower name was is opaque.
func (d *node) makeNode(name string, mode uint32, rdev uint64, uid, gid uint32) (*node, error) {
	if _, ok, err := d.exists(name); err != nil || ok {
		return nil, errOr(err, unix.EEXIST)
	}
	fs := d.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := d.copyUpLocked(false); err != nil {
		return nil, err
	}
	hid := d.clearWhiteoutLocked(name)
	u, err := d.upper.MakeNode(name, mode, rdev, uid, gid)
	if err != nil {
		return nil, err
	}
	if hid && u.IsDir() {
		u.SetOpaque()
	}
	return d.addChildLocked(name, u), nil
}

// makeSymlink makes the symlink name in d pointing at target.
func (d *node) makeSymlink(name, target string, uid, gid uint32) (*node, error) {
	if _, ok, err := d.exists(name); err != nil || ok {
		return nil, errOr(err, unix.EEXIST)
	}
	fs := d.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := d.copyUpLocked(false); err != nil {
		return nil, err
	}
	d.clearWhiteoutLocked(name)
	u, err := d.upper.MakeSymlink(name, target, uid, gid)
	if err != nil {
		return nil, err
	}
	return d.addChildLocked(name, u), nil
}

// addChildLocked caches the new upper file u as d's child name.
//
// Preconditions: fs.mu is locked.
func (d *node) addChildLocked(name string, u *tmpfs.Inode) *node {
	c := &node{fs: d.fs, typ: u.Attr().Mode & unix.S_IFMT, parent: d, name: name, upper: u}
	if d.children == nil {
		d.children = map[string]*node{}
	}
	d.children[name] = c
	return c
}

// Link gives target (a file of this overlay) the new name name in d.
func (d *node) Link(name string, target vfs.Inode) error {
	t, ok := target.(*node)
	if !ok || t.fs != d.fs {
		return unix.EXDEV
	}
	if t.isDir() {
		return unix.EPERM
	}
	if _, ok, err := d.exists(name); err != nil || ok {
		return errOr(err, unix.EEXIST)
	}
	fs := d.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := t.copyUpLocked(false); err != nil {
		return err
	}
	if err := d.copyUpLocked(false); err != nil {
		return err
	}
	d.clearWhiteoutLocked(name)
	if err := d.upper.AddLink(name, t.upper); err != nil {
		return err
	}
	c := d.addChildLocked(name, t.upper)
	// Both names are one file: the same inode number.
	c.lowerIno, c.statted = t.lowerIno, t.statted
	return nil
}

// unlink removes the non-directory name from d.
func (d *node) unlink(name string) error {
	c, ok, err := d.exists(name)
	if err != nil || !ok {
		return errOr(err, unix.ENOENT)
	}
	if c.isDir() {
		return unix.EISDIR
	}
	return d.remove(name, c)
}

// rmdir removes the empty directory name from d.
func (d *node) rmdir(name string) error {
	c, ok, err := d.exists(name)
	if err != nil || !ok {
		return errOr(err, unix.ENOENT)
	}
	if !c.isDir() {
		return unix.ENOTDIR
	}
	ents, err := c.mergedEntries()
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		return unix.ENOTEMPTY
	}
	return d.remove(name, c)
}

// remove deletes c, called name in d: its upper name goes, and a
// whiteout hides the lower one.
func (d *node) remove(name string, c *node) error {
	fs := d.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := d.copyUpLocked(false); err != nil {
		return err
	}
	if c.upper != nil {
		var err error
		if c.isDir() {
			err = d.upper.Rmdir(name, true)
		} else {
			err = d.upper.RemoveName(name)
		}
		if err != nil {
			return err
		}
	} else if c.isDir() {
		// A lower subdirectory leaves the merged count.
		d.nlinkBias--
	}
	if d.lowerHasLocked(name) {
		if err := d.upper.Whiteout(name); err != nil {
			return err
		}
	}
	delete(d.children, name)
	return nil
}

// Rename moves oldName in d to newName in newDir (renameat2 flags
// RENAME_NOREPLACE and RENAME_EXCHANGE). A directory that exists in the
// lower layer cannot move: EXDEV, as overlayfs without redirect_dir
// answers; callers like mv(1) copy it instead.
func (d *node) Rename(oldName string, newDir vfs.Inode, newName string, flags uint) error {
	nd, ok := newDir.(*node)
	if !ok || nd.fs != d.fs {
		return unix.EXDEV
	}
	if flags&^(tmpfs.RenameNoReplace|tmpfs.RenameExchange) != 0 {
		return unix.EINVAL
	}
	exchange := flags&tmpfs.RenameExchange != 0
	s, ok, err := d.exists(oldName)
	if err != nil || !ok {
		return errOr(err, unix.ENOENT)
	}
	t, exists, err := nd.exists(newName)
	if err != nil {
		return err
	}
	switch {
	case exists && flags&tmpfs.RenameNoReplace != 0:
		return unix.EEXIST
	case !exists && exchange:
		return unix.ENOENT
	case exists && s == t:
		return nil
	}
	if s.isDir() && s.hasLower() || exchange && t.isDir() && t.hasLower() {
		return unix.EXDEV
	}
	if exists && !exchange {
		switch {
		case s.isDir() && !t.isDir():
			return unix.ENOTDIR
		case !s.isDir() && t.isDir():
			return unix.EISDIR
		case t.isDir():
			ents, err := t.mergedEntries()
			if err != nil {
				return err
			}
			if len(ents) > 0 {
				return unix.ENOTEMPTY
			}
		}
	}
	fs := d.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, n := range []*node{d, nd, s} {
		if err := n.copyUpLocked(false); err != nil {
			return err
		}
	}
	if exchange {
		if err := t.copyUpLocked(false); err != nil {
			return err
		}
	}
	s.lowerStatLocked()
	if exists && !exchange && t.isDir() {
		// The (merged-empty) target directory goes first, with the
		// whiteouts it may hold, so the upper rename can replace it.
		if t.upper != nil {
			if err := nd.upper.Rmdir(newName, true); err != nil {
				return err
			}
		} else {
			nd.nlinkBias--
		}
	}
	uflags := flags
	if !exchange && d.lowerHasLocked(oldName) {
		uflags |= tmpfs.RenameWhiteout
	}
	if err := d.upper.Move(oldName, nd.upper, newName, uflags); err != nil {
		return err
	}
	// A moved directory never merges with a lower one at its new place.
	if s.isDir() {
		s.upper.SetOpaque()
	}
	delete(d.children, oldName)
	if exchange {
		t.lowerStatLocked()
		if t.isDir() {
			t.upper.SetOpaque()
		}
		t.moveLocked(d, oldName)
	} else {
		delete(nd.children, newName)
	}
	s.moveLocked(nd, newName)
	return nil
}

// hasLower reports whether n has a lower layer.
func (n *node) hasLower() bool {
	_, l := n.layers()
	return l != nil
}

// moveLocked records that n is now newName in p. Its lower file, if any,
// no longer lies behind its name: it is dropped (n is copied up), its
// numbers kept.
//
// Preconditions: fs.mu is locked; n has an upper file.
func (n *node) moveLocked(p *node, name string) {
	n.parent, n.name = p, name
	if n.lower != nil {
		n.lower.Release()
		n.lower = nil
	}
	if p.children == nil {
		p.children = map[string]*node{}
	}
	p.children[name] = n
}

// SetAttr implements vfs.WritableInode (chmod, chown, truncate,
// utimensat), copying n up first; truncating to zero skips copying the
// data.
func (n *node) SetAttr(a vfs.AttrChange) error {
	if err := n.copyUp(a.Mask&vfs.SetSize != 0 && a.Size == 0); err != nil {
		return err
	}
	u, _ := n.layers()
	return u.SetAttr(a)
}

// errOr returns err, or def when err is nil.
func errOr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}
