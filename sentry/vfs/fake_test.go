package vfs

import (
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// memNode is a file of the in-memory test file system.
type memNode struct {
	mode     uint32
	uid, gid uint32
	children map[string]*memNode
	target   string // symlinks
	data     string // regular files
}

// memFS is a FilesystemImpl over a tree of memNodes that counts lookups.
type memFS struct {
	root    *memNode
	lookups atomic.Int64

	inoMu sync.Mutex
	inos  map[*memNode]uint64
}

// ino numbers nodes in order of first stat, so hard links share one.
func (fs *memFS) ino(n *memNode) uint64 {
	fs.inoMu.Lock()
	defer fs.inoMu.Unlock()
	if fs.inos == nil {
		fs.inos = map[*memNode]uint64{}
	}
	if _, ok := fs.inos[n]; !ok {
		fs.inos[n] = uint64(len(fs.inos) + 1)
	}
	return fs.inos[n]
}

func (fs *memFS) Root() (Inode, error) { return &memInode{fs: fs, n: fs.root}, nil }

type memInode struct {
	fs *memFS
	n  *memNode
}

func (i *memInode) Attr() InodeAttr { return InodeAttr{Mode: i.n.mode, UID: i.n.uid, GID: i.n.gid} }

func (i *memInode) Lookup(name string) (Inode, error) {
	i.fs.lookups.Add(1)
	if strings.Contains(name, "/") || name == "." || name == ".." || name == "" {
		panic("vfs passed a bad component to Lookup: " + name)
	}
	c, ok := i.n.children[name]
	if !ok {
		return nil, unix.ENOENT
	}
	return &memInode{fs: i.fs, n: c}, nil
}

func (i *memInode) Readlink() (string, error) {
	if i.n.mode&unix.S_IFMT != unix.S_IFLNK {
		return "", unix.EINVAL
	}
	return i.n.target, nil
}

func (i *memInode) Open(flags int) (FileImpl, error) {
	return &memFile{data: i.n.data, mode: i.n.mode}, nil
}

func (i *memInode) Stat() (unix.Stat_t, error) {
	return unix.Stat_t{Ino: i.fs.ino(i.n), Mode: i.n.mode, Uid: i.n.uid, Gid: i.n.gid, Size: int64(len(i.n.data))}, nil
}

func (i *memInode) Release() {}

// memFile is an open memNode with its own offset.
type memFile struct {
	data     string
	mode     uint32
	off      int64
	released bool
}

func (m *memFile) Read(_ *File, dst []byte) (int, error) {
	if m.off >= int64(len(m.data)) {
		return 0, nil
	}
	n := copy(dst, m.data[m.off:])
	m.off += int64(n)
	return n, nil
}
func (m *memFile) Write(*File, []byte) (int, error) { return 0, unix.EBADF }
func (m *memFile) PRead(_ *File, dst []byte, off int64) (int, error) {
	if off >= int64(len(m.data)) {
		return 0, nil
	}
	return copy(dst, m.data[off:]), nil
}
func (m *memFile) PWrite(*File, []byte, int64) (int, error) { return 0, unix.EBADF }
func (m *memFile) Seek(_ *File, off int64, whence int) (int64, error) {
	if whence != unix.SEEK_SET {
		return 0, unix.EINVAL
	}
	m.off = off
	return off, nil
}
func (m *memFile) Stat(*File) (unix.Stat_t, error)     { return unix.Stat_t{Mode: m.mode}, nil }
func (m *memFile) Getdents(*File, []byte) (int, error) { return 0, unix.ENOTDIR }
func (m *memFile) Ioctl(*File, uintptr, uintptr, IOContext) (uintptr, error) {
	return 0, unix.ENOTTY
}
func (m *memFile) HostFD() int { return -1 }
func (m *memFile) Release()    { m.released = true }

func dir(mode uint32, children map[string]*memNode) *memNode {
	return &memNode{mode: unix.S_IFDIR | mode, children: children}
}

func reg(mode uint32, data string) *memNode { return &memNode{mode: unix.S_IFREG | mode, data: data} }

func link(target string) *memNode { return &memNode{mode: unix.S_IFLNK | 0o777, target: target} }

// The memFS is writable, so the VFS's write checks and cache updates can
// be tested without a gofer.

func (i *memInode) add(name string, n *memNode) error {
	if _, ok := i.n.children[name]; ok {
		return unix.EEXIST
	}
	if i.n.children == nil {
		i.n.children = map[string]*memNode{}
	}
	i.n.children[name] = n
	return nil
}

func (i *memInode) Create(name string, flags int, mode uint32, o Owner) (Inode, FileImpl, error) {
	n := &memNode{mode: unix.S_IFREG | mode, uid: o.UID, gid: o.GID}
	if err := i.add(name, n); err != nil {
		return nil, nil, err
	}
	return &memInode{fs: i.fs, n: n}, &memFile{mode: n.mode}, nil
}

func (i *memInode) Mkdir(name string, mode uint32, o Owner) error {
	return i.add(name, &memNode{mode: unix.S_IFDIR | mode, uid: o.UID, gid: o.GID})
}

func (i *memInode) Mknod(name string, mode uint32, o Owner) error {
	return i.add(name, &memNode{mode: mode, uid: o.UID, gid: o.GID})
}

func (i *memInode) Symlink(name, target string, o Owner) error {
	return i.add(name, &memNode{mode: unix.S_IFLNK | 0o777, target: target, uid: o.UID, gid: o.GID})
}

func (i *memInode) Link(name string, target Inode) error {
	return i.add(name, target.(*memInode).n)
}

func (i *memInode) Unlink(name string, rmdir bool) error {
	n, ok := i.n.children[name]
	if !ok {
		return unix.ENOENT
	}
	if rmdir && len(n.children) > 0 {
		return unix.ENOTEMPTY
	}
	delete(i.n.children, name)
	return nil
}

func (i *memInode) Rename(oldName string, newDir Inode, newName string, flags uint) error {
	nd := newDir.(*memInode).n
	n := i.n.children[oldName]
	if t, ok := nd.children[newName]; ok && t.mode&unix.S_IFMT == unix.S_IFDIR && len(t.children) > 0 && flags&RenameExchange == 0 {
		return unix.ENOTEMPTY
	}
	if flags&RenameExchange != 0 {
		i.n.children[oldName], nd.children[newName] = nd.children[newName], n
		return nil
	}
	delete(i.n.children, oldName)
	if nd.children == nil {
		nd.children = map[string]*memNode{}
	}
	nd.children[newName] = n
	return nil
}

func (i *memInode) SetAttr(a AttrChange) error {
	if a.Mask&SetMode != 0 {
		i.n.mode = i.n.mode&unix.S_IFMT | a.Mode
	}
	if a.Mask&SetUID != 0 {
		i.n.uid = a.UID
	}
	if a.Mask&SetGID != 0 {
		i.n.gid = a.GID
	}
	if a.Mask&SetSize != 0 {
		i.n.data = i.n.data[:min(int64(len(i.n.data)), a.Size)]
	}
	return nil
}
