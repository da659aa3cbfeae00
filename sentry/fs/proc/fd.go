package proc

import (
	"fmt"
	"strconv"
	"strings"

	"moat/sentry/fs/pseudo"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// LinkNamer is implemented by a FileImpl with no place in the tree that
// names itself in /proc/[pid]/fd (an eventfd: "anon_inode:[eventfd]").
// Files without it are named from their type: pipe:[ino], socket:[ino].
type LinkNamer interface {
	ProcLinkName() string
}

// origin is implemented by a file reopened through an fd link: the
// link then describes the file it was opened from.
type origin interface {
	Origin() *vfs.File
}

// fdDir is fd/ (info false: magic links) or fdinfo/ (info true).
func (p *procFS) fdDir(dir string, t taskRef, info bool) pseudo.Entry {
	name, mode := "fd", uint32(unix.S_IFDIR|0o500)
	if info {
		name, mode = "fdinfo", modeDir
	}
	path := pseudo.Child(dir, name)
	return pseudo.Entry{Name: name, Type: unix.S_IFDIR, New: func() (vfs.Inode, error) {
		d := p.dir(path, mode, func() ([]pseudo.Entry, error) {
			th, ok := t.get()
			if !ok {
				return nil, unix.ENOENT
			}
			fds := th.FDs()
			es := make([]pseudo.Entry, 0, len(fds))
			for _, fd := range fds {
				es = append(es, p.fdEntry(path, t, fd, info))
			}
			return es, nil
		})
		d.Owner = t.owner
		return d, nil
	}}
}

// fdEntry is fd/N or fdinfo/N.
func (p *procFS) fdEntry(dir string, t taskRef, fd int32, info bool) pseudo.Entry {
	name := strconv.Itoa(int(fd))
	path := pseudo.Child(dir, name)
	// open reports whether fd is still open, for the owner of the node.
	owner := func() (uint32, uint32, bool) {
		uid, gid, ok := t.owner()
		if !ok {
			return 0, 0, false
		}
		th, ok := t.get()
		if !ok {
			return 0, 0, false
		}
		f, _, err := th.FD(fd)
		if err != nil {
			return 0, 0, false
		}
		f.DecRef()
		return uid, gid, true
	}
	if info {
		return pseudo.Entry{Name: name, Type: unix.S_IFREG, New: func() (vfs.Inode, error) {
			return &pseudo.File{
				Node: pseudo.Node{FS: p.fs, Path: path, Mode: modeFile, Owner: owner},
				Content: func() ([]byte, error) {
					th, ok := t.get()
					if !ok {
						return nil, unix.ENOENT
					}
					f, cloexec, err := th.FD(fd)
					if err != nil {
						return nil, unix.ENOENT
					}
					defer f.DecRef()
					return formatFDInfo(f, cloexec), nil
				},
				WriteErr: unix.EINVAL,
			}, nil
		}}
	}
	return pseudo.Entry{Name: name, Type: unix.S_IFLNK, New: func() (vfs.Inode, error) {
		th, ok := t.get()
		if !ok {
			return nil, unix.ENOENT
		}
		f, _, err := th.FD(fd)
		if err != nil {
			return nil, unix.ENOENT
		}
		// The link's permission bits show the descriptor's access mode.
		mode := uint32(unix.S_IFLNK)
		if f.Readable() || f.Flags()&unix.O_PATH != 0 {
			mode |= 0o500
		}
		if f.Writable() {
			mode |= 0o200
		}
		f.DecRef()
		s := pseudo.NewSymlink(p.fs, path, "")
		s.Mode, s.Owner = mode, owner
		s.Follow = func(c *vfs.Creds) (vfs.LinkTarget, error) { return p.fdLink(c, t, fd) }
		return s, nil
	}}
}

// fdLink is where fd/N leads: the open file's place in the tree, or the
// file itself when it has none. Never a host path.
func (p *procFS) fdLink(c *vfs.Creds, t taskRef, fd int32) (vfs.LinkTarget, error) {
	if err := t.mayInspect(c); err != nil {
		return vfs.LinkTarget{}, err
	}
	th, ok := t.get()
	if !ok {
		return vfs.LinkTarget{}, unix.ENOENT
	}
	f, _, err := th.FD(fd)
	if err != nil {
		return vfs.LinkTarget{}, unix.ENOENT
	}
	if o, ok := f.Impl().(origin); ok {
		orig := o.Origin()
		orig.IncRef()
		f.DecRef()
		f = orig
	}
	if loc := f.Location(); loc.Valid() {
		f.DecRef()
		return p.locLink(c, loc)
	}
	return vfs.LinkTarget{Path: anonName(f), File: f}, nil
}

// anonName names a file that has no place in the tree, as Linux's fd
// links do.
func anonName(f *vfs.File) string {
	if n, ok := f.Impl().(LinkNamer); ok {
		return n.ProcLinkName()
	}
	st, err := f.Stat()
	if err != nil {
		return "anon_inode:[unknown]"
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFIFO:
		return fmt.Sprintf("pipe:[%d]", st.Ino)
	case unix.S_IFSOCK:
		return fmt.Sprintf("socket:[%d]", st.Ino)
	case unix.S_IFCHR:
		return charDevName(st.Rdev)
	}
	return "anon_inode:[unknown]"
}

// charDevName names a host character device the sandbox holds open (its
// stdio): the well-known ones by name, others by number.
func charDevName(rdev uint64) string {
	major, minor := unix.Major(rdev), unix.Minor(rdev)
	switch {
	case major == 1 && minor == 3:
		return "/dev/null"
	case major == 5 && minor == 0:
		return "/dev/tty"
	case major >= 136 && major <= 143:
		return "/dev/pts/" + strconv.Itoa(int((major-136)*256+minor))
	}
	return fmt.Sprintf("/dev/char/%d:%d", major, minor)
}

// formatFDInfo renders fdinfo/N's common lines.
func formatFDInfo(f *vfs.File, cloexec bool) []byte {
	pos, err := f.Seek(0, unix.SEEK_CUR)
	if err != nil {
		pos = 0
	}
	flags := f.Flags() | unix.O_LARGEFILE
	if cloexec {
		flags |= unix.O_CLOEXEC
	}
	mnt := 0
	if loc := f.Location(); loc.Valid() {
		mnt = loc.Mount().ID()
	}
	var ino uint64
	if st, err := f.Stat(); err == nil {
		ino = st.Ino
	}
	return []byte(fmt.Sprintf("pos:\t%d\nflags:\t0%o\nmnt_id:\t%d\nino:\t%d\n", pos, flags, mnt, ino))
}

// mounts renders mounts (info false) or mountinfo for a thread: the mounts
// reachable from its root, paths relative to it.
func (p *procFS) mounts(th Thread, info bool) []byte {
	root, _, ok := th.FSContext()
	if !ok {
		return nil
	}
	v := p.src.VFS()
	var b strings.Builder
	for _, m := range v.Mounts() {
		path, ok := v.PathOf(root, m.Root)
		if !ok {
			continue
		}
		typ, src := m.Options.Type, m.Options.Source
		if typ == "" {
			typ = "none"
		}
		if src == "" {
			src = typ
		}
		opts := "rw"
		if m.Options.ReadOnly {
			opts = "ro"
		}
		if !info {
			fmt.Fprintf(&b, "%s %s %s %s,relatime 0 0\n", escapeMount(src), escapeMount(path), typ, opts)
			continue
		}
		var dev uint64
		if st, err := v.Stat(m.Root); err == nil {
			dev = st.Dev
		}
		// The root within the mounted file system: "/", or for a bind
		// of a host path the path itself, as Linux shows a bind of a
		// directory of the host's root file system.
		mroot := "/"
		if typ == "bind" && strings.HasPrefix(src, "/") {
			mroot = src
		}
		fmt.Fprintf(&b, "%d %d %d:%d %s %s %s,relatime - %s %s %s\n", m.ID, m.ParentID,
			unix.Major(dev), unix.Minor(dev), escapeMount(mroot), escapeMount(path), opts, typ, escapeMount(src), opts)
	}
	return []byte(b.String())
}

// escapeMount escapes space, tab, newline and backslash as octal, as
// Linux's mangle does in mounts and mountinfo.
func escapeMount(s string) string {
	return strings.NewReplacer(" ", `\040`, "\t", `\011`, "\n", `\012`, `\`, `\134`).Replace(s)
}
