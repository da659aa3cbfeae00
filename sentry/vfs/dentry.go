package vfs

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Dentry is one cached name in a file system: its name, its parent and
// the inode it resolves to. Dentries are positive only (a name that does
// not exist is not cached). They are never evicted while their name
// exists: the cache grows with the set of names the sandbox has looked
// up; unlink and rename take names out of it (see vfs_write.go).
type Dentry struct {
	// name and parent change only by rename, under VFS.renameMu (write);
	// code that follows parents (.., getcwd) holds it for reading. The
	// root of a file system has a nil parent.
	name   string
	parent *Dentry
	inode  Inode
	// attr is inode.Attr() at the time of lookup. The file type never
	// changes; mode and owner may, by chmod and chown through the VFS,
	// which store the new ones in changed: attrs() is the current view.
	attr    InodeAttr
	changed atomic.Pointer[InodeAttr]

	// mu guards children.
	mu       sync.Mutex
	children map[string]*Dentry
}

func newDentry(parent *Dentry, name string, i Inode) *Dentry {
	return &Dentry{name: name, parent: parent, inode: i, attr: i.Attr()}
}

// Name returns the dentry's name in its parent ("/" for a root).
func (d *Dentry) Name() string { return d.name }

// Inode returns the file system's inode behind d.
func (d *Dentry) Inode() Inode { return d.inode }

func (d *Dentry) isDir() bool     { return d.attr.Mode&unix.S_IFMT == unix.S_IFDIR }
func (d *Dentry) isSymlink() bool { return d.attr.Mode&unix.S_IFMT == unix.S_IFLNK }

// child returns d's child called name, from the cache or by asking the
// file system. The file system is called without d.mu held, so a slow
// lookup does not block lookups of other names in d; if two lookups race,
// the first inserted wins and the other inode is released.
//
// Preconditions: d is a directory; name is a single valid component.
func (d *Dentry) child(name string) (*Dentry, error) {
	d.mu.Lock()
	c, ok := d.children[name]
	d.mu.Unlock()
	if ok {
		return c, nil
	}
	i, err := d.inode.Lookup(name)
	if err != nil {
		return nil, err
	}
	nc := newDentry(d, name, i)
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.children[name]; ok {
		i.Release()
		return c, nil
	}
	if d.children == nil {
		d.children = map[string]*Dentry{}
	}
	d.children[name] = nc
	return nc, nil
}

// attrs returns the inode's type, mode and owner as last known: as of
// the lookup, or of the last chmod/chown through the VFS.
func (d *Dentry) attrs() InodeAttr {
	if a := d.changed.Load(); a != nil {
		return *a
	}
	return d.attr
}

// refreshAttrs takes the inode's current type, mode and owner.
func (d *Dentry) refreshAttrs() {
	a := d.inode.Attr()
	d.changed.Store(&a)
}

// cached returns d's cached child name, or nil.
func (d *Dentry) cached(name string) *Dentry {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.children[name]
}

// insert caches c as d's child called name, replacing what was there.
func (d *Dentry) insert(name string, c *Dentry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.children == nil {
		d.children = map[string]*Dentry{}
	}
	d.children[name] = c
}

// forget drops d's child name from the cache if it is c (or any child
// when c is nil).
func (d *Dentry) forget(name string, c *Dentry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if cur, ok := d.children[name]; ok && (c == nil || cur == c) {
		delete(d.children, name)
	}
}
