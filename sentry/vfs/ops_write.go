package vfs

import "golang.org/x/sys/unix"

// No file system can change yet: the root is read-only in this issue and
// there is no writable one. The calls below make the checks Linux makes
// before it would write, so an application sees ENOENT, ENOTDIR, EEXIST
// or EACCES where Linux gives them and EROFS otherwise.

// CreateAt checks a creation of path (mkdir, mknod, symlink, the new name
// of link and rename): EEXIST when the name exists, EROFS on a read-only
// mount, EACCES without write and search permission on the parent, and
// finally EOPNOTSUPP as nothing can be created yet.
func (v *VFS) CreateAt(c *Creds, root, dir Location, path string) error {
	r, err := v.walk(c, root, dir, path, false, true)
	if err != nil {
		return err
	}
	if r.loc.Valid() {
		return unix.EEXIST
	}
	return v.refuseWrite(c, r.parent)
}

// RemoveAt checks a removal of path (unlink, rmdir, the old name of
// rename): the parent must resolve, then EROFS on a read-only mount, as
// Linux checks the mount before looking the name up; elsewhere ENOENT
// for a missing name, EACCES without permission on the parent, and
// EOPNOTSUPP.
func (v *VFS) RemoveAt(c *Creds, root, dir Location, path string) error {
	r, err := v.walk(c, root, dir, path, false, true)
	if err != nil {
		return err
	}
	if r.parent.m.ReadOnly() {
		return unix.EROFS
	}
	if !r.loc.Valid() {
		return unix.ENOENT
	}
	return v.refuseWrite(c, r.parent)
}

// ModifyAt checks a change to the existing file at path (chmod, chown,
// truncate, utimes), following a final symlink when follow is set: the
// file must exist, then EROFS on a read-only mount, and EOPNOTSUPP.
func (v *VFS) ModifyAt(c *Creds, root, dir Location, path string, follow bool) error {
	r, err := v.walk(c, root, dir, path, follow, false)
	if err != nil {
		return err
	}
	if writeRefused(r.loc.m, r.loc.d.attr.Mode) {
		return unix.EROFS
	}
	return unix.EOPNOTSUPP
}

// refuseWrite is the error for a write into directory parent.
func (v *VFS) refuseWrite(c *Creds, parent Location) error {
	if parent.m.ReadOnly() {
		return unix.EROFS
	}
	if !permitted(c, parent.d.attr, MayWrite|MayExec) {
		return unix.EACCES
	}
	return unix.EOPNOTSUPP
}
