package vfs

import "golang.org/x/sys/unix"

// Access bits, as access(2)'s R_OK, W_OK and X_OK and the kernel's
// MAY_READ, MAY_WRITE and MAY_EXEC.
const (
	MayExec  = 1
	MayWrite = 2
	MayRead  = 4
)

// Capabilities the VFS checks (linux/capability.h numbers).
const (
	CapChown         = 0
	CapDACOverride   = 1
	CapDACReadSearch = 2
	CapFowner        = 3
	CapFsetid        = 4
)

// Capable reports whether c holds capability cap: from c.Caps when the
// credentials carry capabilities (a task's: the effective set, in which
// the fs capabilities already follow the fsuid), else by uid 0.
func (c *Creds) Capable(cap int) bool {
	if c.HasCaps {
		return c.Caps&(1<<cap) != 0
	}
	return c.UID == 0
}

// permitted reports whether c may access a file with attributes a in the
// ways may asks, as the kernel's generic_permission does: the mode bits
// of the owner, the group or others decide, then CAP_DAC_READ_SEARCH
// overrides reading any file and searching or reading a directory, and
// CAP_DAC_OVERRIDE overrides everything except executing a non-directory
// without any execute bit.
func permitted(c *Creds, a InodeAttr, may uint32) bool {
	var bits uint32
	switch {
	case c.UID == a.UID:
		bits = a.Mode >> 6 & 7
	case inGroup(c, a.GID):
		bits = a.Mode >> 3 & 7
	default:
		bits = a.Mode & 7
	}
	if may&^bits == 0 {
		return true
	}
	if a.Mode&unix.S_IFMT == unix.S_IFDIR {
		if may&MayWrite == 0 && c.Capable(CapDACReadSearch) {
			return true
		}
		return c.Capable(CapDACOverride)
	}
	if may == MayRead && c.Capable(CapDACReadSearch) {
		return true
	}
	if may&MayExec == 0 || a.Mode&0o111 != 0 {
		return c.Capable(CapDACOverride)
	}
	return false
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
