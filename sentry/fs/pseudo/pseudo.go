// Package pseudo builds read-mostly in-memory trees whose contents are
// generated on demand: the inodes proc, dev and sys are made of. A tree
// is a Dir whose entries are listed by a function (so /proc's process
// directories come and go), files whose bytes a function produces when
// they are read, symlinks (plain or magic) and device nodes.
//
// Nothing is stored: an inode is cheap and made again at each lookup of
// an uncached name, and its inode number is derived from its path, so it
// stays the same across lookups.
package pseudo

import (
	"hash/fnv"

	"moat/sentry/fs/fsutil"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// FS is one mounted pseudo file system: its device number, its times and
// its root directory.
type FS struct {
	dev  uint64
	time unix.Timespec
	root func(fs *FS) vfs.Inode
}

// NewFS returns a file system whose root directory root makes.
func NewFS(root func(fs *FS) vfs.Inode) *FS {
	return &FS{dev: fsutil.NewAnonDev(), time: fsutil.Now(), root: root}
}

// Root implements vfs.FilesystemImpl.
func (fs *FS) Root() (vfs.Inode, error) { return fs.root(fs), nil }

// Dev returns the file system's device number (st_dev).
func (fs *FS) Dev() uint64 { return fs.dev }

// Ino returns the inode number of the file at path (from the file
// system's root): stable, and distinct for distinct paths in practice.
// The root is 1, as on Linux's proc.
func Ino(path string) uint64 {
	if path == "/" || path == "" {
		return 1
	}
	h := fnv.New64a()
	h.Write([]byte(path))
	// Keep clear of 0 and 1 and of the top bit, which some tools print
	// as a negative number.
	return h.Sum64()>>1 | 2
}

// Node is what every inode of a tree has: where it is and who owns it.
type Node struct {
	FS *FS
	// Path is the inode's path in the tree; its inode number comes from it.
	Path string
	// Mode is the file type and permission bits.
	Mode uint32
	// UID and GID own the inode.
	UID, GID uint32
	// Owner, when set, is asked for the owner at each stat (a process's
	// directory follows the process's credentials).
	Owner func() (uid, gid uint32, ok bool)
}

// Attr implements vfs.Inode.
func (n *Node) Attr() vfs.InodeAttr {
	return vfs.InodeAttr{Mode: n.Mode, UID: n.UID, GID: n.GID}
}

// stat returns the inode's metadata with size and link count.
func (n *Node) stat(size int64, nlink uint64, rdev uint64) (unix.Stat_t, error) {
	uid, gid := n.UID, n.GID
	if n.Owner != nil {
		u, g, ok := n.Owner()
		if !ok {
			return unix.Stat_t{}, unix.ENOENT
		}
		uid, gid = u, g
	}
	a := fsutil.Attr{
		Dev: n.FS.dev, Ino: Ino(n.Path), Nlink: nlink, Rdev: rdev,
		Mode: n.Mode, UID: uid, GID: gid, Size: size, Blksize: 1024,
		Atime: n.FS.time, Mtime: n.FS.time, Ctime: n.FS.time,
	}
	return a.Stat(), nil
}

// Child returns the path of name under dir.
func Child(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// Entry is one name of a directory.
type Entry struct {
	Name string
	// Type is the entry's file type (S_IF*), for d_type.
	Type uint32
	// New makes the entry's inode.
	New func() (vfs.Inode, error)
}

// Dir is a directory whose entries a function lists.
type Dir struct {
	Node
	// Entries lists the directory (without "." and ".."). An error
	// (ENOENT for a process that is gone) fails lookups and opens.
	Entries func() ([]Entry, error)
}

// Lookup implements vfs.Inode.
func (d *Dir) Lookup(name string) (vfs.Inode, error) {
	es, err := d.Entries()
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if e.Name == name {
			return e.New()
		}
	}
	return nil, unix.ENOENT
}

// Readlink implements vfs.Inode.
func (d *Dir) Readlink() (string, error) { return "", unix.EINVAL }

// Stat implements vfs.Inode: the link count is 2 plus the
// subdirectories, as Linux counts it.
func (d *Dir) Stat() (unix.Stat_t, error) {
	es, err := d.Entries()
	if err != nil {
		return unix.Stat_t{}, err
	}
	n := uint64(2)
	for _, e := range es {
		if e.Type == unix.S_IFDIR {
			n++
		}
	}
	return d.stat(0, n, 0)
}

// Release implements vfs.Inode.
func (d *Dir) Release() {}

// Open implements vfs.Inode.
func (d *Dir) Open(flags int) (vfs.FileImpl, error) {
	if _, err := d.Entries(); err != nil {
		return nil, err
	}
	return &dirFile{d: d}, nil
}

// dirFile is an open directory: the listing is taken at the first
// getdents (and again after a rewind), and the offset counts entries.
type dirFile struct {
	fsutil.DirFile
	d       *Dir
	listing fsutil.Listing
}

func (f *dirFile) Stat(*vfs.File) (unix.Stat_t, error) { return f.d.Stat() }

func (f *dirFile) Seek(_ *vfs.File, off int64, whence int) (int64, error) {
	return f.listing.Seek(off, whence)
}

func (f *dirFile) Getdents(_ *vfs.File, buf []byte) (int, error) {
	return f.listing.Getdents(buf, f.list)
}

// list takes the directory's listing, "." and ".." first.
func (f *dirFile) list() ([]fsutil.Dirent, error) {
	es, err := f.d.Entries()
	if err != nil {
		return nil, err
	}
	parent := "/"
	for i := len(f.d.Path) - 1; i > 0; i-- {
		if f.d.Path[i] == '/' {
			parent = f.d.Path[:i]
			break
		}
	}
	out := make([]fsutil.Dirent, 0, len(es)+2)
	out = append(out,
		fsutil.Dirent{Ino: Ino(f.d.Path), Off: 1, Type: unix.DT_DIR, Name: "."},
		fsutil.Dirent{Ino: Ino(parent), Off: 2, Type: unix.DT_DIR, Name: ".."})
	for i, e := range es {
		out = append(out, fsutil.Dirent{
			Ino: Ino(Child(f.d.Path, e.Name)), Off: int64(i + 3),
			Type: fsutil.DirentType(e.Type), Name: e.Name,
		})
	}
	return out, nil
}
