package tmpfs

import (
	"moat/sentry/fs/fsutil"
	"moat/sentry/kernel/pipe"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// bogoDirent is what each entry adds to a directory's st_size, as Linux's
// tmpfs counts it (BOGO_DIRENT_SIZE); an empty directory has two.
const bogoDirent = 20

// shortSymlink is the longest symlink target Linux's tmpfs keeps in the
// inode (no block charged).
const shortSymlink = 128

// Inode is one file of a tmpfs. Every mutable field is guarded by the
// file system's mu.
type Inode struct {
	fs  *Filesystem
	ino uint64
	// typ is the S_IFMT bits of mode: they never change, so they are
	// read without the lock.
	typ uint32

	mode                uint32 // the S_IFMT bits never change
	uid, gid            uint32
	nlink               uint32
	rdev                uint64
	atime, mtime, ctime unix.Timespec
	// anon marks a file that never had a name (memfd_create): it goes
	// when its last open file does.
	anon bool
	// whiteout marks a name deleted in an overlay's upper layer; opaque
	// marks an upper directory that hides the lower one. Only
	// sentry/fs/overlay makes them.
	whiteout, opaque bool

	// target is a symlink's target.
	target string
	// fifo is a FIFO's pipe, made on first open and kept for the
	// inode's life so every opener meets the same pipe.
	fifo *pipe.FIFO

	// Directories: parent (itself for the root), children by name, and
	// the cookie the next child gets (getdents offsets).
	parent     *Inode
	children   map[string]*child
	nextCookie int64

	// Regular files: memfd holds the data (-1 until the first write or
	// map), size is the file's size, charged the bytes charged to the
	// file system for it, opens the open files.
	memfd   int
	size    int64
	charged int64
	opens   int
	// seals are the file's memfd seals (F_SEAL_*): F_SEAL_SEAL alone
	// unless memfd_create allowed sealing.
	seals uint32
}

// child is one directory entry.
type child struct {
	inode  *Inode
	cookie int64
}

// firstCookie is the first child's getdents offset: 0 is ".", 1 "..".
const firstCookie = 2

func (i *Inode) fmt() uint32 { return i.typ }

// IsDir reports whether i is a directory.
func (i *Inode) IsDir() bool { return i.fmt() == unix.S_IFDIR }

// Attr implements vfs.Inode.Attr.
func (i *Inode) Attr() vfs.InodeAttr {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	return vfs.InodeAttr{Mode: i.mode, UID: i.uid, GID: i.gid}
}

// Lookup implements vfs.Inode.Lookup; whiteouts are not names.
func (i *Inode) Lookup(name string) (vfs.Inode, error) {
	c, err := i.LookupRaw(name)
	if err != nil {
		return nil, err
	}
	if c.IsWhiteout() {
		return nil, unix.ENOENT
	}
	return c, nil
}

// LookupRaw finds name in directory i, whiteouts included (the overlay
// needs to see them).
func (i *Inode) LookupRaw(name string) (*Inode, error) {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if !i.IsDir() {
		return nil, unix.ENOTDIR
	}
	c, ok := i.children[name]
	if !ok {
		return nil, unix.ENOENT
	}
	return c.inode, nil
}

// IsWhiteout reports whether i marks a deleted overlay name.
func (i *Inode) IsWhiteout() bool {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	return i.whiteout
}

// Opaque reports whether directory i hides the overlay's lower layer.
func (i *Inode) Opaque() bool {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	return i.opaque
}

// SetOpaque marks directory i as hiding the overlay's lower layer.
func (i *Inode) SetOpaque() {
	i.fs.mu.Lock()
	i.opaque = true
	i.fs.mu.Unlock()
}

// Readlink implements vfs.Inode.Readlink.
func (i *Inode) Readlink() (string, error) {
	if i.fmt() != unix.S_IFLNK {
		return "", unix.EINVAL
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	return i.target, nil
}

// Stat implements vfs.Inode.Stat.
func (i *Inode) Stat() (unix.Stat_t, error) {
	a := i.FSAttr()
	return a.Stat(), nil
}

// FSAttr returns i's metadata in portable form.
func (i *Inode) FSAttr() fsutil.Attr {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	a := fsutil.Attr{
		Dev: i.fs.dev, Ino: i.ino, Nlink: uint64(i.nlink), Rdev: i.rdev,
		Mode: i.mode, UID: i.uid, GID: i.gid, Blksize: pageSize,
		Atime: i.atime, Mtime: i.mtime, Ctime: i.ctime,
	}
	switch i.fmt() {
	case unix.S_IFDIR:
		a.Size = int64(len(i.children)+2) * bogoDirent
	case unix.S_IFLNK:
		a.Size = int64(len(i.target))
		if len(i.target) > shortSymlink {
			a.Blocks = pageSize / 512
		}
	case unix.S_IFREG:
		a.Size = i.size
		a.Blocks = i.hostBlocksLocked()
	}
	return a
}

// hostBlocksLocked returns the 512-byte blocks the memfd really holds
// (sparse files hold fewer than their size).
//
// Preconditions: fs.mu is locked.
func (i *Inode) hostBlocksLocked() int64 {
	if i.memfd < 0 {
		return 0
	}
	var st unix.Stat_t
	if err := unix.Fstat(i.memfd, &st); err != nil {
		return i.charged / 512
	}
	return st.Blocks
}

// Release implements vfs.Inode.Release: the inode lives as long as it
// has links or open files, not as long as the VFS caches it.
func (i *Inode) Release() {}

// Open implements vfs.Inode.Open.
func (i *Inode) Open(flags int) (vfs.FileImpl, error) {
	return i.OpenInterruptible(flags, nil)
}

// OpenInterruptible opens i; in is the task that may block opening a
// FIFO (nil: Open, which has no task to interrupt, waits for the FIFO's
// other end uninterruptibly).
func (i *Inode) OpenInterruptible(flags int, in vfs.Interruptible) (vfs.FileImpl, error) {
	switch i.fmt() {
	case unix.S_IFREG:
		// The VFS passes O_TRUNC on for regular files: truncate as
		// the file opens.
		if flags&unix.O_TRUNC != 0 {
			if err := i.truncate(0); err != nil {
				return nil, err
			}
		}
		i.fs.mu.Lock()
		i.opens++
		i.fs.mu.Unlock()
		return &regularFile{i: i}, nil
	case unix.S_IFDIR:
		return &dirFile{i: i}, nil
	case unix.S_IFCHR, unix.S_IFBLK:
		if i.fs.opts.NoDev {
			return nil, unix.EACCES
		}
		if i.fs.opts.Devices == nil {
			return nil, unix.ENXIO
		}
		return i.fs.opts.Devices.OpenDevice(i.mode, i.rdev, flags)
	case unix.S_IFIFO:
		i.fs.mu.Lock()
		if i.fifo == nil {
			i.fifo = pipe.NewFIFO(i.uid, i.gid)
		}
		fi := i.fifo
		i.fs.mu.Unlock()
		return fi.Open(flags, in, i.Stat)
	}
	// Sockets (and symlinks, which the VFS never opens).
	return nil, unix.ENXIO
}

// maybeFreeLocked drops a regular file's data once it has neither links
// nor open files, and counts an unlinked inode out.
//
// Preconditions: fs.mu is locked.
func (i *Inode) maybeFreeLocked() {
	if i.nlink > 0 && !i.anon || i.opens > 0 {
		return
	}
	if i.memfd >= 0 {
		unix.Close(i.memfd)
		i.memfd = -1
	}
	i.fs.charge(-i.charged)
	i.charged = 0
	i.fs.inodes--
}

// SetAttr implements vfs.WritableInode: chmod, chown, truncate and
// utimensat (UTIME_NOW and UTIME_OMIT in Nsec); the VFS has checked
// permissions. ctime moves on any change, as in Linux.
func (i *Inode) SetAttr(a vfs.AttrChange) error {
	if a.Mask&vfs.SetSize != 0 {
		switch i.fmt() {
		case unix.S_IFREG:
			if err := i.truncate(a.Size); err != nil {
				return err
			}
		case unix.S_IFDIR:
			return unix.EISDIR
		default:
			return unix.EINVAL
		}
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if a.Mask&vfs.SetMode != 0 && i.seals&sealExec != 0 && (i.mode^a.Mode)&0o111 != 0 {
		// F_SEAL_EXEC: the execute bits are fixed.
		return unix.EPERM
	}
	now := fsutil.Now()
	if a.Mask&vfs.SetMode != 0 {
		i.mode = i.mode&unix.S_IFMT | a.Mode&0o7777
	}
	if a.Mask&vfs.SetUID != 0 {
		i.uid = a.UID
	}
	if a.Mask&vfs.SetGID != 0 {
		i.gid = a.GID
	}
	if a.Mask&vfs.SetTimes != 0 {
		if a.Atime.Nsec != unix.UTIME_OMIT {
			i.atime = resolveTime(a.Atime, now)
		}
		if a.Mtime.Nsec != unix.UTIME_OMIT {
			i.mtime = resolveTime(a.Mtime, now)
		}
	}
	i.ctime = now
	return nil
}

func resolveTime(t, now unix.Timespec) unix.Timespec {
	if t.Nsec == unix.UTIME_NOW {
		return now
	}
	return t
}

// NewAnonFile returns an open regular file with no name in fs, as
// memfd_create makes, owned by uid and gid: fstat shows mode 0777 and
// one link, and the file goes with its last open file description.
func (fs *Filesystem) NewAnonFile(uid, gid uint32) (vfs.FileImpl, error) {
	fs.mu.Lock()
	if fs.inodes >= fs.maxInodes {
		fs.mu.Unlock()
		return nil, unix.ENOSPC
	}
	i := fs.newInodeLocked(unix.S_IFREG|0o777, uid, gid)
	// It is in no directory: fstat shows st_nlink 0, as for a memfd.
	i.anon, i.nlink = true, 0
	i.seals = sealSeal
	fs.mu.Unlock()
	return i.Open(unix.O_RDWR)
}
