package goferfs

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"moat/gofer"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// startGofer serves a temporary tree with an in-process gofer server over
// a socketpair and returns a read-only VFS on it, plus a host path outside
// the tree that must stay invisible.
func startGofer(t *testing.T) (*vfs.VFS, string) {
	t.Helper()
	top := t.TempDir()
	outside := filepath.Join(top, "host-secret")
	root := filepath.Join(top, "rootfs")
	for _, d := range []string{"etc", "bin", "empty"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(outside, "host")
	write(filepath.Join(root, "etc", "hostname"), "sandbox\n")
	write(filepath.Join(root, "host-secret"), "inside")
	for link, target := range map[string]string{
		"escape":   "/",
		"dotdot":   "../../..",
		"hostname": "etc/hostname",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	cs, ss := os.NewFile(uintptr(fds[0]), "client"), os.NewFile(uintptr(fds[1]), "server")
	done := make(chan error, 1)
	go func() { done <- gofer.Serve(root, ss, nil) }()
	c, err := gofer.NewClient(cs)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() {
		c.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		ss.Close()
	})
	v, err := vfs.New(New(c), vfs.MountOptions{ReadOnly: true})
	if err != nil {
		t.Fatalf("vfs.New: %v", err)
	}
	return v, outside
}

var root = &vfs.Creds{}

func readAll(t *testing.T, f *vfs.File) string {
	t.Helper()
	var out []byte
	buf := make([]byte, 3)
	for {
		n, err := f.Read(buf)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if n == 0 {
			return string(out)
		}
		out = append(out, buf[:n]...)
	}
}

func TestGoferReadThroughSymlinks(t *testing.T) {
	v, _ := startGofer(t)
	r := v.Root()
	for _, p := range []string{"/etc/hostname", "/hostname", "/escape/etc/hostname", "/dotdot/etc/../etc/hostname"} {
		f, err := v.OpenAt(root, r, r, p, unix.O_RDONLY, 0)
		if err != nil {
			t.Fatalf("OpenAt(%q): %v", p, err)
		}
		if got := readAll(t, f); got != "sandbox\n" {
			t.Errorf("%s: read %q", p, got)
		}
		f.DecRef()
	}
	// Neither ".." nor a link to "/" reaches the host file next to the
	// rootfs: they land on the rootfs's own file of that name.
	for _, p := range []string{"/../host-secret", "/escape/../host-secret", "/dotdot/host-secret"} {
		f, err := v.OpenAt(root, r, r, p, unix.O_RDONLY, 0)
		if err != nil {
			t.Fatalf("OpenAt(%q): %v", p, err)
		}
		if got := readAll(t, f); got != "inside" {
			t.Errorf("%s: read %q, want the rootfs's file", p, got)
		}
		f.DecRef()
	}
}

func TestGoferFileOps(t *testing.T) {
	v, _ := startGofer(t)
	r := v.Root()
	f, err := v.OpenAt(root, r, r, "/etc/hostname", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef()
	buf := make([]byte, 4)
	if n, err := f.PRead(buf, 4); err != nil || string(buf[:n]) != "box\n" {
		t.Errorf("PRead = %q, %v", buf[:n], err)
	}
	if n, _ := f.Read(buf[:3]); string(buf[:n]) != "san" {
		t.Errorf("Read after PRead = %q (PRead must not move the offset)", buf[:n])
	}
	if off, err := f.Seek(1, unix.SEEK_SET); err != nil || off != 1 {
		t.Errorf("Seek = %d, %v", off, err)
	}
	if off, err := f.Seek(0, unix.SEEK_END); err != nil || off != 8 {
		t.Errorf("Seek end = %d, %v", off, err)
	}
	if _, err := f.Seek(-10, unix.SEEK_SET); err != unix.EINVAL {
		t.Errorf("Seek negative = %v, want EINVAL", err)
	}
	st, err := f.Stat()
	if err != nil || st.Size != 8 || st.Mode&unix.S_IFMT != unix.S_IFREG {
		t.Errorf("fstat = %+v, %v", st, err)
	}
	pst, err := v.StatAt(root, r, r, "/hostname", 0)
	if err != nil || pst.Ino != st.Ino {
		t.Errorf("stat through the link: ino %d, %v; want %d", pst.Ino, err, st.Ino)
	}
	lst, err := v.StatAt(root, r, r, "/hostname", unix.AT_SYMLINK_NOFOLLOW)
	if err != nil || lst.Mode&unix.S_IFMT != unix.S_IFLNK {
		t.Errorf("lstat = mode %o, %v", lst.Mode, err)
	}
	if _, err := f.Getdents(make([]byte, 512)); err != unix.ENOTDIR {
		t.Errorf("getdents on a file = %v", err)
	}
	if _, err := v.OpenAt(root, r, r, "/etc/hostname", unix.O_WRONLY, 0); err != unix.EROFS {
		t.Errorf("open for write = %v, want EROFS", err)
	}
	if _, err := v.OpenAt(root, r, r, "/etc/nope", unix.O_RDONLY, 0); err != unix.ENOENT {
		t.Errorf("open missing = %v, want ENOENT", err)
	}
	if s, err := v.ReadlinkAt(root, r, r, "/escape"); err != nil || s != "/" {
		t.Errorf("readlink = %q, %v", s, err)
	}
}

func TestGoferGetdents(t *testing.T) {
	v, _ := startGofer(t)
	r := v.Root()
	d, err := v.OpenAt(root, r, r, "/", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer d.DecRef()
	if _, err := d.Getdents(make([]byte, 8)); err != unix.EINVAL {
		t.Errorf("getdents with a tiny buffer = %v, want EINVAL", err)
	}
	var names []string
	buf := make([]byte, 64)
	for {
		n, err := d.Getdents(buf)
		if err != nil {
			t.Fatalf("Getdents: %v", err)
		}
		if n == 0 {
			break
		}
		for off := 0; off < n; {
			reclen := int(binary.LittleEndian.Uint16(buf[off+16:]))
			name := buf[off+19 : off+reclen]
			names = append(names, string(name[:bytes.IndexByte(name, 0)]))
			off += reclen
		}
	}
	sort.Strings(names)
	want := []string{".", "..", "bin", "dotdot", "empty", "escape", "etc", "host-secret", "hostname"}
	if len(names) != len(want) {
		t.Fatalf("entries %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("entries %v, want %v", names, want)
		}
	}
	if off, err := d.Seek(0, unix.SEEK_SET); err != nil || off != 0 {
		t.Fatalf("rewind: %d, %v", off, err)
	}
	if n, err := d.Getdents(buf); err != nil || n == 0 {
		t.Errorf("getdents after rewind = %d, %v", n, err)
	}
	if _, err := d.Read(buf); err != unix.EISDIR {
		t.Errorf("read on a directory = %v, want EISDIR", err)
	}
}
