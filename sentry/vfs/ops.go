package vfs

import (
	"strings"

	"golang.org/x/sys/unix"
)

// OpenAt resolves path relative to dir (the working directory or an open
// directory) with root as "/" and opens it per flags (O_*) and mode.
// O_CREAT of a missing name creates it through the file system's
// WritableDir (EROFS on a read-only mount); mode has the umask applied.
// Errors are unix.Errno.
func (v *VFS) OpenAt(c *Creds, root, dir Location, path string, flags int, mode uint32) (*File, error) {
	return v.openAtResolve(c, root, dir, path, flags, mode, 0)
}

// openAtResolve is OpenAt with the walk restricted by rf (OpenAt2).
func (v *VFS) openAtResolve(c *Creds, root, dir Location, path string, flags int, mode uint32, rf ResolveFlags) (*File, error) {
	creat := flags&unix.O_CREAT != 0
	if flags&unix.O_TMPFILE == unix.O_TMPFILE {
		return v.openTmpfile(c, root, dir, path, flags, rf)
	}
	if creat && flags&unix.O_DIRECTORY != 0 {
		// Linux 6.4 and later refuse the combination outright.
		return nil, unix.EINVAL
	}
	follow := flags&unix.O_NOFOLLOW == 0
	if creat && flags&unix.O_EXCL != 0 {
		follow = false
	}
	r, err := v.walkResolve(c, root, dir, path, follow, creat, rf)
	if err != nil {
		return nil, err
	}
	if !r.loc.Valid() {
		return v.create(c, r, path, flags, mode)
	}
	loc := r.loc
	if creat {
		if flags&unix.O_EXCL != 0 {
			return nil, unix.EEXIST
		}
		if loc.IsDir() {
			return nil, unix.EISDIR
		}
	}
	if flags&unix.O_PATH != 0 {
		if flags&unix.O_DIRECTORY != 0 && !loc.IsDir() {
			return nil, unix.ENOTDIR
		}
		return newFile(pathFile{loc: loc}, flags&(unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW), loc), nil
	}
	if flags&unix.O_DIRECTORY != 0 && !loc.IsDir() {
		return nil, unix.ENOTDIR
	}
	return v.open(c, loc, flags)
}

// openTmpfile handles O_TMPFILE: path must be a directory, and no file
// system can make unnamed files yet.
func (v *VFS) openTmpfile(c *Creds, root, dir Location, path string, flags int, rf ResolveFlags) (*File, error) {
	if flags&unix.O_ACCMODE == unix.O_RDONLY {
		return nil, unix.EINVAL
	}
	r, err := v.walkResolve(c, root, dir, path, true, false, rf)
	if err != nil {
		return nil, err
	}
	if !r.loc.IsDir() {
		return nil, unix.ENOTDIR
	}
	if r.loc.m.ReadOnly() {
		return nil, unix.EROFS
	}
	return nil, unix.EOPNOTSUPP
}

// open opens the file at loc after the checks of may_open: the file's
// type against the access asked, read-only mounts, permission bits.
func (v *VFS) open(c *Creds, loc Location, flags int) (*File, error) {
	var may uint32
	switch flags & unix.O_ACCMODE {
	case unix.O_RDONLY:
		may = MayRead
	case unix.O_WRONLY:
		may = MayWrite
	default: // O_RDWR, and 3 which Linux treats as needing both
		may = MayRead | MayWrite
	}
	if flags&unix.O_TRUNC != 0 {
		may |= MayWrite
	}
	switch loc.d.attr.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return nil, unix.ELOOP
	case unix.S_IFDIR:
		if may&MayWrite != 0 {
			return nil, unix.EISDIR
		}
	}
	if err := v.Permission(c, loc, may); err != nil {
		return nil, err
	}
	fsFlags := flags &^ (unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_TRUNC)
	if flags&unix.O_TRUNC != 0 && loc.d.attr.Mode&unix.S_IFMT == unix.S_IFREG {
		// O_TRUNC matters for regular files only; the file system
		// truncates as it opens (Linux ignores it on FIFOs and devices).
		fsFlags |= unix.O_TRUNC
	}
	impl, err := openInode(loc.d.inode, fsFlags, c)
	if err != nil {
		return nil, err
	}
	return newFile(impl, flags&^(unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_TRUNC), loc), nil
}

// Open opens the file at loc, as OpenAt does once the path is resolved
// (used for fchdir-like cases and by the loader).
func (v *VFS) Open(c *Creds, loc Location, flags int) (*File, error) {
	if !loc.Valid() {
		return nil, unix.ENOENT
	}
	if flags&unix.O_DIRECTORY != 0 && !loc.IsDir() {
		return nil, unix.ENOTDIR
	}
	return v.open(c, loc, flags)
}

