// Package mqueue is the mqueue file system (mount -t mqueue, mounted at
// /dev/mqueue by the default OCI spec): a flat directory whose files are
// the sandbox's POSIX message queues (sentry/kernel/mq). Reading a
// queue's file gives its "QSIZE:..." status line, unlink removes the
// queue, open(O_CREAT) makes one with the default attributes, chmod and
// chown change its permissions, as on Linux. Every mount shows the same
// registry: the sandbox is one IPC namespace.
package mqueue

import (
	"moat/sentry/fs/fsutil"
	"moat/sentry/kernel/mq"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// FS is one mount of the mqueue file system.
type FS struct {
	reg  *mq.Registry
	time unix.Timespec
}

// New returns an mqueue file system showing reg.
func New(reg *mq.Registry) *FS { return &FS{reg: reg, time: fsutil.Now()} }

// Root implements vfs.FilesystemImpl.
func (fs *FS) Root() (vfs.Inode, error) { return &root{fs: fs}, nil }

// root is the mount's only directory: mode 1777 and owned by root, as
// Linux's mqueue root is.
type root struct{ fs *FS }

var (
	_ vfs.Inode       = (*root)(nil)
	_ vfs.WritableDir = (*root)(nil)
	_ vfs.StatFSInode = (*root)(nil)
)

const rootMode = unix.S_IFDIR | unix.S_ISVTX | 0o777

func (r *root) Attr() vfs.InodeAttr { return vfs.InodeAttr{Mode: rootMode} }

func (r *root) Lookup(name string) (vfs.Inode, error) {
	if r.fs.reg.Lookup(name) == nil {
		return nil, unix.ENOENT
	}
	return &queueNode{fs: r.fs, name: name}, nil
}

func (r *root) Readlink() (string, error) { return "", unix.EINVAL }

func (r *root) Open(int) (vfs.FileImpl, error) { return &dirFile{r: r}, nil }

func (r *root) Stat() (unix.Stat_t, error) {
	a := fsutil.Attr{
		Dev: r.fs.reg.Dev(), Ino: 1, Nlink: 2, Mode: rootMode, Blksize: 4096,
		Atime: r.fs.time, Mtime: r.fs.time, Ctime: r.fs.time, Size: 40,
	}
	return a.Stat(), nil
}

func (r *root) Release() {}

// StatFS reports the mqueue magic number, as statfs on Linux's mqueue.
func (r *root) StatFS() (unix.Statfs_t, error) {
	return unix.Statfs_t{Type: 0x19800202, Bsize: 4096, Namelen: mq.NameMax, Frsize: 4096}, nil
}

// Create makes a queue with the default attributes (open(2) with
// O_CREAT in the mount does so on Linux).
func (r *root) Create(name string, flags int, mode uint32, owner vfs.Owner) (vfs.Inode, vfs.FileImpl, error) {
	// The VFS has checked the caller's right to create here; the queue
	// count limit applies to everyone through the file system.
	q, err := r.fs.reg.Create(name, mode, nil, mq.Owner{UID: owner.UID, GID: owner.GID})
	if err != nil {
		return nil, nil, err
	}
	return &queueNode{fs: r.fs, name: name}, mq.NewFile(q), nil
}

// Mkdir, Mknod, Symlink, Link and Rename are not offered by mqueue:
// Linux's mqueue directory has only create and unlink (EPERM).
func (r *root) Mkdir(string, uint32, vfs.Owner) error        { return unix.EPERM }
func (r *root) Mknod(string, uint32, vfs.Owner) error        { return unix.EPERM }
func (r *root) Symlink(string, string, vfs.Owner) error      { return unix.EPERM }
func (r *root) Link(string, vfs.Inode) error                 { return unix.EPERM }
func (r *root) Rename(string, vfs.Inode, string, uint) error { return unix.EPERM }
func (r *root) Unlink(name string, rmdir bool) error {
	if rmdir {
		return unix.ENOTDIR
	}
	// The VFS has applied the sticky bit's rule.
	return r.fs.reg.Unlink(name, 0, true)
}

// queueNode is a queue's file. It names the queue rather than holding
// it: the VFS caches names, and mq_unlink removes queues without going
// through the VFS, so each use looks the queue up again (a name that
// was removed behind the cache's back then reads as gone).
type queueNode struct {
	fs   *FS
	name string
}

var _ vfs.WritableInode = (*queueNode)(nil)

func (n *queueNode) queue() (*mq.Queue, error) {
	q := n.fs.reg.Lookup(n.name)
	if q == nil {
		return nil, unix.ENOENT
	}
	return q, nil
}

func (n *queueNode) Attr() vfs.InodeAttr {
	q, err := n.queue()
	if err != nil {
		return vfs.InodeAttr{Mode: unix.S_IFREG}
	}
	mode, uid, gid := q.Perm()
	return vfs.InodeAttr{Mode: unix.S_IFREG | mode, UID: uid, GID: gid}
}

func (n *queueNode) Lookup(string) (vfs.Inode, error) { return nil, unix.ENOTDIR }
func (n *queueNode) Readlink() (string, error)        { return "", unix.EINVAL }

func (n *queueNode) Open(int) (vfs.FileImpl, error) {
	q, err := n.queue()
	if err != nil {
		return nil, err
	}
	return mq.NewFile(q), nil
}

func (n *queueNode) Stat() (unix.Stat_t, error) {
	q, err := n.queue()
	if err != nil {
		return unix.Stat_t{}, err
	}
	return q.Stat(), nil
}

func (n *queueNode) Release() {}

// SetAttr implements chmod and chown; a queue has no size to truncate
// and keeps no settable times.
func (n *queueNode) SetAttr(a vfs.AttrChange) error {
	q, err := n.queue()
	if err != nil {
		return err
	}
	if a.Mask&vfs.SetSize != 0 {
		return unix.EINVAL
	}
	mode, uid, gid := q.Perm()
	if a.Mask&vfs.SetMode != 0 {
		mode = a.Mode
	}
	if a.Mask&vfs.SetUID != 0 {
		uid = a.UID
	}
	if a.Mask&vfs.SetGID != 0 {
		gid = a.GID
	}
	q.SetPerm(mode, uid, gid)
	return nil
}

// dirFile is the open root directory.
type dirFile struct {
	fsutil.DirFile
	r       *root
	listing fsutil.Listing
}

func (f *dirFile) Stat(*vfs.File) (unix.Stat_t, error) { return f.r.Stat() }

func (f *dirFile) Seek(_ *vfs.File, off int64, whence int) (int64, error) {
	return f.listing.Seek(off, whence)
}

func (f *dirFile) Getdents(_ *vfs.File, buf []byte) (int, error) {
	return f.listing.Getdents(buf, f.list)
}

// list takes the queues' names, after "." and "..".
func (f *dirFile) list() ([]fsutil.Dirent, error) {
	es := []fsutil.Dirent{
		{Ino: 1, Off: 1, Type: unix.DT_DIR, Name: "."},
		{Ino: 1, Off: 2, Type: unix.DT_DIR, Name: ".."},
	}
	for i, name := range f.r.fs.reg.Names() {
		var ino uint64
		if q := f.r.fs.reg.Lookup(name); q != nil {
			ino = q.Stat().Ino
		}
		es = append(es, fsutil.Dirent{Ino: ino, Off: int64(i + 3), Type: unix.DT_REG, Name: name})
	}
	return es, nil
}
