package vfs

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

var rootCreds = &Creds{UID: 0, GID: 0}
var userCreds = &Creds{UID: 1000, GID: 1000, Groups: []uint32{50}}

// testTree builds the file system most tests walk.
func testTree() *memFS {
	children := map[string]*memNode{
		"etc":    dir(0o755, map[string]*memNode{"passwd": reg(0o644, "root:x")}),
		"secret": dir(0o700, map[string]*memNode{"key": reg(0o600, "k")}),
		"group":  dir(0o750, map[string]*memNode{"f": reg(0o640, "g")}),
		"bin": dir(0o755, map[string]*memNode{
			"sh":     reg(0o755, "ELF"),
			"noexec": reg(0o644, "ELF"),
		}),
		"private":   reg(0o600, "p"),
		"a":         link("b"),
		"b":         link("a"),
		"tolink":    link("/etc"),
		"rel":       link("etc/passwd"),
		"dirslash":  link("etc/"),
		"fileslash": link("etc/passwd/"),
		"empty":     link(""),
		"dangling":  link("nowhere"),
		"jail": dir(0o755, map[string]*memNode{
			"inner":  dir(0o755, map[string]*memNode{"file": reg(0o644, "j")}),
			"escape": link("/"),
			"up":     link("../../.."),
		}),
		"mnt": dir(0o755, nil),
	}
	children["group"].gid = 50
	for i := 0; i < MaxSymlinks+1; i++ {
		children[fmt.Sprintf("chain%d", i)] = link(fmt.Sprintf("chain%d", i+1))
	}
	children[fmt.Sprintf("chain%d", MaxSymlinks+1)] = link("etc")
	return &memFS{root: dir(0o755, children)}
}

func newTestVFS(t *testing.T) (*VFS, *memFS) {
	t.Helper()
	fs := testTree()
	v, err := New(fs, MountOptions{ReadOnly: true})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v, fs
}

// where names a location by its path from the global root.
func where(v *VFS, l Location) string { return v.Getcwd(v.Root(), l) }

func mustLookup(t *testing.T, v *VFS, path string) Location {
	t.Helper()
	l, err := v.LookupAt(rootCreds, v.Root(), v.Root(), path, true)
	if err != nil {
		t.Fatalf("LookupAt(%q): %v", path, err)
	}
	return l
}

