package vfs

import (
	"testing"

	"golang.org/x/sys/unix"
)

// magicFS is a file system with one directory holding magic links, as
// proc's [pid] directories do: "exe" jumps to a Location, "self" names
// a path (it is not magic in Linux's sense: it does not jump).
type magicFS struct {
	exe Location
}

func (m *magicFS) Root() (Inode, error) { return magicDir{m}, nil }

type magicDir struct{ fs *magicFS }

func (magicDir) Attr() InodeAttr { return InodeAttr{Mode: unix.S_IFDIR | 0o555} }
func (d magicDir) Lookup(name string) (Inode, error) {
	switch name {
	case "exe":
		return magicLink{to: func() LinkTarget { return LinkTarget{Path: "/d/f", Loc: d.fs.exe} }}, nil
	case "self":
		return magicLink{to: func() LinkTarget { return LinkTarget{Path: "../d/f"} }}, nil
	}
	return nil, unix.ENOENT
}
func (magicDir) Readlink() (string, error)            { return "", unix.EINVAL }
func (magicDir) Open(int) (FileImpl, error)           { return &memFile{}, nil }
func (magicDir) Stat() (unix.Stat_t, error)           { return unix.Stat_t{Mode: unix.S_IFDIR | 0o555}, nil }
func (magicDir) Release()                             {}
func (l magicLink) Target(*Creds) (LinkTarget, error) { return l.to(), nil }

type magicLink struct{ to func() LinkTarget }

func (magicLink) Attr() InodeAttr              { return InodeAttr{Mode: unix.S_IFLNK | 0o777} }
func (magicLink) Lookup(string) (Inode, error) { return nil, unix.ENOTDIR }
func (l magicLink) Readlink() (string, error)  { return l.to().Path, nil }
func (magicLink) Open(int) (FileImpl, error)   { return nil, unix.ELOOP }
func (magicLink) Stat() (unix.Stat_t, error)   { return unix.Stat_t{Mode: unix.S_IFLNK | 0o777}, nil }
func (magicLink) Release()                     {}

