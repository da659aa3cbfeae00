// Package tmpfs is the sentry's in-memory file system: directories,
// regular files whose data lives in a host memfd each (so the memory
// manager can map them), symlinks, device nodes, FIFOs and sockets, hard
// links, ownership, permissions and times, with the size= and
// nr_inodes= limits of Linux's tmpfs. It is mounted for the spec's tmpfs
// mounts and /dev/shm, and is the upper layer of sentry/fs/overlay.
package tmpfs

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"moat/sentry/fs/fsutil"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Magic is TMPFS_MAGIC, statfs's f_type for a tmpfs.
const Magic = 0x01021994

// pageSize is the unit tmpfs charges data in and reports as f_bsize.
const pageSize = 4096

// DeviceOpener opens the device node of type mode (S_IFCHR or S_IFBLK)
// and number rdev: the sandbox's device drivers (sentry/fs/dev). Nodes
// for which it has no driver fail with ENXIO, as in Linux.
type DeviceOpener interface {
	OpenDevice(mode uint32, rdev uint64, flags int) (vfs.FileImpl, error)
}

// Options are a tmpfs mount's options.
type Options struct {
	// Size limits the data held, in bytes (rounded up to pages); 0 means
	// Linux's default, half of the host's memory.
	Size int64
	// NrInodes limits the number of inodes; 0 means the default, one per
	// two pages of host memory.
	NrInodes int64
	// Mode, UID and GID are the root directory's; Mode 0 means 01777.
	Mode     uint32
	UID, GID uint32
	// NoDev makes device nodes fail to open with EACCES.
	NoDev bool
	// Devices opens device nodes; nil leaves them unopenable (ENXIO).
	Devices DeviceOpener
}

// ParseOptions reads the tmpfs-specific options of a mount's option list
// (size=, nr_inodes=, mode=, uid=, gid=) and ignores the rest, which are
// the mount's generic flags (ro, nosuid, nodev, ...) or ones tmpfs does
// not need (strictatime, nr_blocks is folded into size).
func ParseOptions(opts []string) (Options, error) {
	var o Options
	for _, opt := range opts {
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			continue
		}
		var err error
		switch k {
		case "size":
			o.Size, err = parseSize(v, true)
		case "nr_blocks":
			var n int64
			n, err = parseSize(v, false)
			o.Size = n * pageSize
		case "nr_inodes":
			o.NrInodes, err = parseSize(v, false)
		case "mode":
			var m uint64
			m, err = strconv.ParseUint(v, 8, 32)
			if err == nil && m > 0o7777 {
				err = fmt.Errorf("out of range")
			}
			o.Mode = uint32(m)
		case "uid", "gid":
			var n uint64
			n, err = strconv.ParseUint(v, 10, 32)
			if k == "uid" {
				o.UID = uint32(n)
			} else {
				o.GID = uint32(n)
			}
		}
		if err != nil {
			return Options{}, fmt.Errorf("tmpfs option %q: %w", opt, err)
		}
	}
	return o, nil
}

// parseSize reads a number with an optional k/m/g/t/p/e suffix (and, for
// size=, a % of host memory).
func parseSize(s string, percentOK bool) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty value")
	}
	mult := int64(1)
	switch suf := s[len(s)-1]; suf {
	case 'k', 'K':
		mult = 1 << 10
	case 'm', 'M':
		mult = 1 << 20
	case 'g', 'G':
		mult = 1 << 30
	case 't', 'T':
		mult = 1 << 40
	case 'p', 'P':
		mult = 1 << 50
	case 'e', 'E':
		mult = 1 << 60
	case '%':
		if !percentOK {
			return 0, fmt.Errorf("%% not allowed here")
		}
		n, err := strconv.ParseUint(s[:len(s)-1], 10, 32)
		if err != nil {
			return 0, err
		}
		return int64(hostMemory() / 100 * n), nil
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("out of range")
	}
	return n * mult, nil
}

// hostMemory returns the host's RAM in bytes (0 if sysinfo fails).
func hostMemory() uint64 {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return 0
	}
	u := uint64(si.Unit)
	if u == 0 {
		u = 1
	}
	return uint64(si.Totalram) * u
}

