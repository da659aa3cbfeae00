package tmpfs

import (
	"bytes"
	"errors"
	"testing"

	"moat/sentry/fs/fsutil"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// open opens i as a vfs.File with flags.
func open(t *testing.T, i *Inode, flags int) *vfs.File {
	t.Helper()
	impl, err := i.Open(flags)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return vfs.NewFile(impl, flags, vfs.Location{})
}

// names lists directory d through getdents64.
func names(t *testing.T, d *Inode) []string {
	t.Helper()
	f := open(t, d, unix.O_RDONLY|unix.O_DIRECTORY)
	defer f.DecRef()
	var out []string
	buf := make([]byte, 64) // small: forces several calls
	for {
		n, err := f.Getdents(buf)
		if err != nil {
			t.Fatalf("getdents: %v", err)
		}
		if n == 0 {
			return out
		}
		fsutil.ParseDirents(buf[:n], func(d fsutil.Dirent) { out = append(out, d.Name) })
	}
}

func TestParseOptions(t *testing.T) {
	cases := []struct {
		in   []string
		want Options
		bad  bool
	}{
		{in: []string{"nosuid", "size=64k", "mode=1777", "uid=5", "gid=6"}, want: Options{Size: 64 << 10, Mode: 0o1777, UID: 5, GID: 6}},
		{in: []string{"size=2m", "nr_inodes=10"}, want: Options{Size: 2 << 20, NrInodes: 10}},
		{in: []string{"size=65536k", "strictatime"}, want: Options{Size: 64 << 20}},
		{in: []string{"mode=99"}, bad: true},
		{in: []string{"size=x"}, bad: true},
		{in: []string{"nr_inodes=5%"}, bad: true},
	}
	for _, c := range cases {
		got, err := ParseOptions(c.in)
		if (err != nil) != c.bad {
			t.Errorf("ParseOptions(%q) error = %v, want error %v", c.in, err, c.bad)
			continue
		}
		if !c.bad && got != c.want {
			t.Errorf("ParseOptions(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestFileData(t *testing.T) {
	fs := New(Options{})
	root := fs.RootInode()
	if a := root.Attr(); a.Mode != unix.S_IFDIR|0o1777 {
		t.Fatalf("root mode %o", a.Mode)
	}
	f, err := root.MakeNode("a", unix.S_IFREG|0o640, 0, 7, 8)
	if err != nil {
		t.Fatal(err)
	}
	w := open(t, f, unix.O_RDWR)
	defer w.DecRef()
	if n, err := w.Write([]byte("hello world")); n != 11 || err != nil {
		t.Fatalf("write = %d, %v", n, err)
	}
	if _, err := w.PWrite([]byte("W"), 6); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 32)
	n, _ := w.PRead(buf, 0)
	if got := string(buf[:n]); got != "hello World" {
		t.Fatalf("read %q", got)
	}
	if w.HostFD() < 0 {
		t.Fatal("no memfd for mmap")
	}
	st, _ := f.Stat()
	if st.Size != 11 || st.Uid != 7 || st.Gid != 8 || st.Mode != unix.S_IFREG|0o640 || st.Nlink != 1 || st.Dev != fs.Dev() {
		t.Fatalf("stat %+v", st)
	}
	if err := f.Truncate(3); err != nil {
		t.Fatal(err)
	}
	n, _ = w.PRead(buf, 0)
	if string(buf[:n]) != "hel" {
		t.Fatalf("after truncate: %q", buf[:n])
	}
	// A sparse extension reads as zeros.
	if err := f.Truncate(8192); err != nil {
		t.Fatal(err)
	}
	n, _ = w.PRead(buf, 4096)
	if n != 32 || !bytes.Equal(buf, make([]byte, 32)) {
		t.Fatalf("hole read %d %v", n, buf)
	}
}

func TestSizeLimit(t *testing.T) {
	fs := New(Options{Size: 2 * pageSize, NrInodes: 3})
	root := fs.RootInode()
	f, _ := root.MakeNode("big", unix.S_IFREG|0o644, 0, 0, 0)
	w := open(t, f, unix.O_WRONLY)
	defer w.DecRef()
	n, err := w.Write(make([]byte, 3*pageSize))
	if n != 2*pageSize || err != nil {
		t.Fatalf("write over the limit = %d, %v; want a short write of %d", n, err, 2*pageSize)
	}
	if _, err := w.Write([]byte{1}); err != unix.ENOSPC {
		t.Fatalf("write when full = %v, want ENOSPC", err)
	}
	if st := fs.Statfs(); st.Type != Magic || st.Blocks != 2 || st.Bfree != 0 {
		t.Fatalf("statfs %+v", st)
	}
	// Two inodes used (root, big); one more fits, then ENOSPC.
	if _, err := root.MakeNode("x", unix.S_IFREG, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := root.MakeNode("y", unix.S_IFREG, 0, 0, 0); err != unix.ENOSPC {
		t.Fatalf("create past nr_inodes = %v", err)
	}
	// Freeing data makes room again.
	if err := f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	if _, err := w.PWrite([]byte{1}, 0); err != nil {
		t.Fatalf("write after truncate: %v", err)
	}
}

func TestNamespace(t *testing.T) {
	fs := New(Options{Mode: 0o755})
	root := fs.RootInode()
	d, err := root.MakeNode("d", unix.S_IFDIR|0o750, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.MakeNode("d", unix.S_IFREG, 0, 0, 0); err != unix.EEXIST {
		t.Fatalf("create existing = %v", err)
	}
	f, _ := d.MakeNode("f", unix.S_IFREG|0o600, 0, 0, 0)
	if err := root.AddLink("hard", f); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.Stat(); st.Nlink != 2 {
		t.Fatalf("nlink after link = %d", st.Nlink)
	}
	if _, err := d.MakeSymlink("s", "../hard", 0, 0); err != nil {
		t.Fatal(err)
	}
	if got := names(t, root); len(got) != 4 || got[0] != "." || got[1] != ".." || got[2] != "d" || got[3] != "hard" {
		t.Fatalf("root lists %q", got)
	}
	if st, _ := root.Stat(); st.Nlink != 3 {
		t.Fatalf("root nlink %d, want 3", st.Nlink)
	}
	if err := root.Rmdir("d", false); err != unix.ENOTEMPTY {
		t.Fatalf("rmdir non-empty = %v", err)
	}
	if err := root.RemoveName("d"); err != unix.EISDIR {
		t.Fatalf("unlink dir = %v", err)
	}
	cases := []struct {
		name     string
		from, to string
		src, dst *Inode
		flags    uint
		want     error
	}{
		{"missing", "nope", "x", root, root, 0, unix.ENOENT},
		{"dir over file", "d", "hard", root, root, 0, unix.ENOTDIR},
		{"file over dir", "hard", "d", root, root, 0, unix.EISDIR},
		{"noreplace", "hard", "d", root, root, RenameNoReplace, unix.EEXIST},
		{"into itself", "d", "sub", root, d, 0, unix.EINVAL},
		{"file across", "hard", "moved", root, d, 0, nil},
		{"exchange", "moved", "s", d, d, RenameExchange, nil},
	}
	for _, c := range cases {
		if err := c.src.Move(c.from, c.dst, c.to, c.flags); !errors.Is(err, c.want) && err != c.want {
			t.Errorf("%s: rename = %v, want %v", c.name, err, c.want)
		}
	}
	if s, err := d.LookupRaw("moved"); err != nil || s.fmt() != unix.S_IFLNK {
		t.Fatalf("exchange: moved is %v, %v", s, err)
	}
	if got := names(t, d); len(got) != 5 {
		t.Fatalf("d lists %q", got)
	}
	for _, n := range []string{"f", "s", "moved"} {
		if err := d.RemoveName(n); err != nil {
			t.Fatalf("unlink %s: %v", n, err)
		}
	}
	if err := root.Rmdir("d", false); err != nil {
		t.Fatal(err)
	}
	if st, _ := root.Stat(); st.Nlink != 2 {
		t.Fatalf("root nlink after rmdir %d", st.Nlink)
	}
	if _, err := d.MakeNode("late", unix.S_IFREG, 0, 0, 0); err != unix.ENOENT {
		t.Fatalf("create in removed dir = %v", err)
	}
}

func TestSetattrAndSetgid(t *testing.T) {
	fs := New(Options{})
	root := fs.RootInode()
	g, _ := root.MakeNode("g", unix.S_IFDIR|unix.S_ISGID|0o775, 0, 0, 50)
	sub, _ := g.MakeNode("sub", unix.S_IFDIR|0o755, 0, 1, 1)
	if a := sub.Attr(); a.GID != 50 || a.Mode&unix.S_ISGID == 0 {
		t.Fatalf("setgid inheritance: %+v", a)
	}
	ts := unix.Timespec{Sec: 1600000000}
	if err := sub.SetAttr(vfs.AttrChange{Mask: vfs.SetMode | vfs.SetUID | vfs.SetTimes, Mode: 0o700, UID: 9, Mtime: ts, Atime: unix.Timespec{Nsec: unix.UTIME_OMIT}}); err != nil {
		t.Fatal(err)
	}
	st, _ := sub.Stat()
	if st.Mode != unix.S_IFDIR|0o700 || st.Uid != 9 || st.Mtim != ts {
		t.Fatalf("after setattr %+v", st)
	}
}

func TestFIFO(t *testing.T) {
	fs := New(Options{})
	p, err := fs.RootInode().MakeNode("p", unix.S_IFIFO|0o644, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	rw := open(t, p, unix.O_RDWR)
	defer rw.DecRef()
	if _, err := rw.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if n, err := rw.Read(buf); n != 1 || err != nil {
		t.Fatalf("fifo read = %d, %v", n, err)
	}
	dev, _ := fs.RootInode().MakeNode("null", unix.S_IFCHR|0o666, unix.Mkdev(1, 3), 0, 0)
	if _, err := dev.Open(unix.O_RDONLY); err != unix.ENXIO {
		t.Fatalf("device without driver: %v", err)
	}
}
