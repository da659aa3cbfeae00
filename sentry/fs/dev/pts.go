package dev

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"moat/sentry/fs/fsutil"
	"moat/sentry/fs/pseudo"
	"moat/sentry/kernel/tty"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Device numbers of the pty devices: /dev/ptmx is 5:2, slave N is
// 136+N/256:N%256 (UNIX98_PTY_SLAVE_MAJOR).
const (
	ptmxMajor, ptmxMinor = 5, 2
	ptsMajor             = 136
	// maxPTYs is /proc/sys/kernel/pty/max's default: opens beyond it
	// fail with ENOSPC.
	maxPTYs = 4096
)

// PtsOptions are devpts's mount options (mode=, ptmxmode=, uid=, gid=).
type PtsOptions struct {
	// Mode is the permission bits of new slaves (default 0600).
	Mode uint32
	// PtmxMode is /dev/pts/ptmx's (default 0000, as Linux's).
	PtmxMode uint32
	// UID and GID, when set, own new slaves; else the opener's fsuid
	// and fsgid do.
	UID, GID       uint32
	SetUID, SetGID bool
}

// ParsePtsOptions reads devpts mount options; unknown ones (newinstance,
// max=) are ignored, malformed numbers are an error.
func ParsePtsOptions(opts []string) (PtsOptions, error) {
	o := PtsOptions{Mode: 0o600}
	for _, opt := range opts {
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			continue
		}
		var base = 10
		if k == "mode" || k == "ptmxmode" {
			base = 8
		}
		n, err := strconv.ParseUint(v, base, 32)
		if err != nil {
			switch k {
			case "mode", "ptmxmode", "uid", "gid":
				return o, fmt.Errorf("devpts: option %q: %w", opt, err)
			}
			continue
		}
		switch k {
		case "mode":
			o.Mode = uint32(n) & 0o777
		case "ptmxmode":
			o.PtmxMode = uint32(n) & 0o777
		case "uid":
			o.UID, o.SetUID = uint32(n), true
		case "gid":
			o.GID, o.SetGID = uint32(n), true
		}
	}
	return o, nil
}

// Pts is one devpts instance (every mount is a new instance, as with
// Linux's newinstance): the ptmx node and the slaves of the pairs opened
// through it.
type Pts struct {
	fs   *pseudo.FS
	opts PtsOptions

	// mu guards ptys.
	mu   sync.Mutex
	ptys map[uint32]*ptsEntry
}

// ptsEntry is one pair and its slave's owner and mode.
type ptsEntry struct {
	pty      *tty.PTY
	uid, gid uint32
	mode     uint32
}

// NewPts returns a devpts instance with the mount's options.
func NewPts(opts []string) (vfs.FilesystemImpl, error) {
	o, err := ParsePtsOptions(opts)
	if err != nil {
		return nil, err
	}
	p := &Pts{opts: o, ptys: map[uint32]*ptsEntry{}}
	p.fs = pseudo.NewFS(func(fs *pseudo.FS) vfs.Inode {
		return &pseudo.Dir{
			Node:    pseudo.Node{FS: fs, Path: "/", Mode: unix.S_IFDIR | 0o755},
			Entries: p.entries,
		}
	})
	return p, nil
}

// Root implements vfs.FilesystemImpl.
func (p *Pts) Root() (vfs.Inode, error) { return p.fs.Root() }

// entries lists ptmx and the live slaves in index order.
func (p *Pts) entries() ([]pseudo.Entry, error) {
	p.mu.Lock()
	idx := make([]uint32, 0, len(p.ptys))
	for n := range p.ptys {
		idx = append(idx, n)
	}
	p.mu.Unlock()
	slices.Sort(idx)
	es := []pseudo.Entry{{Name: "ptmx", Type: unix.S_IFCHR, New: func() (vfs.Inode, error) { return &ptmxInode{p: p}, nil }}}
	for _, n := range idx {
		n := n
		es = append(es, pseudo.Entry{Name: strconv.FormatUint(uint64(n), 10), Type: unix.S_IFCHR,
			New: func() (vfs.Inode, error) { return p.slaveInode(n) }})
	}
	return es, nil
}

// slaveInode returns the inode of /dev/pts/n (ENOENT once its master is
// closed).
func (p *Pts) slaveInode(n uint32) (vfs.Inode, error) {
	if p.entry(n) == nil {
		return nil, unix.ENOENT
	}
	return &slaveInode{p: p, n: n}, nil
}

// entry returns pair n, or nil.
func (p *Pts) entry(n uint32) *ptsEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ptys[n]
}

// stat is the metadata of a devpts node: Linux numbers the root 1, ptmx
// 2 and slave N N+3.
func (p *Pts) stat(ino uint64, mode, uid, gid uint32, rdev uint64) unix.Stat_t {
	now := fsutil.Now()
	a := fsutil.Attr{Dev: p.fs.Dev(), Ino: ino, Nlink: 1, Rdev: rdev, Mode: mode, UID: uid, GID: gid,
		Blksize: 1024, Atime: now, Mtime: now, Ctime: now}
	return a.Stat()
}

