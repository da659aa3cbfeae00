package overlay

import (
	"moat/sentry/fs/tmpfs"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// node is one file of the overlay. Once looked up it stays (the VFS
// never evicts dentries, and a node is the identity copy-up hangs on):
// parent.children keeps it until its name goes away.
type node struct {
	fs  *Filesystem
	typ uint32 // S_IFMT, never changes

	// Guarded by fs.mu. upper is nil until the file is copied up (or
	// when it was made in the upper layer, lower is nil). A directory
	// with both is merged unless upper is opaque.
	parent *node
	name   string
	upper  *tmpfs.Inode
	lower  vfs.Inode
	// lowerIno, lowerSize and lowerBlocks are the lower file's, read
	// once (statted): the overlay reports them for a copied-up file
	// (inode number) and directory (size), also after the file moved
	// away from its lower name (rename) or got another name (link).
	lowerIno, lowerSize, lowerBlocks int64
	statted                          bool
	children                         map[string]*node
	// nlinkBias is what a merged directory's link count adds to its
	// upper directory's: the lower subdirectories not yet copied up.
	nlinkBias int64
}

func (n *node) isDir() bool { return n.typ == unix.S_IFDIR }

// layers returns the node's layers under the lock.
func (n *node) layers() (*tmpfs.Inode, vfs.Inode) {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	return n.upper, n.lower
}

// Attr implements vfs.Inode.
func (n *node) Attr() vfs.InodeAttr {
	u, l := n.layers()
	if u != nil {
		return u.Attr()
	}
	return l.Attr()
}

// Readlink implements vfs.Inode.
func (n *node) Readlink() (string, error) {
	u, l := n.layers()
	if u != nil {
		return u.Readlink()
	}
	return l.Readlink()
}

// Release implements vfs.Inode: nodes live as long as their name.
func (n *node) Release() {}

// Lookup implements vfs.Inode: the upper name wins; a whiteout hides
// the lower one; an upper directory over a lower one merges with it
// unless it is opaque.
func (n *node) Lookup(name string) (vfs.Inode, error) {
	fs := n.fs
	fs.mu.Lock()
	if c, ok := n.children[name]; ok {
		fs.mu.Unlock()
		return c, nil
	}
	u, l := n.upper, n.lower
	fs.mu.Unlock()

	var cu *tmpfs.Inode
	wantLower := l != nil
	if u != nil {
		ui, err := u.LookupRaw(name)
		switch {
		case err == nil && ui.IsWhiteout():
			return nil, unix.ENOENT
		case err == nil:
			cu = ui
			wantLower = wantLower && ui.IsDir() && !ui.Opaque() && !u.Opaque()
		case err != unix.ENOENT:
			return nil, err
		default:
			wantLower = wantLower && !u.Opaque()
		}
	}
	var cl vfs.Inode
	if wantLower {
		li, err := l.Lookup(name)
		switch {
		case err == nil && cu != nil && li.Attr().Mode&unix.S_IFMT != unix.S_IFDIR:
			// An upper directory over a lower non-directory does
			// not merge.
			li.Release()
		case err == nil:
			cl = li
		case err != unix.ENOENT || cu == nil:
			return nil, err
		}
	}
	if cu == nil && cl == nil {
		return nil, unix.ENOENT
	}
	c := &node{fs: fs, parent: n, name: name, upper: cu, lower: cl}
	if cu != nil {
		c.typ = cu.Attr().Mode & unix.S_IFMT
	} else {
		c.typ = cl.Attr().Mode & unix.S_IFMT
	}

	fs.mu.Lock()
	defer fs.mu.Unlock()
	if old, ok := n.children[name]; ok {
		// A racing lookup (or a create) got there first.
		if cl != nil {
			cl.Release()
		}
		return old, nil
	}
	if n.children == nil {
		n.children = map[string]*node{}
	}
	n.children[name] = c
	return c, nil
}

// lowerStatLocked reads the lower file's numbers once.
//
// Preconditions: fs.mu is locked; n.lower is not nil.
func (n *node) lowerStatLocked() error {
	if n.statted || n.lower == nil {
		return nil
	}
	st, err := n.lower.Stat()
	if err != nil {
		return err
	}
	n.lowerIno, n.lowerSize, n.lowerBlocks = int64(st.Ino), st.Size, st.Blocks
	n.statted = true
	return nil
}

// inoLocked is the inode number of a file with an upper inode whose
// own number is upperIno.
//
// Preconditions: fs.mu is locked; lowerStatLocked has run.
func (n *node) inoLocked(upperIno uint64) uint64 {
	if n.statted {
		return uint64(n.lowerIno)
	}
	return upperIno + upperInoBase
}

// Stat implements vfs.Inode. Every file reports the overlay's device;
// a file keeps its lower inode number after a copy-up.
func (n *node) Stat() (unix.Stat_t, error) {
	fs := n.fs
	fs.mu.Lock()
	u, l := n.upper, n.lower
	if u == nil {
		fs.mu.Unlock()
		st, err := l.Stat()
		if err != nil {
			return st, err
		}
		st.Dev = fs.dev
		return st, nil
	}
	a := u.FSAttr()
	a.Dev = fs.dev
	if err := n.lowerStatLocked(); err != nil {
		fs.mu.Unlock()
		return unix.Stat_t{}, err
	}
	a.Ino = n.inoLocked(a.Ino)
	if n.isDir() {
		a.Nlink = uint64(int64(a.Nlink) + n.nlinkBias)
		a.Size, a.Blocks = newDirSize, newDirBlocks
		if n.statted {
			a.Size, a.Blocks = n.lowerSize, n.lowerBlocks
		}
	}
	fs.mu.Unlock()
	return a.Stat(), nil
}

// Open implements vfs.Inode. Opening a lower regular file for writing
// copies it up first; a directory lists the merged view. Regular files
// and directories report the overlay's stat (device, inode number), so
// fstat agrees with stat, as cp and tar check.
func (n *node) Open(flags int) (vfs.FileImpl, error) {
	trunc := flags&unix.O_TRUNC != 0
	write := flags&unix.O_ACCMODE != unix.O_RDONLY
	if (write || trunc) && n.typ == unix.S_IFREG {
		// O_TRUNC is about to drop the data: do not copy it.
		if err := n.copyUp(trunc); err != nil {
			return nil, err
		}
	}
	if n.isDir() {
		return &dirFile{n: n}, nil
	}
	u, l := n.layers()
	var (
		impl vfs.FileImpl
		err  error
	)
	if u != nil {
		impl, err = u.Open(flags)
	} else {
		impl, err = l.Open(flags)
	}
	if err != nil || n.typ != unix.S_IFREG {
		return impl, err
	}
	return &file{FileImpl: impl, n: n}, nil
}

// OpenInterruptible opens a FIFO (or anything else) on behalf of the
// task in, which may give up waiting for the other end of a FIFO.
func (n *node) OpenInterruptible(flags int, in vfs.Interruptible) (vfs.FileImpl, error) {
	if n.typ != unix.S_IFIFO {
		return n.Open(flags)
	}
	// The FIFO's pipe lives in the upper inode: a lower FIFO is copied
	// up on first open so every opener meets the same pipe.
	if err := n.copyUp(false); err != nil {
		return nil, err
	}
	u, _ := n.layers()
	return u.OpenInterruptible(flags, in)
}
