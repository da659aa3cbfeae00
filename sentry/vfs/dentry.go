package vfs

import (
	"sync"

	"golang.org/x/sys/unix"
)

// Dentry is one cached name in a file system: its name, its parent and
// the inode it resolves to. Dentries are positive only (a name that does
// not exist is not cached) and, in this issue, are never evicted: the
// cache grows with the set of names the sandbox has looked up.
type Dentry struct {
	// name and parent never change (there is no rename yet). The root of
	// a file system has a nil parent.
	name   string
	parent *Dentry
	inode  Inode
	// attr is inode.Attr() at the time of lookup: the file type never
	// changes, and permissions are taken as of the lookup.
	attr InodeAttr

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
