package vfs

import "golang.org/x/sys/unix"

// Access bits, as access(2)'s R_OK, W_OK and X_OK and the kernel's
// MAY_READ, MAY_WRITE and MAY_EXEC.
const (
	MayExec  = 1
	MayWrite = 2
	MayRead  = 4
)

// permitted reports whether c may access a file with attributes a in the
// ways may asks. UID 0 passes read and write checks and searches
// directories as CAP_DAC_OVERRIDE allows, but executing a non-directory
// still needs some x bit.
func permitted(c *Creds, a InodeAttr, may uint32) bool {
	if c.UID == 0 {
		if may&MayExec == 0 || a.Mode&unix.S_IFMT == unix.S_IFDIR {
			return true
		}
		return a.Mode&0o111 != 0
	}
	var bits uint32
	switch {
	case c.UID == a.UID:
		bits = a.Mode >> 6 & 7
	case inGroup(c, a.GID):
		bits = a.Mode >> 3 & 7
	default:
		bits = a.Mode & 7
	}
	return may&^bits == 0
}

func inGroup(c *Creds, gid uint32) bool {
	if c.GID == gid {
		return true
	}
	for _, g := range c.Groups {
		if g == gid {
			return true
		}
	}
	return false
}

// writeRefused reports whether writing to a file of type mode on mount m
// fails with EROFS: on a read-only mount, regular files, directories and
// symlinks cannot be written (devices, fifos and sockets can).
func writeRefused(m *Mount, mode uint32) bool {
	if !m.ReadOnly() {
		return false
	}
	switch mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR, unix.S_IFLNK:
		return true
	}
	return false
}

// Permission checks that c may access l in the ways may (MayRead,
// MayWrite, MayExec) asks: EACCES when the mode bits refuse it, else
// EROFS for a write on a read-only mount. The order is that of a
// read-only bind mount (MNT_READONLY, what runc makes of root.readonly),
// whose check comes after the inode's permission.
func (v *VFS) Permission(c *Creds, l Location, may uint32) error {
	if !l.Valid() {
		return unix.ENOENT
	}
	if !permitted(c, l.d.attrs(), may) {
		return unix.EACCES
	}
	// A noexec mount's regular files cannot be executed (execve,
	// access X_OK), whatever their mode.
	if may&MayExec != 0 && l.m.opts.NoExec && l.d.attr.Mode&unix.S_IFMT == unix.S_IFREG {
		return unix.EACCES
	}
	if may&MayWrite != 0 && writeRefused(l.m, l.d.attr.Mode) {
		return unix.EROFS
	}
	return nil
}
