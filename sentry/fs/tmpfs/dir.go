package tmpfs

import (
	"cmp"
	"slices"

	"moat/sentry/fs/fsutil"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Entry is one name of a directory, as Entries lists it.
type Entry struct {
	Name   string
	Inode  *Inode
	Cookie int64
}

// Entries returns directory i's names in creation order, whiteouts
// included (the overlay reads them).
func (i *Inode) Entries() []Entry {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	return i.entriesLocked(0)
}

// entriesLocked returns the children whose cookie is at least from,
// sorted by cookie.
//
// Preconditions: fs.mu is locked.
func (i *Inode) entriesLocked(from int64) []Entry {
	out := make([]Entry, 0, len(i.children))
	for name, c := range i.children {
		if c.cookie >= from {
			out = append(out, Entry{Name: name, Inode: c.inode, Cookie: c.cookie})
		}
	}
	sortEntries(out)
	return out
}

func sortEntries(es []Entry) {
	slices.SortFunc(es, func(a, b Entry) int { return cmp.Compare(a.Cookie, b.Cookie) })
}

// checkDirLocked is the common precondition of a change in directory d:
// it is a directory that has not been removed.
//
// Preconditions: fs.mu is locked.
func (d *Inode) checkDirLocked() error {
	if !d.IsDir() {
		return unix.ENOTDIR
	}
	if d.nlink == 0 {
		return unix.ENOENT
	}
	return nil
}

// addLocked links c into d as name.
//
// Preconditions: fs.mu is locked; name is absent from d.
func (d *Inode) addLocked(name string, c *Inode) {
	d.children[name] = &child{inode: c, cookie: d.nextCookie}
	d.nextCookie++
	if c.IsDir() {
		c.parent = d
		d.nlink++
	}
	now := fsutil.Now()
	d.mtime, d.ctime = now, now
}

// MakeNode makes a new file called name in directory d: mode's S_IFMT says
// what (S_IFREG, S_IFDIR, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK), rdev is
// a device's number, and uid/gid the creator's filesystem ids. As Linux
// does, a set-group-ID directory passes its group on, and its S_ISGID
// bit to subdirectories. Symlinks are made by MakeSymlink.
func (d *Inode) MakeNode(name string, mode uint32, rdev uint64, uid, gid uint32) (*Inode, error) {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR, unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO, unix.S_IFSOCK:
	default:
		return nil, unix.EINVAL
	}
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if err := d.newNameLocked(name); err != nil {
		return nil, err
	}
	if d.mode&unix.S_ISGID != 0 {
		gid = d.gid
		if mode&unix.S_IFMT == unix.S_IFDIR {
			mode |= unix.S_ISGID
		}
	}
	c := d.fs.newInodeLocked(mode&(unix.S_IFMT|0o7777), uid, gid)
	if t := mode & unix.S_IFMT; t == unix.S_IFCHR || t == unix.S_IFBLK {
		c.rdev = rdev
	}
	d.addLocked(name, c)
	return c, nil
}

// newNameLocked checks that name can be added to d: d is a live
// directory, name is new, and an inode is left.
//
// Preconditions: fs.mu is locked.
func (d *Inode) newNameLocked(name string) error {
	if err := d.checkDirLocked(); err != nil {
		return err
	}
	if len(name) > vfs.NameMax {
		return unix.ENAMETOOLONG
	}
	if _, ok := d.children[name]; ok {
		return unix.EEXIST
	}
	if d.fs.inodes >= d.fs.maxInodes {
		return unix.ENOSPC
	}
	return nil
}

// MakeSymlink makes a symlink called name in d pointing at target.
func (d *Inode) MakeSymlink(name, target string, uid, gid uint32) (*Inode, error) {
	if len(target) >= vfs.PathMax {
		return nil, unix.ENAMETOOLONG
	}
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if err := d.newNameLocked(name); err != nil {
		return nil, err
	}
	if len(target) > shortSymlink {
		if err := d.fs.charge(pageSize); err != nil {
			return nil, err
		}
	}
	if d.mode&unix.S_ISGID != 0 {
		gid = d.gid
	}
	c := d.fs.newInodeLocked(unix.S_IFLNK|0o777, uid, gid)
	c.target = target
	if len(target) > shortSymlink {
		c.charged = pageSize
	}
	d.addLocked(name, c)
	return c, nil
}

// Whiteout makes a whiteout called name in d, replacing a whiteout
// already there (overlay use only).
func (d *Inode) Whiteout(name string) error {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if c, ok := d.children[name]; ok && c.inode.whiteout {
		return nil
	}
	if err := d.newNameLocked(name); err != nil {
		return err
	}
	c := d.fs.newInodeLocked(unix.S_IFCHR, 0, 0)
	c.whiteout = true
	d.addLocked(name, c)
	return nil
}

// AddLink adds the name name in d for the existing file target.
func (d *Inode) AddLink(name string, target *Inode) error {
	if target.fs != d.fs {
		return unix.EXDEV
	}
	if target.IsDir() {
		return unix.EPERM
	}
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if err := d.checkDirLocked(); err != nil {
		return err
	}
	if _, ok := d.children[name]; ok {
		return unix.EEXIST
	}
	if target.nlink == 0 {
		return unix.ENOENT
	}
	target.nlink++
	target.ctime = fsutil.Now()
	d.addLocked(name, target)
	return nil
}

// RemoveName removes the non-directory name from d (whiteouts included).
func (d *Inode) RemoveName(name string) error {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if err := d.checkDirLocked(); err != nil {
		return err
	}
	c, ok := d.children[name]
	if !ok {
		return unix.ENOENT
	}
	if c.inode.IsDir() {
		return unix.EISDIR
	}
	d.removeLocked(name, c.inode)
	return nil
}

