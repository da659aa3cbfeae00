package vfs

import "golang.org/x/sys/unix"

// The optional interfaces of file systems that can change. The VFS
// type-asserts an Inode to them and answers EROFS (on a read-only mount)
// or EPERM when a file system lacks them. The VFS has made every check
// Linux makes above the file system (path resolution, EROFS, EEXIST,
// ENOENT, permission bits, the sticky bit, mount points, ownership rules
// of chown/chmod/utimes); the file system does the operation and answers
// what only it can know (ENOTEMPTY, ENOSPC, EMLINK ...).

// Owner is the owner a new file gets: the caller's fsuid and either its
// fsgid or, under a set-group-ID directory, the directory's group.
type Owner struct {
	UID, GID uint32
}

// WritableDir is implemented by a directory Inode of a writable file
// system. Names are single components, never "." or "..".
type WritableDir interface {
	// Create makes the regular file name (mode: permission bits, umask
	// applied) and opens it with the open(2) flags (access mode,
	// O_APPEND, O_NONBLOCK ...; never O_CREAT/O_EXCL/O_TRUNC). EEXIST
	// if the name exists.
	Create(name string, flags int, mode uint32, owner Owner) (Inode, FileImpl, error)
	// Mkdir makes the directory name.
	Mkdir(name string, mode uint32, owner Owner) error
	// Mknod makes a FIFO (S_IFIFO) or socket (S_IFSOCK) node; mode holds
	// the type and the permission bits. The VFS refuses devices (EPERM).
	Mknod(name string, mode uint32, owner Owner) error
	// Symlink makes the symlink name pointing at target.
	Symlink(name, target string, owner Owner) error
	// Link makes name a new hard link to target, an Inode of the same
	// file system (never a directory).
	Link(name string, target Inode) error
	// Unlink removes the non-directory name (rmdir false) or the empty
	// directory name (rmdir true).
	Unlink(name string, rmdir bool) error
	// Rename moves oldName to newName in newDir (a WritableDir of the
	// same file system) with renameat2 flags (RENAME_NOREPLACE,
	// RENAME_EXCHANGE). Inodes of the moved files stay valid.
	Rename(oldName string, newDir Inode, newName string, flags uint) error
}

// SetAttr bits say which fields of an AttrChange apply.
const (
	// SetMode changes the permission bits (chmod).
	SetMode = 1 << iota
	// SetUID changes the owner.
	SetUID
	// SetGID changes the group.
	SetGID
	// SetSize changes a regular file's size (truncate).
	SetSize
	// SetTimes sets atime and mtime as utimensat does (UTIME_NOW and
	// UTIME_OMIT in Nsec).
	SetTimes
)

// AttrChange is a change of a file's metadata; Mask says which fields
// apply.
type AttrChange struct {
	Mask         uint32
	Mode         uint32
	UID, GID     uint32
	Size         int64
	Atime, Mtime unix.Timespec
}

// WritableInode is implemented by an Inode whose metadata can change.
// After SetAttr returns, Attr reports the new mode and owner.
type WritableInode interface {
	SetAttr(a AttrChange) error
}

// StatFSInode is implemented by an Inode that can report its file
// system's statistics (statfs). Without it the VFS answers ENOSYS.
type StatFSInode interface {
	StatFS() (unix.Statfs_t, error)
}

// XattrInode is implemented by an Inode with extended attributes. The
// VFS passes only user.* names and has checked permissions; without it,
// reads find nothing (ENODATA, empty list) and writes are EOPNOTSUPP.
type XattrInode interface {
	GetXattr(name string) ([]byte, error)
	// ListXattr returns the names, each followed by a NUL.
	ListXattr() ([]byte, error)
	// SetXattr sets name; flags are 0, XATTR_CREATE or XATTR_REPLACE.
	SetXattr(name string, value []byte, flags int) error
	RemoveXattr(name string) error
}
