package vfs

import "golang.org/x/sys/unix"

// Changes to an existing file's metadata: chmod, chown, truncate,
// utimes, and statfs and extended attributes. The *At forms resolve a
// path (following a final symlink when follow is set); the others act on
// a Location already resolved (an open file's, for fchmod, fchown,
// futimens...).

// setattr asks the file system to apply a and refreshes the dentry's
// cached mode and owner.
func (v *VFS) setattr(loc Location, a AttrChange) error {
	w, ok := loc.d.inode.(WritableInode)
	if !ok {
		return unix.EPERM
	}
	if err := w.SetAttr(a); err != nil {
		return err
	}
	loc.d.refreshAttrs()
	return nil
}

// resolveExisting resolves path to an existing file.
func (v *VFS) resolveExisting(c *Creds, root, dir Location, path string, follow bool) (Location, error) {
	r, err := v.walk(c, root, dir, path, follow, false)
	if err != nil {
		return Location{}, err
	}
	return r.loc, nil
}

// ChmodAt implements chmod and fchmodat.
func (v *VFS) ChmodAt(c *Creds, root, dir Location, path string, follow bool, mode uint32) error {
	loc, err := v.resolveExisting(c, root, dir, path, follow)
	if err != nil {
		return err
	}
	return v.Chmod(c, loc, mode)
}

// Chmod implements fchmod on the file at loc: EROFS, then EPERM unless c
// owns it; the set-group-ID bit is dropped when c is not in the file's
// group. A symlink's mode cannot change (EOPNOTSUPP).
func (v *VFS) Chmod(c *Creds, loc Location, mode uint32) error {
	if !loc.Valid() {
		return unix.EBADF
	}
	a := loc.d.attrs()
	if writeRefused(loc.m, a.Mode) {
		return unix.EROFS
	}
	if !owns(c, a) {
		return unix.EPERM
	}
	if loc.d.isSymlink() {
		return unix.EOPNOTSUPP
	}
	mode &= 0o7777
	if mode&unix.S_ISGID != 0 && !c.Capable(CapFsetid) && !inGroup(c, a.GID) {
		mode &^= unix.S_ISGID
	}
	return v.setattr(loc, AttrChange{Mask: SetMode, Mode: mode})
}

// ChownAt implements chown, lchown and fchownat; uid or gid -1 leaves it.
func (v *VFS) ChownAt(c *Creds, root, dir Location, path string, follow bool, uid, gid int64) error {
	loc, err := v.resolveExisting(c, root, dir, path, follow)
	if err != nil {
		return err
	}
	return v.Chown(c, loc, uid, gid)
}

// Chown implements fchown on the file at loc with Linux's rules: only
// root changes the owner (to anything but itself as it is); the owner
// may change the group to one it is in. The file system clears set-ID
// bits as the host does.
func (v *VFS) Chown(c *Creds, loc Location, uid, gid int64) error {
	if !loc.Valid() {
		return unix.EBADF
	}
	a := loc.d.attrs()
	if writeRefused(loc.m, a.Mode) {
		return unix.EROFS
	}
	var ch AttrChange
	if uid != -1 {
		if uid < 0 || uid > 0xfffffffe {
			return unix.EINVAL
		}
		ch.Mask |= SetUID
		ch.UID = uint32(uid)
	}
	if gid != -1 {
		if gid < 0 || gid > 0xfffffffe {
			return unix.EINVAL
		}
		ch.Mask |= SetGID
		ch.GID = uint32(gid)
	}
	if !c.Capable(CapChown) {
		if ch.Mask&SetUID != 0 && (c.UID != a.UID || ch.UID != a.UID) {
			return unix.EPERM
		}
		if ch.Mask&SetGID != 0 && (c.UID != a.UID || ch.GID != a.GID && !inGroup(c, ch.GID)) {
			return unix.EPERM
		}
	}
	if ch.Mask == 0 {
		return nil
	}
	return v.setattr(loc, ch)
}

// TruncateAt implements truncate(2): EISDIR for a directory, EINVAL for
// other non-regular files, EROFS, EACCES without write permission.
func (v *VFS) TruncateAt(c *Creds, root, dir Location, path string, size int64) error {
	loc, err := v.resolveExisting(c, root, dir, path, true)
	if err != nil {
		return err
	}
	switch loc.d.attrs().Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		return unix.EISDIR
	default:
		return unix.EINVAL
	}
	if err := v.Permission(c, loc, MayWrite); err != nil {
		return err
	}
	if size < 0 {
		return unix.EINVAL
	}
	return v.setattr(loc, AttrChange{Mask: SetSize, Size: size})
}

// UtimesAt implements utimensat with a path.
func (v *VFS) UtimesAt(c *Creds, root, dir Location, path string, follow bool, times *[2]unix.Timespec) error {
	loc, err := v.resolveExisting(c, root, dir, path, follow)
	if err != nil {
		return err
	}
	return v.Utimes(c, loc, times)
}