// resolveTree is the tree of the RESOLVE_* tests: /d with symlinks of
// every kind, a mount on /mnt and magic links in /proc.
func resolveTree(t *testing.T) *VFS {
	t.Helper()
	fs := &memFS{root: dir(0o755, map[string]*memNode{
		"d": dir(0o755, map[string]*memNode{
			"f":        reg(0o644, "f"),
			"sub":      dir(0o755, map[string]*memNode{"g": reg(0o644, "g")}),
			"rel":      link("f"),
			"up":       link("../d/f"),
			"abs":      link("/d/f"),
			"out":      link("../../.."),
			"loop":     link("loop"),
			"dangling": link("nope"),
			"tomnt":    link("../mnt/m"),
		}),
		"top":  reg(0o644, "top"),
		"mnt":  dir(0o755, nil),
		"proc": dir(0o755, nil),
	})}
	v, err := New(fs, MountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sub := &memFS{root: dir(0o755, map[string]*memNode{
		"m":    reg(0o644, "m"),
		"abs":  link("/d/f"),
		"back": link("../d/f"),
	})}
	if err := v.Mount(mustLookup(t, v, "/mnt"), sub, MountOptions{}); err != nil {
		t.Fatal(err)
	}
	mfs := &magicFS{}
	if err := v.Mount(mustLookup(t, v, "/proc"), mfs, MountOptions{}); err != nil {
		t.Fatal(err)
	}
	mfs.exe = mustLookup(t, v, "/d/f")
	return v
}

func TestOpenAt2Resolve(t *testing.T) {
	const (
		noXdev  = ResolveNoXdev
		noMagic = ResolveNoMagicLinks
		noSym   = ResolveNoSymlinks
		beneath = ResolveBeneath
		inRoot  = ResolveInRoot
	)
	tests := []struct {
		dir   string // the starting directory (dirfd)
		path  string
		flags int
		rf    ResolveFlags
		want  string // the path opened, from the tree's root
		err   unix.Errno
	}{
		// No flags: like openat.
		{dir: "/d", path: "out/top", want: "/top"},
		{dir: "/d", path: "abs", want: "/d/f"},
		// RESOLVE_NO_SYMLINKS: every symlink, the last one too, unless
		// O_PATH|O_NOFOLLOW asks for the link itself.
		{dir: "/d", path: "rel", rf: noSym, err: unix.ELOOP},
		{dir: "/", path: "proc/self", rf: noSym, err: unix.ELOOP},
		{dir: "/d", path: "f", rf: noSym, want: "/d/f"},
		{dir: "/d", path: "rel", flags: unix.O_PATH | unix.O_NOFOLLOW, rf: noSym, want: "/d/rel"},
		{dir: "/d", path: "rel", flags: unix.O_NOFOLLOW, rf: noSym, err: unix.ELOOP},
		{dir: "/d", path: "dangling", flags: unix.O_CREAT | unix.O_WRONLY, rf: noSym, err: unix.ELOOP},
		// RESOLVE_NO_MAGICLINKS: jumps only; /proc/self names a path.
		{dir: "/", path: "proc/exe", rf: noMagic, err: unix.ELOOP},
		{dir: "/", path: "proc/self", rf: noMagic, want: "/d/f"},
		{dir: "/", path: "proc/exe", flags: unix.O_PATH | unix.O_NOFOLLOW, rf: noMagic, want: "/proc/exe"},
		{dir: "/", path: "proc/exe", want: "/d/f"},
		{dir: "/d", path: "rel", rf: noMagic, want: "/d/f"},
		// RESOLVE_NO_XDEV: into a mount, out of one by "..", absolute
		// symlinks from another mount, magic jumps across mounts.
		{dir: "/", path: "mnt/m", rf: noXdev, err: unix.EXDEV},
		{dir: "/", path: "mnt", flags: unix.O_PATH, rf: noXdev, err: unix.EXDEV},
		{dir: "/d", path: "tomnt", rf: noXdev, err: unix.EXDEV},
		{dir: "/mnt", path: "m", rf: noXdev, want: "/mnt/m"},
		{dir: "/mnt", path: "../top", rf: noXdev, err: unix.EXDEV},
		{dir: "/mnt", path: "back", rf: noXdev, err: unix.EXDEV},
		{dir: "/mnt", path: "abs", rf: noXdev, err: unix.EXDEV},
		{dir: "/mnt", path: "/top", rf: noXdev, want: "/top"},
		{dir: "/d", path: "abs", rf: noXdev, err: unix.EXDEV}, // the root not yet looked up
		{dir: "/d", path: "../d/abs", rf: noXdev, want: "/d/f"},
		{dir: "/d", path: "/d/abs", rf: noXdev, want: "/d/f"},
		{dir: "/d", path: "../../../top", rf: noXdev, want: "/top"},
		{dir: "/proc", path: "exe", rf: noXdev, err: unix.EXDEV},
		// RESOLVE_BENEATH.
		{dir: "/d", path: "f", rf: beneath, want: "/d/f"},
		{dir: "/d", path: "sub/../f", rf: beneath, want: "/d/f"},
		{dir: "/d", path: "rel", rf: beneath, want: "/d/f"},
		{dir: "/d", path: "up", rf: beneath, err: unix.EXDEV},
		{dir: "/d", path: "../d/f", rf: beneath, err: unix.EXDEV},
		{dir: "/d", path: "abs", rf: beneath, err: unix.EXDEV},
		{dir: "/d", path: "/d/f", rf: beneath, err: unix.EXDEV},
		{dir: "/d", path: "out", rf: beneath, err: unix.EXDEV},
		{dir: "/d", path: "loop", rf: beneath, err: unix.ELOOP},
		{dir: "/d", path: "nope", flags: unix.O_CREAT | unix.O_WRONLY, rf: beneath, want: "/d/nope"},
		{dir: "/d", path: "../nope", flags: unix.O_CREAT | unix.O_WRONLY, rf: beneath, err: unix.EXDEV},
		{dir: "/", path: "proc/exe", rf: beneath, err: unix.EXDEV},
		{dir: "/", path: "mnt/back", rf: beneath, want: "/d/f"},
		// RESOLVE_IN_ROOT: "/" and ".." stop at the starting directory.
		{dir: "/d", path: "/f", rf: inRoot, want: "/d/f"},
		{dir: "/d", path: "../../f", rf: inRoot, want: "/d/f"},
		{dir: "/d", path: "out", flags: unix.O_DIRECTORY, rf: inRoot, want: "/d"},
		{dir: "/d", path: "abs", rf: inRoot, err: unix.ENOENT},
		{dir: "/d", path: "/sub/g", rf: inRoot, want: "/d/sub/g"},
		{dir: "/", path: "proc/exe", rf: inRoot, err: unix.EXDEV},
		{dir: "/d", path: "dangling", flags: unix.O_CREAT | unix.O_WRONLY, rf: inRoot, want: "/d/nope"},
		// Combinations.
		{dir: "/d", path: "f", rf: beneath | inRoot, err: unix.EINVAL},
		{dir: "/d", path: "f", rf: 0x40, err: unix.EINVAL},
		{dir: "/d", path: "rel", rf: noSym | beneath, err: unix.ELOOP},
	}
	for _, tc := range tests {
		v := resolveTree(t)
		d := mustLookup(t, v, tc.dir)
		flags := tc.flags
		if flags&unix.O_ACCMODE == 0 && flags&unix.O_CREAT == 0 {
			flags |= unix.O_RDONLY
		}
		f, err := v.OpenAt2(rootCreds, v.Root(), d, tc.path, flags, 0o644, tc.rf)
		if tc.err != 0 {
			if err != tc.err {
				t.Errorf("%s: OpenAt2(%q, %#x) = %v, want %v", tc.dir, tc.path, tc.rf, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: OpenAt2(%q, %#x): %v, want %s", tc.dir, tc.path, tc.rf, err, tc.want)
			continue
		}
		if got := where(v, f.Location()); got != tc.want {
			t.Errorf("%s: OpenAt2(%q, %#x) opened %s, want %s", tc.dir, tc.path, tc.rf, got, tc.want)
		}
		f.DecRef()
	}
}

func TestOpenAt2Cached(t *testing.T) {
	v := resolveTree(t)
	d := mustLookup(t, v, "/d")
	open := func(path string, flags int) error {
		f, err := v.OpenAt2(rootCreds, v.Root(), d, path, flags, 0o644, ResolveCached)
		if err == nil {
			f.DecRef()
		}
		return err
	}
	if err := open("sub/g", unix.O_RDONLY); err != unix.EAGAIN {
		t.Errorf("a name never looked up: %v, want EAGAIN", err)
	}
	mustLookup(t, v, "/d/sub/g")
	if err := open("sub/g", unix.O_RDONLY); err != nil {
		t.Errorf("a cached name: %v, want success", err)
	}
	if err := open("../mnt/m", unix.O_RDONLY); err != unix.EAGAIN {
		t.Errorf("a name in a mount never looked up: %v, want EAGAIN", err)
	}
	mustLookup(t, v, "/d/rel")
	if err := open("rel", unix.O_RDONLY); err != unix.EAGAIN {
		t.Errorf("a symlink: %v, want EAGAIN", err)
	}
	if err := open("rel", unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_PATH); err != nil {
		t.Errorf("a symlink not followed: %v, want success", err)
	}
	for _, flags := range []int{unix.O_CREAT | unix.O_WRONLY, unix.O_TRUNC | unix.O_WRONLY, unix.O_TMPFILE | unix.O_RDWR} {
		if err := open("sub/g", flags); err != unix.EAGAIN {
			t.Errorf("flags %#x: %v, want EAGAIN", flags, err)
		}
	}
}

func TestIsBelow(t *testing.T) {
	v := resolveTree(t)
	d := mustLookup(t, v, "/d")
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"/d", true}, {"/d/sub/g", true}, {"/", false}, {"/top", false}, {"/mnt/m", false},
	} {
		if got := v.isBelow(d, mustLookup(t, v, tc.path)); got != tc.want {
			t.Errorf("isBelow(/d, %s) = %v, want %v", tc.path, got, tc.want)
		}
	}
	if !v.isBelow(v.Root(), mustLookup(t, v, "/mnt/m")) {
		t.Errorf("/mnt/m is not below the root")
	}
}
