package vfs

import (
	"strings"

	"golang.org/x/sys/unix"
)

// The calls that change the tree: creation, removal, rename, link. Each
// makes Linux's checks in Linux's order (see namei.c: filename_create,
// may_create, may_delete, do_renameat2, may_linkat) and then asks the
// file system through WritableDir. Results are unix.Errno values.

// lastComponent returns the last "/"-separated non-empty component of
// path ("" for "/").
func lastComponent(path string) string {
	path = strings.TrimRight(path, "/")
	return path[strings.LastIndexByte(path, '/')+1:]
}

// newOwner is the owner of a file c creates in parent: c's fsuid and
// fsgid, or parent's group under a set-group-ID directory.
func newOwner(c *Creds, parent InodeAttr) Owner {
	o := Owner{UID: c.UID, GID: c.GID}
	if parent.Mode&unix.S_ISGID != 0 {
		o.GID = parent.GID
	}
	return o
}

// owns reports whether c owns a file with attributes a or may act as its
// owner with CAP_FOWNER (inode_owner_or_capable).
func owns(c *Creds, a InodeAttr) bool { return c.Capable(CapFowner) || c.UID == a.UID }

// createTarget resolves path for creating a name in its parent (mkdir,
// mknod, symlink, link's new name): EEXIST when the name exists, EROFS on
// a read-only mount, ENOENT for a trailing "/" on a non-directory,
// EACCES without write and search permission on the parent, EPERM when
// the file system cannot create.
func (v *VFS) createTarget(c *Creds, root, dir Location, path string, isDir bool) (Location, string, WritableDir, error) {
	r, err := v.walk(c, root, dir, path, false, true)
	if err != nil {
		return Location{}, "", nil, err
	}
	if r.loc.Valid() || r.name == "" {
		return Location{}, "", nil, unix.EEXIST
	}
	p := r.parent
	if p.m.ReadOnly() {
		return Location{}, "", nil, unix.EROFS
	}
	if !isDir && strings.HasSuffix(path, "/") {
		return Location{}, "", nil, unix.ENOENT
	}
	if !permitted(c, p.d.attrs(), MayWrite|MayExec) {
		return Location{}, "", nil, unix.EACCES
	}
	wd, ok := p.d.inode.(WritableDir)
	if !ok {
		return Location{}, "", nil, unix.EPERM
	}
	return p, r.name, wd, nil
}

// MkdirAt implements mkdirat: mode is the permission bits with the umask
// applied (and S_ISVTX); the new directory inherits a set-group-ID
// parent's group and bit.
func (v *VFS) MkdirAt(c *Creds, root, dir Location, path string, mode uint32) error {
	p, name, wd, err := v.createTarget(c, root, dir, path, true)
	if err != nil {
		return err
	}
	pa := p.d.attrs()
	mode &= 0o1777
	if pa.Mode&unix.S_ISGID != 0 {
		mode |= unix.S_ISGID
	}
	return wd.Mkdir(name, mode, newOwner(c, pa))
}

// MknodAt implements mknodat for what a sandbox may make: FIFOs, sockets
// and (as mknod allows) regular files. Devices are EPERM, as for a
// process without CAP_MKNOD; an unknown type is EINVAL.
func (v *VFS) MknodAt(c *Creds, root, dir Location, path string, mode uint32) error {
	switch mode & unix.S_IFMT {
	case 0, unix.S_IFREG:
		f, err := v.OpenAt(c, root, dir, path, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY, mode&0o7777)
		if err != nil {
			return err
		}
		f.DecRef()
		return nil
	case unix.S_IFIFO, unix.S_IFSOCK:
	case unix.S_IFCHR, unix.S_IFBLK:
		// Linux resolves the path first: EEXIST and ENOENT win.
		if _, _, _, err := v.createTarget(c, root, dir, path, false); err != nil {
			return err
		}
		return unix.EPERM
	default:
		return unix.EINVAL
	}
	p, name, wd, err := v.createTarget(c, root, dir, path, false)
	if err != nil {
		return err
	}
	return wd.Mknod(name, mode&(unix.S_IFMT|0o7777), newOwner(c, p.d.attrs()))
}

// SymlinkAt implements symlinkat: the link at path points at target
// (ENOENT for an empty target).
func (v *VFS) SymlinkAt(c *Creds, root, dir Location, path, target string) error {
	if target == "" {
		return unix.ENOENT
	}
	if len(target) >= PathMax {
		return unix.ENAMETOOLONG
	}
	p, name, wd, err := v.createTarget(c, root, dir, path, false)
	if err != nil {
		return err
	}
	return wd.Symlink(name, target, newOwner(c, p.d.attrs()))
}

