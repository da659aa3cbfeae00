package pseudo

import (
	"sync"

	"moat/sentry/fs/fsutil"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// File is a regular file whose bytes a function produces.
type File struct {
	Node
	// Content produces the file's bytes. It runs at the first read and at
	// every read from offset 0 after (Linux's seq_file does the same), so
	// a reader that reads the file whole sees one consistent snapshot.
	Content func() ([]byte, error)
	// Write, when set, takes each write(2) and returns what it consumed
	// (/proc/[pid]/comm). Without it writes fail with WriteErr.
	Write func(src []byte) (int, error)
	// WriteErr is what a write returns when Write is nil: Linux gives EIO
	// for /proc's global files and EINVAL for a process's. Zero means EIO.
	WriteErr unix.Errno
	// NoWriteOpen refuses opening for writing with EACCES, whoever asks
	// (sysctl files check their own permissions, root included).
	NoWriteOpen bool
	// Size is st_size (0 for proc files, a page for sysfs attributes).
	Size int64
}

// Lookup implements vfs.Inode.
func (f *File) Lookup(string) (vfs.Inode, error) { return nil, unix.ENOTDIR }

// Readlink implements vfs.Inode.
func (f *File) Readlink() (string, error) { return "", unix.EINVAL }

// Stat implements vfs.Inode.
func (f *File) Stat() (unix.Stat_t, error) { return f.stat(f.Size, 1, 0) }

// Release implements vfs.Inode.
func (f *File) Release() {}

// Open implements vfs.Inode.
func (f *File) Open(flags int) (vfs.FileImpl, error) {
	if f.NoWriteOpen && flags&unix.O_ACCMODE != unix.O_RDONLY {
		return nil, unix.EACCES
	}
	if f.Owner != nil {
		if _, _, ok := f.Owner(); !ok {
			return nil, unix.ENOENT
		}
	}
	return &genFile{f: f}, nil
}

// genFile is an open File: a snapshot of its content and an offset.
type genFile struct {
	f *File

	// mu guards the fields below.
	mu   sync.Mutex
	data []byte
	have bool
	off  int64
}

// snapshotLocked returns the content for a read at off, producing it
// again when off is 0 or there is none yet.
//
// Preconditions: g.mu is locked.
func (g *genFile) snapshotLocked(off int64) ([]byte, error) {
	if off == 0 || !g.have {
		b, err := g.f.Content()
		if err != nil {
			return nil, err
		}
		g.data, g.have = b, true
	}
	return g.data, nil
}

func (g *genFile) Read(_ *vfs.File, dst []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n, err := g.readAtLocked(dst, g.off)
	g.off += int64(n)
	return n, err
}

func (g *genFile) PRead(_ *vfs.File, dst []byte, off int64) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.readAtLocked(dst, off)
}

// readAtLocked copies the content at off into dst.
//
// Preconditions: g.mu is locked.
func (g *genFile) readAtLocked(dst []byte, off int64) (int, error) {
	b, err := g.snapshotLocked(off)
	if err != nil {
		return 0, err
	}
	if off >= int64(len(b)) {
		return 0, nil
	}
	return copy(dst, b[off:]), nil
}

func (g *genFile) Write(_ *vfs.File, src []byte) (int, error) {
	if g.f.Write == nil {
		if g.f.WriteErr != 0 {
			return 0, g.f.WriteErr
		}
		return 0, unix.EIO
	}
	return g.f.Write(src)
}

func (g *genFile) PWrite(f *vfs.File, src []byte, _ int64) (int, error) { return g.Write(f, src) }

func (g *genFile) Seek(_ *vfs.File, off int64, whence int) (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	off, err := fsutil.Seek(g.off, off, whence)
	if err != nil {
		return 0, err
	}
	g.off = off
	return off, nil
}

func (g *genFile) Stat(*vfs.File) (unix.Stat_t, error)     { return g.f.Stat() }
func (g *genFile) Getdents(*vfs.File, []byte) (int, error) { return 0, unix.ENOTDIR }
func (g *genFile) HostFD() int                             { return -1 }
func (g *genFile) Release()                                {}
func (g *genFile) Ioctl(*vfs.File, uintptr, uintptr, vfs.IOContext) (uintptr, error) {
	return 0, unix.ENOTTY
}

// Symlink is a symbolic link: plain (Text) or magic (Follow).
type Symlink struct {
	Node
	// Text is a plain link's target.
	Text string
	// Follow, when set, computes the target for each caller (/proc/self)
	// or names an object (fd/N): see vfs.MagicLink.
	Follow func(c *vfs.Creds) (vfs.LinkTarget, error)
}

// NewSymlink returns a plain link at path pointing to text.
func NewSymlink(fs *FS, path, text string) *Symlink {
	return &Symlink{Node: Node{FS: fs, Path: path, Mode: unix.S_IFLNK | 0o777}, Text: text}
}

// Target implements vfs.MagicLink.
func (s *Symlink) Target(c *vfs.Creds) (vfs.LinkTarget, error) {
	if s.Follow == nil {
		return vfs.LinkTarget{Path: s.Text}, nil
	}
	return s.Follow(c)
}

// Lookup implements vfs.Inode.
func (s *Symlink) Lookup(string) (vfs.Inode, error) { return nil, unix.ENOTDIR }

// Readlink implements vfs.Inode. A magic link read without a caller
// shows what it shows everybody (proc's self then fails with ENOENT).
func (s *Symlink) Readlink() (string, error) {
	t, err := s.Target(nil)
	if err != nil {
		return "", err
	}
	if t.File != nil {
		t.File.DecRef()
	}
	return t.Path, nil
}

// Stat implements vfs.Inode: a plain link's size is its length; a magic
// link's is 0, as on Linux.
func (s *Symlink) Stat() (unix.Stat_t, error) {
	return s.stat(int64(len(s.Text)), 1, 0)
}

// Release implements vfs.Inode.
func (s *Symlink) Release() {}

// Open implements vfs.Inode: the VFS follows links before opening, so
// this is not reached.
func (s *Symlink) Open(int) (vfs.FileImpl, error) { return nil, unix.ELOOP }
