// Package goferfs is the file system served by a gofer: regular files,
// directories and symlinks whose path operations (walk, stat, readlink,
// open, and the writes of write.go) cross the gofer socket and whose
// data is read and written straight through the host descriptor the
// gofer hands back. One Filesystem is the root (New) or one bind mount
// (NewBind).
package goferfs

import (
	"errors"
	"fmt"
	"os"
	"sync"

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

// Filesystem is one gofer-served tree: the root, or one bind mount.
type Filesystem struct {
	r Remote
	// dest is the bind mount's destination, "" for the root.
	dest string
	// devices opens the tree's device nodes; nil leaves the tree nodev.
	// Set before the first Open, never changed after.
	devices DeviceOpener
	// fifos are the sentry-side pipes of the tree's FIFOs.
	fifos fifoTable
}

// DeviceOpener opens a device node of type mode (S_IFCHR or S_IFBLK) and
// number rdev in the sentry: the sandbox's drivers (sentry/fs/dev). The
// node on the host is never opened.
type DeviceOpener interface {
	OpenDevice(mode uint32, rdev uint64, flags int) (vfs.FileImpl, error)
}

// SetDevices makes the tree's device nodes open through d, as a bundle
// rootfs with real /dev/null and friends (and no /dev mount) needs. It
// must be called before the file system is mounted; it returns fs.
func (fs *Filesystem) SetDevices(d DeviceOpener) *Filesystem {
	fs.devices = d
	return fs
}

// New returns the file system of the gofer's root, served through r.
func New(r Remote) *Filesystem { return &Filesystem{r: r} }

// NewBind returns the file system of the gofer's bind mount for dest
// (the destination as config.json names it and the gofer's --mount flag
// gave it). r must also implement WritableRemote (*gofer.Client does).
func NewBind(r Remote, dest string) *Filesystem { return &Filesystem{r: r, dest: dest} }

// Root attaches to the served tree.
func (fs *Filesystem) Root() (vfs.Inode, error) {
	var fid gofer.FID
	var a gofer.Attr
	var err error
	if fs.dest == "" {
		fid, a, err = fs.r.Attach()
	} else if w, ok := fs.r.(WritableRemote); ok {
		fid, a, err = w.AttachMount(fs.dest)
	} else {
		err = errors.New("remote cannot attach bind mounts")
	}
	if err != nil {
		return nil, fmt.Errorf("goferfs: attach %q: %w", fs.dest, err)
	}
	return &inode{fs: fs, fid: fid, attr: a}, nil
}

// inode is one file the gofer holds for us (by FID).
type inode struct {
	fs  *Filesystem
	fid gofer.FID

	// mu guards attr, which chmod and chown through the VFS refresh.
	mu   sync.Mutex
	attr gofer.Attr
}

// cachedAttr returns the attributes as last known.
func (i *inode) cachedAttr() gofer.Attr {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.attr
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
	a := i.cachedAttr()
	return vfs.InodeAttr{Mode: a.Mode, UID: a.UID, GID: a.GID}
}

func (i *inode) Lookup(name string) (vfs.Inode, error) {
	fid, a, err := i.fs.r.Walk(i.fid, name)
	if err != nil {
		return nil, errno(err)
	}
	return &inode{fs: i.fs, fid: fid, attr: a}, nil
}

func (i *inode) Readlink() (string, error) {
	if i.cachedAttr().Mode&unix.S_IFMT != unix.S_IFLNK {
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

// Open asks the gofer for a host descriptor. Device nodes open in the
// sentry's drivers by number (SetDevices), never on the host; without
// drivers the tree is nodev and they fail with EACCES as on a nodev
// mount. FIFOs open a pipe in the sentry (fifo.go); sockets fail with
// ENXIO (opening them could reach a host service).
func (i *inode) Open(flags int) (vfs.FileImpl, error) {
	a := i.cachedAttr()
	mode := a.Mode
	switch mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR:
	case unix.S_IFCHR, unix.S_IFBLK:
		if i.fs.devices == nil {
			return nil, unix.EACCES
		}
		return i.fs.devices.OpenDevice(mode, a.Rdev, flags)
	case unix.S_IFIFO:
		return i.openFIFO(flags, nil)
	default:
		return nil, unix.ENXIO
	}
	// O_APPEND goes to the host description, which then appends for
	// us; O_TRUNC truncates as the gofer opens.
	hf, err := i.fs.r.Open(i.fid, flags&(unix.O_ACCMODE|unix.O_NONBLOCK|unix.O_DIRECTORY|unix.O_APPEND|unix.O_TRUNC))
	if err != nil {
		return nil, errno(err)
	}
	return newFileImpl(hf, mode), nil
}

// newFileImpl wraps a host descriptor of a file of type mode.
func newFileImpl(hf *os.File, mode uint32) vfs.FileImpl {
	if mode&unix.S_IFMT == unix.S_IFDIR {
		return &dirFile{hostFile{f: hf, fd: int(hf.Fd())}}
	}
	return &regularFile{hostFile{f: hf, fd: int(hf.Fd())}}
}

func (i *inode) Release() {
	// A failed clunk leaks one gofer descriptor until the gofer exits;
	// nothing the application did can be answered with it.
	_ = i.fs.r.Clunk(i.fid)
}