func TestWalk(t *testing.T) {
	v, _ := newTestVFS(t)
	long := strings.Repeat("x", NameMax+1)
	tests := []struct {
		name     string
		root     string // task root; "" is "/"
		cwd      string // "" is "/"
		path     string
		nofollow bool
		creds    *Creds
		want     string
		wantErr  error
	}{
		{name: "absolute", path: "/etc/passwd", want: "/etc/passwd"},
		{name: "relative to cwd", cwd: "/etc", path: "passwd", want: "/etc/passwd"},
		{name: "dot and dotdot", path: "/etc/./../etc//passwd", want: "/etc/passwd"},
		{name: "dotdot at root stays", path: "/../../etc", want: "/etc"},
		{name: "dotdot at task root stays", root: "/jail", path: "/../../inner/file", want: "/jail/inner/file"},
		{name: "relative dotdot stops at task root", root: "/jail", cwd: "/jail/inner", path: "../../../inner", want: "/jail/inner"},
		{name: "absolute symlink stays in task root", root: "/jail", path: "/escape/inner", want: "/jail/inner"},
		{name: "dotdot symlink stays in task root", root: "/jail", path: "/up/inner/file", want: "/jail/inner/file"},
		{name: "absolute symlink", path: "/tolink/passwd", want: "/etc/passwd"},
		{name: "relative symlink", path: "/rel", want: "/etc/passwd"},
		{name: "final symlink not followed", path: "/rel", nofollow: true, want: "/rel"},
		{name: "symlink loop", path: "/a", wantErr: unix.ELOOP},
		{name: "40 symlinks are fine", path: "/chain2/passwd", want: "/etc/passwd"},
		{name: "41 symlinks are too many", path: "/chain1/passwd", wantErr: unix.ELOOP},
		{name: "empty symlink", path: "/empty", wantErr: unix.ENOENT},
		{name: "dangling symlink", path: "/dangling", wantErr: unix.ENOENT},
		{name: "dangling symlink nofollow", path: "/dangling", nofollow: true, want: "/dangling"},
		{name: "trailing slash on dir", path: "/etc/", want: "/etc"},
		{name: "trailing slash on file", path: "/etc/passwd/", wantErr: unix.ENOTDIR},
		{name: "trailing slash follows final link", path: "/tolink/", nofollow: true, want: "/etc"},
		{name: "link target with trailing slash", path: "/dirslash", want: "/etc"},
		{name: "link to file with trailing slash", path: "/fileslash", wantErr: unix.ENOTDIR},
		{name: "file as directory", path: "/etc/passwd/x", wantErr: unix.ENOTDIR},
		{name: "missing", path: "/nope/x", wantErr: unix.ENOENT},
		{name: "empty path", path: "", wantErr: unix.ENOENT},
		{name: "long component", path: "/" + long, wantErr: unix.ENAMETOOLONG},
		{name: "long path", path: "/" + strings.Repeat("a/", PathMax/2), wantErr: unix.ENAMETOOLONG},
		{name: "longest path is fine", path: "/" + strings.Repeat("/", PathMax-6) + "etc", want: "/etc"},
		{name: "search permission", creds: userCreds, path: "/secret/key", wantErr: unix.EACCES},
		{name: "search permission dotdot", creds: userCreds, path: "/secret/..", wantErr: unix.EACCES},
		{name: "root searches anything", path: "/secret/key", want: "/secret/key"},
		{name: "group search", creds: userCreds, path: "/group/f", want: "/group/f"},
		{name: "other group", creds: &Creds{UID: 7, GID: 7}, path: "/group/f", wantErr: unix.EACCES},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root, cwd := v.Root(), v.Root()
			if tc.root != "" {
				root = mustLookup(t, v, tc.root)
				cwd = root
			}
			if tc.cwd != "" {
				cwd = mustLookup(t, v, tc.cwd)
			}
			c := tc.creds
			if c == nil {
				c = rootCreds
			}
			l, err := v.LookupAt(c, root, cwd, tc.path, !tc.nofollow)
			if tc.wantErr != nil {
				if err != tc.wantErr {
					t.Fatalf("LookupAt(%q) = %v, %v; want error %v", tc.path, where(v, l), err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LookupAt(%q): %v", tc.path, err)
			}
			if got := where(v, l); got != tc.want {
				t.Fatalf("LookupAt(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	v, _ := newTestVFS(t)
	tests := []struct {
		name    string
		path    string
		flags   int
		creds   *Creds
		wantErr error
	}{
		{name: "read file", path: "/etc/passwd"},
		{name: "write on read-only mount", path: "/etc/passwd", flags: unix.O_WRONLY, wantErr: unix.EROFS},
		{name: "rdwr on read-only mount", path: "/etc/passwd", flags: unix.O_RDWR, wantErr: unix.EROFS},
		{name: "trunc on read-only mount", path: "/etc/passwd", flags: unix.O_TRUNC, wantErr: unix.EROFS},
		{name: "create missing on read-only mount", path: "/etc/new", flags: unix.O_CREAT | unix.O_WRONLY, wantErr: unix.EROFS},
		{name: "create in missing dir", path: "/nope/new", flags: unix.O_CREAT, wantErr: unix.ENOENT},
		{name: "create existing read-only", path: "/etc/passwd", flags: unix.O_CREAT},
		{name: "create existing excl", path: "/etc/passwd", flags: unix.O_CREAT | unix.O_EXCL, wantErr: unix.EEXIST},
		{name: "create excl does not follow", path: "/dangling", flags: unix.O_CREAT | unix.O_EXCL, wantErr: unix.EEXIST},
		{name: "create through dangling link", path: "/dangling", flags: unix.O_CREAT, wantErr: unix.EROFS},
		{name: "create with trailing slash", path: "/etc/new/", flags: unix.O_CREAT, wantErr: unix.EISDIR},
		{name: "create on dir", path: "/etc", flags: unix.O_CREAT, wantErr: unix.EISDIR},
		{name: "create directory combination", path: "/etc", flags: unix.O_CREAT | unix.O_DIRECTORY, wantErr: unix.EINVAL},
		{name: "dir for write", path: "/etc", flags: unix.O_RDWR, wantErr: unix.EISDIR},
		{name: "dir read", path: "/etc", flags: unix.O_DIRECTORY},
		{name: "O_DIRECTORY on file", path: "/etc/passwd", flags: unix.O_DIRECTORY, wantErr: unix.ENOTDIR},
		{name: "O_NOFOLLOW final link", path: "/rel", flags: unix.O_NOFOLLOW, wantErr: unix.ELOOP},
		{name: "O_NOFOLLOW inner link", path: "/tolink/passwd", flags: unix.O_NOFOLLOW},
		{name: "O_PATH|O_NOFOLLOW on link", path: "/rel", flags: unix.O_PATH | unix.O_NOFOLLOW},
		{name: "read permission", path: "/private", creds: userCreds, wantErr: unix.EACCES},
		{name: "root reads anything", path: "/private"},
		{name: "O_PATH needs no read permission", path: "/private", flags: unix.O_PATH, creds: userCreds},
		{name: "O_TMPFILE on read-only mount", path: "/etc", flags: unix.O_TMPFILE | unix.O_RDWR, wantErr: unix.EROFS},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.creds
			if c == nil {
				c = rootCreds
			}
			f, err := v.OpenAt(c, v.Root(), v.Root(), tc.path, tc.flags, 0o644)
			if err != tc.wantErr {
				t.Fatalf("OpenAt(%q, %#x) = %v, want %v", tc.path, tc.flags, err, tc.wantErr)
			}
			if f != nil {
				f.DecRef()
			}
		})
	}
}

func TestFileAccessModeAndFlags(t *testing.T) {
	v, _ := newTestVFS(t)
	f, err := v.OpenAt(rootCreds, v.Root(), v.Root(), "/etc/passwd", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("x")); err != unix.EBADF {
		t.Errorf("Write on O_RDONLY file = %v, want EBADF", err)
	}
	buf := make([]byte, 4)
	// Two references (a dup) share one offset.
	f.IncRef()
	if n, _ := f.Read(buf); string(buf[:n]) != "root" {
		t.Errorf("first read %q", buf[:n])
	}
	if n, _ := f.Read(buf); string(buf[:n]) != ":x" {
		t.Errorf("second read through the shared description %q, want \":x\"", buf[:n])
	}
	if _, err := f.PRead(buf, -1); err != unix.EINVAL {
		t.Errorf("PRead at -1 = %v, want EINVAL", err)
	}
	if _, err := f.Seek(0, 42); err != unix.EINVAL {
		t.Errorf("Seek whence 42 = %v, want EINVAL", err)
	}
	if err := f.SetFlags(unix.O_WRONLY | unix.O_APPEND | unix.O_NONBLOCK | unix.O_CREAT); err != nil {
		t.Fatal(err)
	}
	if got, want := f.Flags(), unix.O_RDONLY|unix.O_APPEND|unix.O_NONBLOCK; got != want {
		t.Errorf("flags after F_SETFL = %#x, want %#x (access mode kept, creation flags ignored)", got, want)
	}
	impl := f.Impl().(*memFile)
	f.DecRef()
	if impl.released {
		t.Fatal("released with a reference left")
	}
	f.DecRef()
	if !impl.released {
		t.Fatal("last reference did not release the file")
	}

	p, err := v.OpenAt(rootCreds, v.Root(), v.Root(), "/etc/passwd", unix.O_PATH, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(buf); err != unix.EBADF {
		t.Errorf("Read on O_PATH = %v, want EBADF", err)
	}
	if _, err := p.Stat(); err != nil {
		t.Errorf("Stat on O_PATH = %v", err)
	}
}

func TestAccessAndReadlink(t *testing.T) {
	v, _ := newTestVFS(t)
	r := v.Root()
	tests := []struct {
		name  string
		creds *Creds
		path  string
		mode  uint32
		flags int
		want  error
	}{
		{name: "exists", path: "/etc/passwd", mode: unix.F_OK},
		{name: "read", path: "/etc/passwd", mode: unix.R_OK, creds: userCreds},
		{name: "write on read-only mount", path: "/etc/passwd", mode: unix.W_OK, want: unix.EROFS},
		{name: "root exec needs an x bit", path: "/bin/noexec", mode: unix.X_OK, want: unix.EACCES},
		{name: "root exec", path: "/bin/sh", mode: unix.X_OK},
		{name: "root searches any dir", path: "/secret", mode: unix.X_OK},
		{name: "user exec", path: "/bin/sh", mode: unix.X_OK, creds: userCreds},
		{name: "user read private", path: "/private", mode: unix.R_OK, creds: userCreds, want: unix.EACCES},
		{name: "nofollow dangling", path: "/dangling", mode: unix.F_OK, flags: unix.AT_SYMLINK_NOFOLLOW},
		{name: "follow dangling", path: "/dangling", mode: unix.F_OK, want: unix.ENOENT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.creds
			if c == nil {
				c = rootCreds
			}
			if err := v.AccessAt(c, r, r, tc.path, tc.mode, tc.flags); err != tc.want {
				t.Fatalf("AccessAt(%q, %d) = %v, want %v", tc.path, tc.mode, err, tc.want)
			}
		})
	}
	if s, err := v.ReadlinkAt(rootCreds, r, r, "/rel"); err != nil || s != "etc/passwd" {
		t.Errorf("ReadlinkAt(/rel) = %q, %v", s, err)
	}
	if _, err := v.ReadlinkAt(rootCreds, r, r, "/etc/passwd"); err != unix.EINVAL {
		t.Errorf("ReadlinkAt on a file = %v, want EINVAL", err)
	}
	if _, err := v.ReadlinkAt(rootCreds, r, mustLookup(t, v, "/etc"), ""); err != unix.ENOENT {
		t.Errorf("ReadlinkAt empty path on a dir = %v, want ENOENT", err)
	}
}

func TestWriteChecks(t *testing.T) {
	v, _ := newTestVFS(t)
	r := v.Root()
	tests := []struct {
		name string
		op   func(path string) error
		path string
		want error
	}{
		{"mkdir new", func(p string) error { return v.MkdirAt(rootCreds, r, r, p, 0o755) }, "/etc/new", unix.EROFS},
		{"mkdir existing", func(p string) error { return v.MkdirAt(rootCreds, r, r, p, 0o755) }, "/etc", unix.EEXIST},
		{"mkdir in missing", func(p string) error { return v.MkdirAt(rootCreds, r, r, p, 0o755) }, "/nope/new", unix.ENOENT},
		{"unlink missing", func(p string) error { return v.UnlinkAt(rootCreds, r, r, p, false) }, "/etc/nope", unix.EROFS},
		{"unlink in missing", func(p string) error { return v.UnlinkAt(rootCreds, r, r, p, false) }, "/nope/x", unix.ENOENT},
		{"chmod existing", func(p string) error { return v.ChmodAt(rootCreds, r, r, p, true, 0o600) }, "/etc/passwd", unix.EROFS},
		{"chmod missing", func(p string) error { return v.ChmodAt(rootCreds, r, r, p, true, 0o600) }, "/etc/nope", unix.ENOENT},
	}
	for _, tc := range tests {
		if err := tc.op(tc.path); err != tc.want {
			t.Errorf("%s(%q) = %v, want %v", tc.name, tc.path, err, tc.want)
		}
	}
}

func TestDentryCache(t *testing.T) {
	v, fs := newTestVFS(t)
	mustLookup(t, v, "/etc/passwd")
	n := fs.lookups.Load()
	mustLookup(t, v, "/etc/passwd")
	if got := fs.lookups.Load(); got != n {
		t.Fatalf("second walk asked the file system %d more times", got-n)
	}
}

func TestMountsAndGetcwd(t *testing.T) {
	v, _ := newTestVFS(t)
	sub := &memFS{root: dir(0o755, map[string]*memNode{"x": reg(0o644, "x"), "d": dir(0o755, nil)})}
	if err := v.Mount(mustLookup(t, v, "/mnt"), sub, MountOptions{}); err != nil {
		t.Fatal(err)
	}
	l := mustLookup(t, v, "/mnt/d")
	if l.Mount().ReadOnly() {
		t.Error("the sub mount is not read-only")
	}
	if got := where(v, l); got != "/mnt/d" {
		t.Errorf("Getcwd = %q, want /mnt/d", got)
	}
	up := mustLookup(t, v, "/mnt/d/../../etc")
	if got := where(v, up); got != "/etc" {
		t.Errorf("dotdot across the mount = %q, want /etc", got)
	}
	jail := mustLookup(t, v, "/jail")
	if got := v.Getcwd(jail, mustLookup(t, v, "/jail/inner")); got != "/inner" {
		t.Errorf("Getcwd in jail = %q", got)
	}
	if got := v.Getcwd(jail, mustLookup(t, v, "/etc")); got != "(unreachable)/etc" {
		t.Errorf("Getcwd outside the root = %q", got)
	}
	// Creation on a writable mount reaches the file system.
	if err := v.MkdirAt(userCreds, v.Root(), v.Root(), "/mnt/new", 0o755); err != unix.EACCES {
		t.Errorf("MkdirAt without write permission = %v, want EACCES", err)
	}
	if err := v.MkdirAt(rootCreds, v.Root(), v.Root(), "/mnt/new", 0o755); err != nil {
		t.Errorf("MkdirAt on writable mount = %v", err)
	}
}

func TestChdir(t *testing.T) {
	v, _ := newTestVFS(t)
	r := v.Root()
	if _, err := v.ChdirAt(rootCreds, r, r, "/etc/passwd"); err != unix.ENOTDIR {
		t.Errorf("chdir to a file = %v", err)
	}
	if _, err := v.ChdirAt(userCreds, r, r, "/secret"); err != unix.EACCES {
		t.Errorf("chdir without search = %v", err)
	}
	fs := NewFS(r, r)
	l, err := v.ChdirAt(rootCreds, r, r, "/tolink")
	if err != nil {
		t.Fatal(err)
	}
	fs.SetCwd(l)
	if got := v.Getcwd(fs.Root(), fs.Cwd()); got != "/etc" {
		t.Errorf("cwd = %q, want /etc", got)
	}
	if got := fs.Fork().Cwd(); got != l {
		t.Errorf("forked cwd differs")
	}
}