// LookupAt resolves path to a location, following a final symlink when
// follow is set.
func (v *VFS) LookupAt(c *Creds, root, dir Location, path string, follow bool) (Location, error) {
	r, err := v.walk(c, root, dir, path, follow, false)
	if err != nil {
		return Location{}, err
	}
	return r.loc, nil
}

// ChdirAt resolves path for chdir: it must be a directory (ENOTDIR) the
// caller may search (EACCES).
func (v *VFS) ChdirAt(c *Creds, root, dir Location, path string) (Location, error) {
	loc, err := v.LookupAt(c, root, dir, path, true)
	if err != nil {
		return Location{}, err
	}
	if err := v.CheckChdir(c, loc); err != nil {
		return Location{}, err
	}
	return loc, nil
}

// CheckChdir checks that loc can become a working directory.
func (v *VFS) CheckChdir(c *Creds, loc Location) error {
	if !loc.IsDir() {
		return unix.ENOTDIR
	}
	if !permitted(c, loc.d.attrs(), MayExec) {
		return unix.EACCES
	}
	return nil
}

// StatAt implements fstatat/newfstatat/statx path resolution: it stats
// path relative to dir, following a final symlink unless
// AT_SYMLINK_NOFOLLOW is in atFlags. With AT_EMPTY_PATH and an empty
// path it stats dir itself.
func (v *VFS) StatAt(c *Creds, root, dir Location, path string, atFlags int) (unix.Stat_t, error) {
	if path == "" && atFlags&unix.AT_EMPTY_PATH != 0 {
		return v.Stat(dir)
	}
	r, err := v.walk(c, root, dir, path, atFlags&unix.AT_SYMLINK_NOFOLLOW == 0, false)
	if err != nil {
		return unix.Stat_t{}, err
	}
	return v.Stat(r.loc)
}

// Stat returns the metadata of the file at loc.
func (v *VFS) Stat(loc Location) (unix.Stat_t, error) {
	if !loc.Valid() {
		return unix.Stat_t{}, unix.ENOENT
	}
	return loc.d.inode.Stat()
}

// ReadlinkAt returns the target of the symlink path names (EINVAL when
// it is not a symlink). An empty path reads dir itself, which only works
// when dir is a symlink (opened with O_PATH|O_NOFOLLOW); else ENOENT.
func (v *VFS) ReadlinkAt(c *Creds, root, dir Location, path string) (string, error) {
	loc := dir
	if path != "" {
		r, err := v.walk(c, root, dir, path, false, false)
		if err != nil {
			return "", err
		}
		loc = r.loc
	} else if !dir.Valid() || !dir.d.isSymlink() {
		return "", unix.ENOENT
	}
	if !loc.d.isSymlink() {
		return "", unix.EINVAL
	}
	return readlinkFor(c, loc.d.inode)
}

// AccessAt implements access/faccessat: mode is F_OK or a mix of R_OK,
// W_OK and X_OK; atFlags may hold AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH
// (AT_EACCESS is the caller's business: it picks c).
func (v *VFS) AccessAt(c *Creds, root, dir Location, path string, mode uint32, atFlags int) error {
	loc := dir
	if path != "" || atFlags&unix.AT_EMPTY_PATH == 0 {
		r, err := v.walk(c, root, dir, path, atFlags&unix.AT_SYMLINK_NOFOLLOW == 0, false)
		if err != nil {
			return err
		}
		loc = r.loc
	}
	if mode == unix.F_OK {
		return nil
	}
	return v.Permission(c, loc, mode)
}

// Getcwd returns the path of cwd as seen from root. When cwd is not below
// root the path starts with "(unreachable)", as Linux reports it.
func (v *VFS) Getcwd(root, cwd Location) string {
	v.renameMu.RLock()
	defer v.renameMu.RUnlock()
	var parts []string
	l := cwd
	for l != root {
		if l.isMountRoot() {
			if l.m.parent == nil {
				return "(unreachable)" + joinReversed(parts)
			}
			l = Location{m: l.m.parent, d: l.m.point}
			continue
		}
		parts = append(parts, l.d.name)
		l = Location{m: l.m, d: l.d.parent}
	}
	return joinReversed(parts)
}

// joinReversed joins path components collected leaf first into an
// absolute path.
func joinReversed(parts []string) string {
	if len(parts) == 0 {
		return "/"
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	return b.String()
}