// create is OpenAt's O_CREAT of a missing name r.name in r.parent.
func (v *VFS) create(c *Creds, r walkResult, path string, flags int, mode uint32) (*File, error) {
	if strings.HasSuffix(path, "/") || r.name == "" {
		return nil, unix.EISDIR
	}
	p := r.parent
	if p.m.ReadOnly() {
		return nil, unix.EROFS
	}
	pa := p.d.attrs()
	if !permitted(c, pa, MayWrite|MayExec) {
		return nil, unix.EACCES
	}
	wd, ok := p.d.inode.(WritableDir)
	if !ok {
		return nil, unix.EACCES
	}
	owner := newOwner(c, pa)
	mode &= 0o7777
	if mode&unix.S_ISGID != 0 && !c.Capable(CapFsetid) && !inGroup(c, owner.GID) {
		mode &^= unix.S_ISGID
	}
	fsFlags := flags &^ (unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_TRUNC | unix.O_DIRECTORY)
	i, impl, err := wd.Create(r.name, fsFlags, mode, owner)
	if err != nil {
		return nil, err
	}
	d := newDentry(p.d, r.name, i)
	p.d.insert(r.name, d)
	loc := Location{m: p.m, d: d}
	return newFile(impl, flags&^(unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_TRUNC), loc), nil
}

// victim returns the dentry of name in parent as the parent's mount sees
// it (not crossing a mount on it): ENOENT when absent.
func (v *VFS) victim(parent Location, name string) (*Dentry, error) {
	return parent.d.child(name)
}

// mayDelete is Linux's may_delete: write and search permission on the
// parent (EACCES), the sticky bit (EPERM), the types (ENOTDIR, EISDIR),
// mount points and roots (EBUSY).
func (v *VFS) mayDelete(c *Creds, parent Location, d *Dentry, isDir bool) error {
	pa := parent.d.attrs()
	if !permitted(c, pa, MayWrite|MayExec) {
		return unix.EACCES
	}
	da := d.attrs()
	if pa.Mode&unix.S_ISVTX != 0 && !c.Capable(CapFowner) && c.UID != da.UID && c.UID != pa.UID {
		return unix.EPERM
	}
	if isDir {
		if !d.isDir() {
			return unix.ENOTDIR
		}
	} else if d.isDir() {
		return unix.EISDIR
	}
	if v.coveredBy(Location{m: parent.m, d: d}) != nil {
		return unix.EBUSY
	}
	return nil
}

// UnlinkAt implements unlinkat (rmdir with AT_REMOVEDIR), unlink and
// rmdir.
func (v *VFS) UnlinkAt(c *Creds, root, dir Location, path string, rmdir bool) error {
	r, err := v.walk(c, root, dir, path, false, true)
	if err != nil {
		return err
	}
	if r.name == "" {
		// The path ends in ".", ".." or names a root.
		switch {
		case !rmdir:
			return unix.EISDIR
		case lastComponent(path) == ".":
			return unix.EINVAL
		case lastComponent(path) == "..":
			return unix.ENOTEMPTY
		}
		return unix.EBUSY
	}
	p := r.parent
	if p.m.ReadOnly() {
		return unix.EROFS
	}
	d, err := v.victim(p, r.name)
	if err != nil {
		return err
	}
	if err := v.mayDelete(c, p, d, rmdir); err != nil {
		return err
	}
	wd, ok := p.d.inode.(WritableDir)
	if !ok {
		return unix.EPERM
	}
	if err := wd.Unlink(r.name, rmdir); err != nil {
		return err
	}
	// The dentry leaves the cache; anything holding it (an open file, a
	// cwd) keeps it, detached. Its inode is not released: Locations are
	// not reference counted yet.
	p.d.forget(r.name, d)
	return nil
}

// isAncestor reports whether a is d or one of d's ancestors within one
// file system.
//
// Preconditions: v.renameMu is held.
func isAncestor(a, d *Dentry) bool {
	for ; d != nil; d = d.parent {
		if d == a {
			return true
		}
	}
	return false
}

// Flags of renameat2 (linux/fs.h).
const (
	RenameNoReplace = 1 << 0
	RenameExchange  = 1 << 1
	RenameWhiteout  = 1 << 2
)

