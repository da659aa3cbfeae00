package overlay

import (
	"slices"
	"testing"

	"moat/sentry/fs/fsutil"
	"moat/sentry/fs/tmpfs"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// lowerTree is a read-only stand-in for the gofer root:
//
//	/etc/passwd   "root:x:0:0" 0644 uid 0
//	/etc/secret   "s" 0600
//	/usr/bin/yes  0755
//	/usr/share/   (empty dir)
//	/link -> etc
func lowerTree(t *testing.T) *tmpfs.Filesystem {
	t.Helper()
	fs := tmpfs.New(tmpfs.Options{Mode: 0o755})
	r := fs.RootInode()
	etc := must(r.MakeNode("etc", unix.S_IFDIR|0o755, 0, 0, 0))
	usr := must(r.MakeNode("usr", unix.S_IFDIR|0o755, 0, 0, 0))
	bin := must(usr.MakeNode("bin", unix.S_IFDIR|0o755, 0, 0, 0))
	must(usr.MakeNode("share", unix.S_IFDIR|0o755, 0, 0, 0))
	must(r.MakeSymlink("link", "etc", 0, 0))
	write(t, must(etc.MakeNode("passwd", unix.S_IFREG|0o644, 0, 0, 0)), "root:x:0:0")
	write(t, must(etc.MakeNode("secret", unix.S_IFREG|0o600, 0, 3, 4)), "s")
	must(bin.MakeNode("yes", unix.S_IFREG|0o755, 0, 0, 0))
	return fs
}

func must(i *tmpfs.Inode, err error) *tmpfs.Inode {
	if err != nil {
		panic(err)
	}
	return i
}

func write(t *testing.T, i vfs.Inode, s string) {
	t.Helper()
	impl, err := i.Open(unix.O_WRONLY)
	if err != nil {
		t.Fatal(err)
	}
	f := vfs.NewFile(impl, unix.O_WRONLY, vfs.Location{})
	defer f.DecRef()
	if _, err := f.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, i vfs.Inode) string {
	t.Helper()
	impl, err := i.Open(unix.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	f := vfs.NewFile(impl, unix.O_RDONLY, vfs.Location{})
	defer f.DecRef()
	buf := make([]byte, 256)
	n, err := f.PRead(buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

// walk looks a slash-separated path up from i.
func walk(t *testing.T, i vfs.Inode, names ...string) (vfs.Inode, error) {
	t.Helper()
	for _, n := range names {
		c, err := i.Lookup(n)
		if err != nil {
			return nil, err
		}
		i = c
	}
	return i, nil
}

func mustWalk(t *testing.T, i vfs.Inode, names ...string) *node {
	t.Helper()
	c, err := walk(t, i, names...)
	if err != nil {
		t.Fatalf("lookup %q: %v", names, err)
	}
	return c.(*node)
}

func list(t *testing.T, i vfs.Inode) []string {
	t.Helper()
	impl, err := i.Open(unix.O_RDONLY | unix.O_DIRECTORY)
	if err != nil {
		t.Fatal(err)
	}
	f := vfs.NewFile(impl, unix.O_RDONLY|unix.O_DIRECTORY, vfs.Location{})
	defer f.DecRef()
	var out []string
	buf := make([]byte, 80)
	for {
		n, err := f.Getdents(buf)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		fsutil.ParseDirents(buf[:n], func(d fsutil.Dirent) {
			if d.Name != "." && d.Name != ".." {
				out = append(out, d.Name)
			}
		})
	}
	slices.Sort(out)
	return out
}

func setup(t *testing.T) (*tmpfs.Filesystem, *node) {
	t.Helper()
	lower := lowerTree(t)
	ov, err := New(lower, tmpfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := ov.Root()
	return lower, r.(*node)
}

func TestCopyUpKeepsDataAndMode(t *testing.T) {
	lower, root := setup(t)
	sec := mustWalk(t, root, "etc", "secret")
	before, _ := sec.Stat()
	write(t, sec, "S") // open for writing copies up, then overwrites byte 0
	if got := read(t, sec); got != "S" {
		t.Fatalf("overlay reads %q", got)
	}
	after, _ := sec.Stat()
	if after.Mode != before.Mode || after.Uid != 3 || after.Gid != 4 || after.Ino != before.Ino {
		t.Fatalf("copy-up changed metadata: %+v -> %+v", before, after)
	}
	lsec, _ := walk(t, lower.RootInode(), "etc", "secret")
	if got := read(t, lsec); got != "s" {
		t.Fatalf("lower changed: %q", got)
	}
	// chmod copies up too, and the data comes along.
	pw := mustWalk(t, root, "etc", "passwd")
	if err := pw.SetAttr(vfs.AttrChange{Mask: vfs.SetMode, Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, pw); got != "root:x:0:0" {
		t.Fatalf("copied-up data %q", got)
	}
	if a := pw.Attr(); a.Mode != unix.S_IFREG|0o600 {
		t.Fatalf("mode after chmod %o", a.Mode)
	}
	lpw, _ := walk(t, lower.RootInode(), "etc", "passwd")
	if a := lpw.Attr(); a.Mode != unix.S_IFREG|0o644 {
		t.Fatalf("lower mode changed: %o", a.Mode)
	}
}

func TestWhiteoutsAndMerge(t *testing.T) {
	lower, root := setup(t)
	etc := mustWalk(t, root, "etc")
	if _, err := etc.makeNode("new", unix.S_IFREG|0o644, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := etc.unlink("passwd"); err != nil {
		t.Fatal(err)
	}
	if _, err := etc.Lookup("passwd"); err != unix.ENOENT {
		t.Fatalf("lookup of deleted lower file: %v", err)
	}
	if got := list(t, etc); !slices.Equal(got, []string{"new", "secret"}) {
		t.Fatalf("merged listing %q", got)
	}
	if _, err := walk(t, lower.RootInode(), "etc", "passwd"); err != nil {
		t.Fatalf("lower lost passwd: %v", err)
	}
	// rmdir of a lower directory; mkdir again is empty (opaque).
	usr := mustWalk(t, root, "usr")
	if err := usr.rmdir("bin"); err != unix.ENOTEMPTY {
		t.Fatalf("rmdir non-empty lower dir: %v", err)
	}
	if err := mustWalk(t, usr, "bin").unlink("yes"); err != nil {
		t.Fatal(err)
	}
	if err := usr.rmdir("bin"); err != nil {
		t.Fatal(err)
	}
	if got := list(t, usr); !slices.Equal(got, []string{"share"}) {
		t.Fatalf("usr lists %q", got)
	}
	if st, _ := usr.Stat(); st.Nlink != 3 {
		t.Fatalf("usr nlink %d, want 3 (., .., share)", st.Nlink)
	}
	nb, err := usr.makeNode("bin", unix.S_IFDIR|0o755, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := list(t, nb); len(got) != 0 {
		t.Fatalf("re-made dir shows lower entries %q", got)
	}
	if st, _ := usr.Stat(); st.Nlink != 4 {
		t.Fatalf("usr nlink %d, want 4", st.Nlink)
	}
	if err := root.unlink("link"); err != nil {
		t.Fatal(err)
	}
	if got := list(t, root); !slices.Equal(got, []string{"etc", "usr"}) {
		t.Fatalf("root lists %q", got)
	}
}

func TestRenameRules(t *testing.T) {
	lower, root := setup(t)
	etc := mustWalk(t, root, "etc")
	usr := mustWalk(t, root, "usr")
	cases := []struct {
		name  string
		from  *node
		old   string
		to    *node
		new   string
		flags uint
		want  error
	}{
		{"lower dir", usr, "bin", root, "bin2", 0, unix.EXDEV},
		{"noreplace", etc, "passwd", etc, "secret", tmpfs.RenameNoReplace, unix.EEXIST},
		{"file over dir", etc, "passwd", root, "usr", 0, unix.EISDIR},
		{"missing", etc, "nope", etc, "x", 0, unix.ENOENT},
		{"lower file across dirs", etc, "passwd", usr, "pw", 0, nil},
		{"replace lower file", usr, "pw", etc, "secret", 0, nil},
	}
	for _, c := range cases {
		if err := c.from.Rename(c.old, c.to, c.new, c.flags); err != c.want {
			t.Errorf("%s: rename = %v, want %v", c.name, err, c.want)
		}
	}
	if got := list(t, etc); !slices.Equal(got, []string{"secret"}) {
		t.Fatalf("etc lists %q", got)
	}
	if got := read(t, mustWalk(t, etc, "secret")); got != "root:x:0:0" {
		t.Fatalf("renamed data %q", got)
	}
	if _, err := usr.Lookup("pw"); err != unix.ENOENT {
		t.Fatalf("old name of a renamed file: %v", err)
	}
	// A directory made in the overlay can move.
	d, _ := root.makeNode("d", unix.S_IFDIR|0o755, 0, 0, 0)
	if err := root.Rename("d", usr, "d2", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := walk(t, usr, "d2"); err != nil || d == nil {
		t.Fatalf("moved dir: %v", err)
	}
	// The lower tree is as it was.
	if got := list(t, lower.RootInode()); !slices.Equal(got, []string{"etc", "link", "usr"}) {
		t.Fatalf("lower root %q", got)
	}
	lp, err := walk(t, lower.RootInode(), "etc", "passwd")
	if err != nil || read(t, lp) != "root:x:0:0" {
		t.Fatalf("lower passwd: %v", err)
	}
}

func TestLinkKeepsIdentity(t *testing.T) {
	_, root := setup(t)
	pw := mustWalk(t, root, "etc", "passwd")
	if err := root.Link("hard", pw); err != nil {
		t.Fatal(err)
	}
	h := mustWalk(t, root, "hard")
	a, _ := pw.Stat()
	b, _ := h.Stat()
	if a.Ino != b.Ino || a.Nlink != 2 || b.Nlink != 2 {
		t.Fatalf("link: %d/%d nlink %d/%d", a.Ino, b.Ino, a.Nlink, b.Nlink)
	}
	if err := root.Link("d", mustWalk(t, root, "usr")); err != unix.EPERM {
		t.Fatalf("link of a dir: %v", err)
	}
}

func TestOpenTruncCopiesNoData(t *testing.T) {
	lower, root := setup(t)
	pw := mustWalk(t, root, "etc", "passwd")
	impl, err := pw.Open(unix.O_WRONLY | unix.O_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	f := vfs.NewFile(impl, unix.O_WRONLY, vfs.Location{})
	if _, err := f.Write([]byte("new")); err != nil {
		t.Fatal(err)
	}
	f.DecRef()
	if got := read(t, pw); got != "new" {
		t.Fatalf("after O_TRUNC and write: %q", got)
	}
	// fstat through the open file agrees with stat of the name.
	impl, _ = pw.Open(unix.O_RDONLY)
	f = vfs.NewFile(impl, unix.O_RDONLY, vfs.Location{})
	defer f.DecRef()
	a, _ := f.Stat()
	b, _ := pw.Stat()
	if a.Dev != b.Dev || a.Ino != b.Ino || a.Size != 3 {
		t.Fatalf("fstat %+v, stat %+v", a, b)
	}
	lp, _ := walk(t, lower.RootInode(), "etc", "passwd")
	if got := read(t, lp); got != "root:x:0:0" {
		t.Fatalf("lower changed: %q", got)
	}
}