// Rmdir removes the empty directory name from d. With whiteouts set, a
// directory holding only whiteouts counts as empty and they go with it
// (the overlay's case).
func (d *Inode) Rmdir(name string, whiteouts bool) error {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if err := d.checkDirLocked(); err != nil {
		return err
	}
	c, ok := d.children[name]
	if !ok {
		return unix.ENOENT
	}
	if !c.inode.IsDir() {
		return unix.ENOTDIR
	}
	if !c.inode.emptyLocked(whiteouts) {
		return unix.ENOTEMPTY
	}
	for wn, w := range c.inode.children {
		c.inode.removeLocked(wn, w.inode)
	}
	d.removeLocked(name, c.inode)
	return nil
}

// emptyLocked reports whether directory i has no names (other than
// whiteouts when whiteouts is set).
//
// Preconditions: fs.mu is locked.
func (i *Inode) emptyLocked(whiteouts bool) bool {
	for _, c := range i.children {
		if !whiteouts || !c.inode.whiteout {
			return false
		}
	}
	return true
}

// removeLocked unlinks name (inode c) from d.
//
// Preconditions: fs.mu is locked; d.children[name] is c; a directory c
// is empty.
func (d *Inode) removeLocked(name string, c *Inode) {
	delete(d.children, name)
	now := fsutil.Now()
	d.mtime, d.ctime = now, now
	c.ctime = now
	if c.IsDir() {
		d.nlink--
		c.nlink = 0
	} else {
		c.nlink--
	}
	c.maybeFreeLocked()
}

// Rename flags, as renameat2(2) takes them.
const (
	RenameNoReplace = unix.RENAME_NOREPLACE
	RenameExchange  = unix.RENAME_EXCHANGE
	RenameWhiteout  = unix.RENAME_WHITEOUT
)

// Move moves oldName in d to newName in newDir with renameat2's flags
// (RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT). The VFS has
// checked permissions and that neither name is "." or "..".
func (d *Inode) Move(oldName string, newDir *Inode, newName string, flags uint) error {
	if newDir.fs != d.fs {
		return unix.EXDEV
	}
	if flags&^(RenameNoReplace|RenameExchange|RenameWhiteout) != 0 ||
		flags&RenameExchange != 0 && flags&(RenameNoReplace|RenameWhiteout) != 0 {
		return unix.EINVAL
	}
	fs := d.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := d.checkDirLocked(); err != nil {
		return err
	}
	if err := newDir.checkDirLocked(); err != nil {
		return err
	}
	src, ok := d.children[oldName]
	if !ok {
		return unix.ENOENT
	}
	dst, exists := newDir.children[newName]
	if exists && dst.inode.whiteout {
		// A whiteout is no name to the overlay's callers: replacing it
		// is creating the name.
		if flags&RenameExchange != 0 {
			return unix.ENOENT
		}
	} else if flags&RenameNoReplace != 0 && exists {
		return unix.EEXIST
	}
	if flags&RenameExchange != 0 && !exists {
		return unix.ENOENT
	}
	// A directory may not move below itself; nor may the target,
	// in an exchange.
	if src.inode.IsDir() && isAncestorLocked(src.inode, newDir) {
		return unix.EINVAL
	}
	if flags&RenameExchange != 0 && dst.inode.IsDir() && isAncestorLocked(dst.inode, d) {
		return unix.EINVAL
	}
	if exists && src.inode == dst.inode {
		// Two links to one file (or the same name): Linux does nothing.
		return nil
	}
	if flags&RenameExchange != 0 {
		d.children[oldName], newDir.children[newName] = dst, src
		fixParentLocked(dst.inode, d, newDir)
		fixParentLocked(src.inode, newDir, d)
		now := fsutil.Now()
		d.mtime, d.ctime, newDir.mtime, newDir.ctime = now, now, now, now
		src.inode.ctime, dst.inode.ctime = now, now
		return nil
	}
	if exists && !dst.inode.whiteout {
		switch {
		case src.inode.IsDir() && !dst.inode.IsDir():
			return unix.ENOTDIR
		case !src.inode.IsDir() && dst.inode.IsDir():
			return unix.EISDIR
		case dst.inode.IsDir() && !dst.inode.emptyLocked(flags&RenameWhiteout != 0):
			return unix.ENOTEMPTY
		}
	}
	if flags&RenameWhiteout != 0 && fs.inodes >= fs.maxInodes {
		return unix.ENOSPC
	}
	if exists {
		for wn, w := range dst.inode.children {
			dst.inode.removeLocked(wn, w.inode)
		}
		newDir.removeLocked(newName, dst.inode)
	}
	delete(d.children, oldName)
	if src.inode.IsDir() {
		d.nlink--
	}
	now := fsutil.Now()
	d.mtime, d.ctime = now, now
	src.inode.ctime = now
	newDir.addLocked(newName, src.inode)
	if flags&RenameWhiteout != 0 {
		w := fs.newInodeLocked(unix.S_IFCHR, 0, 0)
		w.whiteout = true
		d.addLocked(oldName, w)
	}
	return nil
}

// fixParentLocked moves a directory's parent link and the link counts
// of its old and new parents after an exchange.
//
// Preconditions: fs.mu is locked.
func fixParentLocked(c, from, to *Inode) {
	if !c.IsDir() || from == to {
		return
	}
	c.parent = to
	from.nlink--
	to.nlink++
}

// isAncestorLocked reports whether a is d or one of d's ancestors.
//
// Preconditions: fs.mu is locked.
func isAncestorLocked(a, d *Inode) bool {
	for {
		if d == a {
			return true
		}
		if d.parent == d || d.parent == nil {
			return false
		}
		d = d.parent
	}
}