// RenameAt implements renameat2 (rename and renameat with flags 0).
// RENAME_WHITEOUT is EINVAL: no file system here makes whiteouts (Linux
// makes a 0:0 character device).
func (v *VFS) RenameAt(c *Creds, root, olddir Location, oldpath string, newdir Location, newpath string, flags uint) error {
	if flags&^(RenameNoReplace|RenameExchange) != 0 || flags&RenameNoReplace != 0 && flags&RenameExchange != 0 {
		return unix.EINVAL
	}
	ro, err := v.walk(c, root, olddir, oldpath, false, true)
	if err != nil {
		return err
	}
	rn, err := v.walk(c, root, newdir, newpath, false, true)
	if err != nil {
		return err
	}
	op, np := ro.parent, rn.parent
	if op.m != np.m {
		return unix.EXDEV
	}
	if ro.name == "" {
		return unix.EBUSY
	}
	if rn.name == "" {
		if flags&RenameNoReplace != 0 {
			return unix.EEXIST
		}
		return unix.EBUSY
	}
	if op.m.ReadOnly() {
		return unix.EROFS
	}
	od, err := v.victim(op, ro.name)
	if err != nil {
		return err
	}
	nd, err := v.victim(np, rn.name)
	if err != nil && err != unix.ENOENT {
		return err
	}
	switch {
	case nd == nil && flags&RenameExchange != 0:
		return unix.ENOENT
	case nd != nil && flags&RenameNoReplace != 0:
		return unix.EEXIST
	}
	if flags&RenameExchange == 0 && !od.isDir() && (strings.HasSuffix(oldpath, "/") || strings.HasSuffix(newpath, "/")) {
		return unix.ENOTDIR
	}
	v.renameMu.RLock()
	oldAbove := isAncestor(od, np.d)
	newAbove := nd != nil && isAncestor(nd, op.d)
	v.renameMu.RUnlock()
	if oldAbove {
		return unix.EINVAL
	}
	if newAbove {
		if flags&RenameExchange != 0 {
			return unix.EINVAL
		}
		return unix.ENOTEMPTY
	}
	if od == nd {
		return nil
	}
	if err := v.mayDelete(c, op, od, od.isDir()); err != nil {
		return err
	}
	if nd == nil {
		if !permitted(c, np.d.attrs(), MayWrite|MayExec) {
			return unix.EACCES
		}
	} else {
		isDir := od.isDir()
		if flags&RenameExchange != 0 {
			isDir = nd.isDir()
		}
		if err := v.mayDelete(c, np, nd, isDir); err != nil {
			return err
		}
		if same, err := sameInode(od, nd); err != nil || same {
			// Two links to one file: rename does nothing.
			return err
		}
	}
	if op.d != np.d {
		// A directory moving elsewhere has its ".." rewritten.
		if od.isDir() && !permitted(c, od.attrs(), MayWrite) {
			return unix.EACCES
		}
		if flags&RenameExchange != 0 && nd.isDir() && !permitted(c, nd.attrs(), MayWrite) {
			return unix.EACCES
		}
	}
	wd, ok := op.d.inode.(WritableDir)
	if !ok {
		return unix.EPERM
	}
	// renameOpMu serialises renames so the file system and the cache
	// change in the same order; renameMu is only taken for the cache.
	v.renameOpMu.Lock()
	defer v.renameOpMu.Unlock()
	if err := wd.Rename(ro.name, np.d.inode, rn.name, flags); err != nil {
		return err
	}
	v.renameMu.Lock()
	defer v.renameMu.Unlock()
	op.d.forget(ro.name, od)
	if nd != nil {
		np.d.forget(rn.name, nd)
	}
	od.parent, od.name = np.d, rn.name
	np.d.insert(rn.name, od)
	if flags&RenameExchange != 0 {
		nd.parent, nd.name = op.d, ro.name
		op.d.insert(ro.name, nd)
	}
	return nil
}

// sameInode reports whether two dentries are links to one file.
func sameInode(a, b *Dentry) (bool, error) {
	sa, err := a.inode.Stat()
	if err != nil {
		return false, err
	}
	sb, err := b.inode.Stat()
	if err != nil {
		return false, err
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino, nil
}

// LinkAt implements linkat: old is the existing file (already resolved
// by the caller per AT_SYMLINK_FOLLOW / AT_EMPTY_PATH), newpath the new
// name.
func (v *VFS) LinkAt(c *Creds, root Location, old Location, newdir Location, newpath string) error {
	if !old.Valid() {
		return unix.ENOENT
	}
	r, err := v.walk(c, root, newdir, newpath, false, true)
	if err != nil {
		return err
	}
	if r.loc.Valid() || r.name == "" {
		return unix.EEXIST
	}
	p := r.parent
	if p.m.ReadOnly() {
		return unix.EROFS
	}
	if strings.HasSuffix(newpath, "/") {
		return unix.ENOENT
	}
	if p.m != old.m {
		return unix.EXDEV
	}
	if err := mayLink(c, old.d.attrs()); err != nil {
		return err
	}
	if !permitted(c, p.d.attrs(), MayWrite|MayExec) {
		return unix.EACCES
	}
	if old.d.isDir() {
		return unix.EPERM
	}
	wd, ok := p.d.inode.(WritableDir)
	if !ok {
		return unix.EPERM
	}
	return wd.Link(r.name, old.d.inode)
}

// mayLink is Linux's protected_hardlinks rule (on by default): a process
// may link a file it does not own only if it is a regular file, not
// set-user-ID, not set-group-ID and executable, and readable and
// writable by it.
func mayLink(c *Creds, a InodeAttr) error {
	if owns(c, a) {
		return nil
	}
	safe := a.Mode&unix.S_IFMT == unix.S_IFREG && a.Mode&unix.S_ISUID == 0 &&
		a.Mode&(unix.S_ISGID|unix.S_IXGRP) != unix.S_ISGID|unix.S_IXGRP &&
		permitted(c, a, MayRead|MayWrite)
	if !safe {
		return unix.EPERM
	}
	return nil
}
