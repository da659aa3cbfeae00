package proc

import (
	"strconv"
	"sync"

	"moat/sentry/fs/pseudo"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// New returns a proc file system over src, to be mounted at /proc.
func New(src Source) vfs.FilesystemImpl {
	p := &procFS{src: src, cpuinfo: readHostCPUInfo()}
	p.fs = pseudo.NewFS(p.root)
	return p.fs
}

// procFS is one proc instance.
type procFS struct {
	fs  *pseudo.FS
	src Source
	// cpuinfo is the host's /proc/cpuinfo read when the file system was
	// made (before the sentry's pivot), or generated when unreadable.
	cpuinfo []byte

	// bootOnce makes boot, the sandbox's random boot_id.
	bootOnce sync.Once
	boot     string
}

const (
	modeDir  = unix.S_IFDIR | 0o555
	modeFile = unix.S_IFREG | 0o444
)

func (p *procFS) dir(path string, mode uint32, entries func() ([]pseudo.Entry, error)) *pseudo.Dir {
	return &pseudo.Dir{Node: pseudo.Node{FS: p.fs, Path: path, Mode: mode}, Entries: entries}
}

// file returns an entry for a global read-only file (writes: EIO).
func (p *procFS) file(dir, name string, content func() ([]byte, error)) pseudo.Entry {
	path := pseudo.Child(dir, name)
	return pseudo.Entry{Name: name, Type: unix.S_IFREG, New: func() (vfs.Inode, error) {
		return &pseudo.File{Node: pseudo.Node{FS: p.fs, Path: path, Mode: modeFile}, Content: content}, nil
	}}
}

// sysctl returns an entry for a /proc/sys file: read-only here, and
// opening it for writing fails with EACCES as sysctl's own check does.
func (p *procFS) sysctl(dir, name string, content func() ([]byte, error)) pseudo.Entry {
	path := pseudo.Child(dir, name)
	return pseudo.Entry{Name: name, Type: unix.S_IFREG, New: func() (vfs.Inode, error) {
		return &pseudo.File{Node: pseudo.Node{FS: p.fs, Path: path, Mode: modeFile}, Content: content, NoWriteOpen: true}, nil
	}}
}

func (p *procFS) subdir(dir, name string, entries func(path string) []pseudo.Entry) pseudo.Entry {
	path := pseudo.Child(dir, name)
	return pseudo.Entry{Name: name, Type: unix.S_IFDIR, New: func() (vfs.Inode, error) {
		return p.dir(path, modeDir, func() ([]pseudo.Entry, error) { return entries(path), nil }), nil
	}}
}

func (p *procFS) link(dir, name string, follow func(c *vfs.Creds) (vfs.LinkTarget, error)) pseudo.Entry {
	path := pseudo.Child(dir, name)
	return pseudo.Entry{Name: name, Type: unix.S_IFLNK, New: func() (vfs.Inode, error) {
		s := pseudo.NewSymlink(p.fs, path, "")
		s.Follow = follow
		return s, nil
	}}
}

func static(s string) func() ([]byte, error) {
	return func() ([]byte, error) { return []byte(s), nil }
}

// root makes /proc.
func (p *procFS) root(fs *pseudo.FS) vfs.Inode {
	p.fs = fs
	return p.dir("/", modeDir, func() ([]pseudo.Entry, error) {
		es := []pseudo.Entry{
			p.link("/", "self", func(c *vfs.Creds) (vfs.LinkTarget, error) {
				pid, _, ok := p.src.Caller(c)
				if !ok {
					return vfs.LinkTarget{}, unix.ENOENT
				}
				return vfs.LinkTarget{Path: strconv.Itoa(int(pid))}, nil
			}),
			p.link("/", "thread-self", func(c *vfs.Creds) (vfs.LinkTarget, error) {
				pid, tid, ok := p.src.Caller(c)
				if !ok {
					return vfs.LinkTarget{}, unix.ENOENT
				}
				return vfs.LinkTarget{Path: strconv.Itoa(int(pid)) + "/task/" + strconv.Itoa(int(tid))}, nil
			}),
			{Name: "mounts", Type: unix.S_IFLNK, New: func() (vfs.Inode, error) {
				return pseudo.NewSymlink(p.fs, "/mounts", "self/mounts"), nil
			}},
			p.file("/", "cmdline", static("moat\n")),
			p.file("/", "cpuinfo", func() ([]byte, error) { return p.cpuinfo, nil }),
			p.file("/", "filesystems", static(filesystems)),
			p.file("/", "loadavg", p.loadavg),
			p.file("/", "meminfo", p.meminfo),
			p.file("/", "stat", p.stat),
			p.file("/", "uptime", p.uptime),
			p.file("/", "version", static(versionLine)),
			p.subdir("/", "sys", p.sysEntries),
			p.subdir("/", "sysvipc", p.sysvipcEntries),
		}
		for _, pid := range p.src.PIDs() {
			es = append(es, p.pidEntry("/", pid, pid, true))
		}
		return es, nil
	})
}
