package vfs

import (
	"moat/sentry/vfs/lock"

	"golang.org/x/sys/unix"
)

// DataFile is implemented by a FileImpl whose data can be truncated,
// allocated and synced (goferfs and host files do it on their host
// descriptor). The VFS has checked the descriptor (not O_PATH) and, for
// Truncate and Allocate, the arguments and access mode; the
// implementation answers the file-type errnos Linux gives (EINVAL for
// truncating a non-regular file, ESPIPE/EISDIR/ENODEV for fallocate).
// A FileImpl without it gets Linux's answers for a file with no such
// operations: EINVAL for ftruncate and fsync, and the fallocate errno of
// its type.
type DataFile interface {
	// Truncate sets the file's size (ftruncate).
	Truncate(f *File, size int64) error
	// Allocate implements fallocate(2) with a checked mode.
	Allocate(f *File, mode uint32, off, length int64) error
	// Sync flushes the file's data (and, unless dataOnly, its metadata)
	// to stable storage (fsync, fdatasync).
	Sync(f *File, dataOnly bool) error
}

// locks are the sandbox's advisory locks. The sentry process serves one
// sandbox, and the table is keyed by (device, inode) — a namespace as
// wide as the host's own — so one table per process is one per sandbox.
// It is the package's only mutable global, kept so that the last close
// of a File (which has no way back to its VFS: stdio files have none)
// can drop its flock and OFD locks.
var locks lock.Table

// Locks returns the sandbox's lock table.
func Locks() *lock.Table { return &locks }

// Truncate implements ftruncate: EBADF for an O_PATH descriptor, EINVAL
// for a negative size or a file not open for writing.
func (f *File) Truncate(size int64) error {
	if f.isPath() {
		return unix.EBADF
	}
	if size < 0 || !f.Writable() {
		return unix.EINVAL
	}
	d, ok := f.impl.(DataFile)
	if !ok {
		return unix.EINVAL
	}
	return d.Truncate(f, size)
}

// Allocate implements fallocate once the mode and range are checked
// (the handler does it): EBADF for a descriptor not open for writing,
// then the file's own answer.
func (f *File) Allocate(mode uint32, off, length int64) error {
	if !f.Writable() {
		return unix.EBADF
	}
	if d, ok := f.impl.(DataFile); ok {
		return d.Allocate(f, mode, off, length)
	}
	st, err := f.impl.Stat(f)
	if err != nil {
		return err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFIFO:
		return unix.ESPIPE
	case unix.S_IFDIR:
		return unix.EISDIR
	case unix.S_IFREG, unix.S_IFBLK:
		if off+length < 0 {
			return unix.EFBIG
		}
		return unix.EOPNOTSUPP
	}
	return unix.ENODEV
}

// Sync implements fsync and fdatasync: EBADF for an O_PATH descriptor,
// EINVAL for a file that cannot be synced (pipes, terminals).
func (f *File) Sync(dataOnly bool) error {
	if f.isPath() {
		return unix.EBADF
	}
	d, ok := f.impl.(DataFile)
	if !ok {
		return unix.EINVAL
	}
	return d.Sync(f, dataOnly)
}

// LockKey returns the identity locks on f are kept under: its device and
// inode number as fstat reports them.
func (f *File) LockKey() (lock.Key, error) {
	st, err := f.impl.Stat(f)
	if err != nil {
		return lock.Key{}, err
	}
	return lock.Key{Dev: st.Dev, Ino: st.Ino}, nil
}

// Flock implements flock(2) on f: the lock belongs to the open file
// description. b nil means LOCK_NB.
func (f *File) Flock(typ lock.Type, b lock.Blocker) error {
	if f.isPath() {
		return unix.EBADF
	}
	k, err := f.LockKey()
	if err != nil {
		return err
	}
	return locks.Flock(k, f, typ, b)
}

// ReleasePOSIXLocks drops the POSIX record locks owner (an fd table)
// holds on f's file: the fd table calls it whenever it closes a
// descriptor of f, before dropping its reference.
func (f *File) ReleasePOSIXLocks(owner any) {
	if !locks.Holds(owner) {
		return
	}
	k, err := f.LockKey()
	if err != nil {
		// The file cannot say who it is any more; its locks stay
		// until the owner's other descriptors of it close or the
		// process exits (the table then closes every file).
		return
	}
	locks.ReleaseFile(k, owner)
}

// releaseLocks drops the flock and OFD locks of f's open file
// description: its last reference is going away.
func (f *File) releaseLocks() { locks.Release(f) }

// ReleaseLockOwner drops every lock owner holds on any file: the fd
// table calls it when its last user leaves (process exit).
func ReleaseLockOwner(owner any) { locks.Release(owner) }