// Filesystem is one tmpfs instance.
type Filesystem struct {
	opts Options
	dev  uint64
	// maxBytes and maxInodes are the limits with defaults applied.
	maxBytes, maxInodes int64

	// mu guards the usage counters below and every mutable field of
	// every Inode of this file system (metadata and directory
	// contents): one lock per file system keeps rename and link, which
	// touch several inodes, simple. Data I/O on a memfd runs without it.
	mu      sync.Mutex
	nextIno uint64
	inodes  int64
	bytes   int64
	root    *Inode
}

// New makes an empty tmpfs whose root directory has opts' mode and owner.
func New(opts Options) *Filesystem {
	fs := &Filesystem{opts: opts, dev: fsutil.NewAnonDev(), maxBytes: opts.Size, maxInodes: opts.NrInodes}
	mem := int64(hostMemory())
	if fs.maxBytes == 0 {
		fs.maxBytes = mem / 2
	}
	if fs.maxInodes == 0 {
		fs.maxInodes = mem / pageSize / 2
	}
	if fs.maxBytes <= 0 {
		fs.maxBytes = 1 << 62
	}
	if fs.maxInodes <= 0 {
		fs.maxInodes = 1 << 62
	}
	mode := opts.Mode
	if mode == 0 {
		mode = 0o1777
	}
	fs.mu.Lock()
	// The root is made without the inode limit: a mount always has one.
	fs.root = fs.newInodeLocked(unix.S_IFDIR|mode, opts.UID, opts.GID)
	fs.root.parent = fs.root
	fs.mu.Unlock()
	return fs
}

// NewNode returns a file system of one inode, its root, of the given
// mode and device number: a device node mounted over a file, as runc
// binds /dev/null over a masked one (opts.Devices opens it).
func NewNode(opts Options, mode uint32, rdev uint64) *Filesystem {
	fs := New(opts)
	fs.mu.Lock()
	fs.root = fs.newInodeLocked(mode, opts.UID, opts.GID)
	fs.root.rdev = rdev
	fs.mu.Unlock()
	return fs
}

// Root returns the root directory.
func (fs *Filesystem) Root() (vfs.Inode, error) { return fs.root, nil }

// RootInode returns the root directory as a tmpfs inode.
func (fs *Filesystem) RootInode() *Inode { return fs.root }

// Dev returns the file system's device number (st_dev).
func (fs *Filesystem) Dev() uint64 { return fs.dev }

// Statfs reports the file system's size and use as statfs(2) does.
func (fs *Filesystem) Statfs() unix.Statfs_t {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	blocks := uint64(fs.maxBytes / pageSize)
	used := uint64((fs.bytes + pageSize - 1) / pageSize)
	free := uint64(0)
	if used < blocks {
		free = blocks - used
	}
	ffree := uint64(0)
	if fs.inodes < fs.maxInodes {
		ffree = uint64(fs.maxInodes - fs.inodes)
	}
	st := unix.Statfs_t{
		Type: Magic, Bsize: pageSize, Frsize: pageSize, Namelen: vfs.NameMax,
		Blocks: blocks, Bfree: free, Bavail: free,
		Files: uint64(fs.maxInodes), Ffree: ffree,
	}
	st.Fsid.Val[0] = int32(fs.dev)
	return st
}

// newInodeLocked makes an inode with one link's worth of bookkeeping
// (nlink is the caller's business).
//
// Preconditions: fs.mu is locked.
func (fs *Filesystem) newInodeLocked(mode, uid, gid uint32) *Inode {
	fs.nextIno++
	fs.inodes++
	now := fsutil.Now()
	i := &Inode{fs: fs, ino: fs.nextIno, typ: mode & unix.S_IFMT, mode: mode, uid: uid, gid: gid, atime: now, mtime: now, ctime: now, memfd: -1, seals: sealSeal}
	if mode&unix.S_IFMT == unix.S_IFDIR {
		i.nlink = 2
		i.children = map[string]*child{}
		i.nextCookie = firstCookie
	} else {
		i.nlink = 1
	}
	return i
}

// charge reserves n more bytes (whole pages) of data; ENOSPC over the
// limit.
//
// Preconditions: fs.mu is locked.
func (fs *Filesystem) charge(n int64) error {
	if n <= 0 {
		fs.bytes += n
		return nil
	}
	if fs.bytes+n > fs.maxBytes {
		return unix.ENOSPC
	}
	fs.bytes += n
	return nil
}

// room returns how many bytes may still be charged.
//
// Preconditions: fs.mu is locked.
func (fs *Filesystem) room() int64 { return fs.maxBytes - fs.bytes }