// open makes a new pair for creds: the lowest free index, a slave owned
// by the opener (or the uid=/gid= options).
func (p *Pts) open(c *vfs.Creds) (vfs.FileImpl, error) {
	uid, gid := uint32(0), uint32(0)
	if c != nil {
		uid, gid = c.UID, c.GID
	}
	if p.opts.SetUID {
		uid = p.opts.UID
	}
	if p.opts.SetGID {
		gid = p.opts.GID
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	n := uint32(0)
	for ; p.ptys[n] != nil; n++ {
	}
	if n >= maxPTYs {
		return nil, unix.ENOSPC
	}
	e := &ptsEntry{uid: uid, gid: gid, mode: unix.S_IFCHR | p.opts.Mode}
	masterStat := func() (unix.Stat_t, error) {
		return p.stat(2, unix.S_IFCHR|p.opts.PtmxMode, 0, 0, unix.Mkdev(ptmxMajor, ptmxMinor)), nil
	}
	slaveStat := func() (unix.Stat_t, error) {
		return p.stat(uint64(n)+3, e.mode, e.uid, e.gid, unix.Mkdev(ptsMajor+n/256, n%256)), nil
	}
	pty, m := tty.NewPTY(n, masterStat, slaveStat, func() {
		p.mu.Lock()
		delete(p.ptys, n)
		p.mu.Unlock()
	})
	e.pty = pty
	p.ptys[n] = e
	return m, nil
}

// ptmxInode is /dev/pts/ptmx: each open makes a new pair.
type ptmxInode struct{ p *Pts }

// Attr implements vfs.Inode.
func (i *ptmxInode) Attr() vfs.InodeAttr {
	return vfs.InodeAttr{Mode: unix.S_IFCHR | i.p.opts.PtmxMode}
}

// Lookup implements vfs.Inode.
func (i *ptmxInode) Lookup(string) (vfs.Inode, error) { return nil, unix.ENOTDIR }

// Readlink implements vfs.Inode.
func (i *ptmxInode) Readlink() (string, error) { return "", unix.EINVAL }

// Open implements vfs.Inode for sentry-internal opens (no caller: the
// slave belongs to root).
func (i *ptmxInode) Open(int) (vfs.FileImpl, error) { return i.p.open(nil) }

// OpenInterruptible implements vfs.InterruptibleOpener: the VFS passes
// the opening task, whose credentials own the new slave.
func (i *ptmxInode) OpenInterruptible(_ int, in vfs.Interruptible) (vfs.FileImpl, error) {
	if c, ok := in.(interface{ VFSCreds() *vfs.Creds }); ok {
		return i.p.open(c.VFSCreds())
	}
	return i.p.open(nil)
}

// Stat implements vfs.Inode.
func (i *ptmxInode) Stat() (unix.Stat_t, error) {
	return i.p.stat(2, unix.S_IFCHR|i.p.opts.PtmxMode, 0, 0, unix.Mkdev(ptmxMajor, ptmxMinor)), nil
}

// Release implements vfs.Inode.
func (i *ptmxInode) Release() {}

// slaveInode is /dev/pts/N. The VFS keeps its dentry, while the pair
// behind the number comes and goes: each use looks the pair up again.
type slaveInode struct {
	p *Pts
	n uint32
}

// Attr implements vfs.Inode (a closed pair's node keeps the type only).
func (i *slaveInode) Attr() vfs.InodeAttr {
	e := i.p.entry(i.n)
	if e == nil {
		return vfs.InodeAttr{Mode: unix.S_IFCHR}
	}
	return vfs.InodeAttr{Mode: e.mode, UID: e.uid, GID: e.gid}
}

// Lookup implements vfs.Inode.
func (i *slaveInode) Lookup(string) (vfs.Inode, error) { return nil, unix.ENOTDIR }

// Readlink implements vfs.Inode.
func (i *slaveInode) Readlink() (string, error) { return "", unix.EINVAL }

// Open implements vfs.Inode: EIO while the pair is locked or its
// master closed.
func (i *slaveInode) Open(int) (vfs.FileImpl, error) {
	e := i.p.entry(i.n)
	if e == nil {
		return nil, unix.ENOENT
	}
	return e.pty.OpenSlave()
}

// Stat implements vfs.Inode.
func (i *slaveInode) Stat() (unix.Stat_t, error) {
	e := i.p.entry(i.n)
	if e == nil {
		return unix.Stat_t{}, unix.ENOENT
	}
	return i.p.stat(uint64(i.n)+3, e.mode, e.uid, e.gid, unix.Mkdev(ptsMajor+i.n/256, i.n%256)), nil
}

// Release implements vfs.Inode.
func (i *slaveInode) Release() {}
