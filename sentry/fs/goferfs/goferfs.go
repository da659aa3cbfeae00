// Package goferfs is the file system served by a gofer: regular files,
// directories and symlinks whose path operations (walk, stat, readlink,
// open) cross the gofer socket and whose data is read straight from the
// host descriptor the gofer hands back.
package goferfs

import (
	"errors"
	"fmt"
	"os"

	"moat/gofer"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Remote is the part of the gofer client the file system uses;
// *gofer.Client satisfies it, and tests use a fake.
type Remote interface {
	Attach() (gofer.FID, gofer.Attr, error)
	Walk(dir gofer.FID, name string) (gofer.FID, gofer.Attr, error)
	Stat(f gofer.FID) (gofer.Attr, error)
	Readlink(f gofer.FID) (string, error)
	Open(f gofer.FID, flags int) (*os.File, error)
	Clunk(f gofer.FID) error
}

// Filesystem is one gofer-served tree.
type Filesystem struct {
	r Remote
}

// New returns the file system served through r.
func New(r Remote) *Filesystem { return &Filesystem{r: r} }

// Root attaches to the served tree.
func (fs *Filesystem) Root() (vfs.Inode, error) {
	fid, a, err := fs.r.Attach()
	if err != nil {
		return nil, fmt.Errorf("goferfs: attach: %w", err)
	}
	return &inode{fs: fs, fid: fid, attr: a}, nil
}

// inode is one file the gofer holds for us (by FID).
type inode struct {
	fs   *Filesystem
	fid  gofer.FID
	attr gofer.Attr
}

// errno turns a gofer error into what the application sees: the gofer's
// errno when it sent one, EIO when the connection itself failed.
func errno(err error) error {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return unix.EIO
}

func (i *inode) Attr() vfs.InodeAttr {
	return vfs.InodeAttr{Mode: i.attr.Mode, UID: i.attr.UID, GID: i.attr.GID}
}

func (i *inode) Lookup(name string) (vfs.Inode, error) {
	fid, a, err := i.fs.r.Walk(i.fid, name)
	if err != nil {
		return nil, errno(err)
	}
	return &inode{fs: i.fs, fid: fid, attr: a}, nil
}

func (i *inode) Readlink() (string, error) {
	if i.attr.Mode&unix.S_IFMT != unix.S_IFLNK {
		return "", unix.EINVAL
	}
	s, err := i.fs.r.Readlink(i.fid)
	if err != nil {
		return "", errno(err)
	}
	return s, nil
}

func (i *inode) Stat() (unix.Stat_t, error) {
	a, err := i.fs.r.Stat(i.fid)
	if err != nil {
		return unix.Stat_t{}, errno(err)
	}
	return attrToStat(&a), nil
}

// Open asks the gofer for a host descriptor. The tree is mounted nodev:
// device nodes fail with EACCES as on a nodev mount, and fifos and
// sockets with ENXIO (opening them could block the gofer or reach a host
// service).
func (i *inode) Open(flags int) (vfs.FileImpl, error) {
	switch i.attr.Mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR:
	case unix.S_IFCHR, unix.S_IFBLK:
		return nil, unix.EACCES
	default:
		return nil, unix.ENXIO
	}
	// O_APPEND stays in the vfs.File only: the gofer refuses it as a
	// write flag, and the data it serves is read-only anyway.
	hf, err := i.fs.r.Open(i.fid, flags&(unix.O_ACCMODE|unix.O_NONBLOCK|unix.O_DIRECTORY))
	if err != nil {
		return nil, errno(err)
	}
	if i.attr.Mode&unix.S_IFMT == unix.S_IFDIR {
		return &dirFile{hostFile{f: hf, fd: int(hf.Fd())}}, nil
	}
	return &regularFile{hostFile{f: hf, fd: int(hf.Fd())}}, nil
}

func (i *inode) Release() {
	// A failed clunk leaks one gofer descriptor until the gofer exits;
	// nothing the application did can be answered with it.
	_ = i.fs.r.Clunk(i.fid)
}