// Utimes sets the file's access and modification times: times nil (or
// both UTIME_NOW) means now, which the owner or anyone who may write the
// file may do (else EACCES); explicit times need the owner (else EPERM).
// The caller has checked the nanoseconds.
func (v *VFS) Utimes(c *Creds, loc Location, times *[2]unix.Timespec) error {
	if !loc.Valid() {
		return unix.EBADF
	}
	a := loc.d.attrs()
	if writeRefused(loc.m, a.Mode) {
		return unix.EROFS
	}
	now := times == nil || times[0].Nsec == unix.UTIME_NOW && times[1].Nsec == unix.UTIME_NOW
	ch := AttrChange{Mask: SetTimes,
		Atime: unix.Timespec{Nsec: unix.UTIME_NOW}, Mtime: unix.Timespec{Nsec: unix.UTIME_NOW}}
	if !now {
		ch.Atime, ch.Mtime = times[0], times[1]
	}
	switch {
	case owns(c, a):
	case now:
		if !permitted(c, a, MayWrite) {
			return unix.EACCES
		}
	default:
		return unix.EPERM
	}
	return v.setattr(loc, ch)
}

// StatFS implements statfs and fstatfs for the file system holding loc.
func (v *VFS) StatFS(loc Location) (unix.Statfs_t, error) {
	if !loc.Valid() {
		return unix.Statfs_t{}, unix.EBADF
	}
	s, ok := loc.d.inode.(StatFSInode)
	if !ok {
		return unix.Statfs_t{}, unix.ENOSYS
	}
	return s.StatFS()
}

// xattrCheck classifies an extended attribute access: only user.* names
// reach file systems, on regular files and directories, with read or
// write permission on the file. Other namespaces are answered as an
// unprivileged process sees them when absent: ENODATA to read, EPERM to
// write (trusted, security, system), EOPNOTSUPP for unknown ones.
func (v *VFS) xattrCheck(c *Creds, loc Location, name string, write bool) error {
	if !loc.Valid() {
		return unix.EBADF
	}
	if len(name) == 0 || len(name) > 255 {
		return unix.ERANGE
	}
	a := loc.d.attrs()
	if write && writeRefused(loc.m, a.Mode) {
		return unix.EROFS
	}
	switch {
	case len(name) > 5 && name[:5] == "user.":
	case hasAnyPrefix(name, "system.posix_acl_"):
		// No file system here has POSIX ACLs: Linux answers
		// EOPNOTSUPP, and cp/mv then fall back to chmod.
		return unix.EOPNOTSUPP
	case hasAnyPrefix(name, "trusted.", "security.", "system."):
		if write {
			return unix.EPERM
		}
		return unix.ENODATA
	default:
		return unix.EOPNOTSUPP
	}
	if t := a.Mode & unix.S_IFMT; t != unix.S_IFREG && t != unix.S_IFDIR {
		if write {
			return unix.EPERM
		}
		return unix.ENODATA
	}
	may := uint32(MayRead)
	if write {
		may = MayWrite
	}
	if !permitted(c, a, may) {
		return unix.EACCES
	}
	return nil
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if len(s) >= len(p) && s[:len(p)] == p {
			return true
		}
	}
	return false
}

// GetXattr implements getxattr and its l/f forms once loc is resolved.
func (v *VFS) GetXattr(c *Creds, loc Location, name string) ([]byte, error) {
	if err := v.xattrCheck(c, loc, name, false); err != nil {
		return nil, err
	}
	x, ok := loc.d.inode.(XattrInode)
	if !ok {
		return nil, unix.EOPNOTSUPP
	}
	return x.GetXattr(name)
}

// ListXattr implements listxattr and its l/f forms: the user.* names,
// each followed by a NUL.
func (v *VFS) ListXattr(c *Creds, loc Location) ([]byte, error) {
	if !loc.Valid() {
		return nil, unix.EBADF
	}
	x, ok := loc.d.inode.(XattrInode)
	if !ok {
		return nil, nil
	}
	if t := loc.d.attrs().Mode & unix.S_IFMT; t != unix.S_IFREG && t != unix.S_IFDIR {
		return nil, nil
	}
	return x.ListXattr()
}

// SetXattr implements setxattr and its l/f forms.
func (v *VFS) SetXattr(c *Creds, loc Location, name string, value []byte, flags int) error {
	if flags&^(unix.XATTR_CREATE|unix.XATTR_REPLACE) != 0 {
		return unix.EINVAL
	}
	if err := v.xattrCheck(c, loc, name, true); err != nil {
		return err
	}
	x, ok := loc.d.inode.(XattrInode)
	if !ok {
		return unix.EOPNOTSUPP
	}
	return x.SetXattr(name, value, flags)
}

// RemoveXattr implements removexattr and its l/f forms.
func (v *VFS) RemoveXattr(c *Creds, loc Location, name string) error {
	if err := v.xattrCheck(c, loc, name, true); err != nil {
		return err
	}
	x, ok := loc.d.inode.(XattrInode)
	if !ok {
		return unix.EOPNOTSUPP
	}
	return x.RemoveXattr(name)
}
