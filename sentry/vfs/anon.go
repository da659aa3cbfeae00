package vfs

import "golang.org/x/sys/unix"

// AnonFile is implemented by a FileImpl whose file has an inode but no
// place in the mount tree (memfd_create's files, which Linux keeps on an
// internal mount): fchmod and fchown act on that inode directly.
type AnonFile interface {
	AnonInode() Inode
}

// ChmodAnon implements fchmod of a file outside the mount tree, with
// Chmod's rules; there is no mount, so no EROFS.
func ChmodAnon(c *Creds, f *File, mode uint32) error {
	ino, ok := anonInode(f)
	if !ok {
		return unix.EPERM
	}
	a := ino.Attr()
	if !owns(c, a) {
		return unix.EPERM
	}
	mode &= 0o7777
	if mode&unix.S_ISGID != 0 && !c.Capable(CapFsetid) && !inGroup(c, a.GID) {
		mode &^= unix.S_ISGID
	}
	return ino.(WritableInode).SetAttr(AttrChange{Mask: SetMode, Mode: mode})
}

// anonInode returns f's inode when f is outside the mount tree and its
// inode can change.
func anonInode(f *File) (Inode, bool) {
	af, ok := f.impl.(AnonFile)
	if !ok {
		return nil, false
	}
	ino := af.AnonInode()
	if _, ok := ino.(WritableInode); !ok || ino == nil {
		return nil, false
	}
	return ino, true
}
