package goferfs

import (
	"os"
	"path/filepath"
	"testing"

	"moat/gofer"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// startWritable serves root writable, with bind read-only on /mnt, and
// returns a writable VFS with the bind mounted.
func startWritable(t *testing.T, root, bind string) *vfs.VFS {
	t.Helper()
	b, err := gofer.OpenBindMount("/mnt", bind, true)
	if err != nil {
		t.Fatal(err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	cs, ss := os.NewFile(uintptr(fds[0]), "client"), os.NewFile(uintptr(fds[1]), "server")
	done := make(chan error, 1)
	go func() { done <- gofer.ServeTree(gofer.Tree{Root: root, Mounts: []*gofer.BindMount{b}}, ss, nil) }()
	c, err := gofer.NewClient(cs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		if err := <-done; err != nil {
			t.Errorf("ServeTree: %v", err)
		}
	})
	v, err := vfs.New(New(c), vfs.MountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	at, err := v.LookupAt(root0, v.Root(), v.Root(), "/mnt", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Mount(at, NewBind(c, "/mnt"), vfs.MountOptions{ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	return v
}

var root0 = &vfs.Creds{}

func TestGoferWrites(t *testing.T) {
	top := t.TempDir()
	root, bind := filepath.Join(top, "root"), filepath.Join(top, "bind")
	os.MkdirAll(filepath.Join(root, "mnt"), 0o755)
	os.MkdirAll(bind, 0o755)
	os.WriteFile(filepath.Join(bind, "f"), []byte("bound"), 0o644)
	v := startWritable(t, root, bind)
	r := v.Root()
	f, err := v.OpenAt(root0, r, r, "/new", unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_APPEND, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("one"))
	f.PWrite([]byte("X"), 0) // O_APPEND: Linux appends pwrite too
	f.DecRef()
	if b, _ := os.ReadFile(filepath.Join(root, "new")); string(b) != "oneX" {
		t.Errorf("file holds %q", b)
	}
	f, err = v.OpenAt(root0, r, r, "/new", unix.O_WRONLY|unix.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.DecRef()
	if st, _ := os.Stat(filepath.Join(root, "new")); st.Size() != 0 || st.Mode().Perm() != 0o640 {
		t.Errorf("after O_TRUNC: size %d mode %v", st.Size(), st.Mode())
	}
	if err := v.MkdirAt(root0, r, r, "/d", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := v.RenameAt(root0, r, r, "/new", r, "/d/moved", 0); err != nil {
		t.Fatal(err)
	}
	if err := v.ChmodAt(root0, r, r, "/d/moved", true, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := v.StatAt(root0, r, r, "/d/moved", 0)
	if err != nil || st.Mode != unix.S_IFREG|0o600 {
		t.Errorf("stat moved: %o, %v", st.Mode, err)
	}
	if s, err := v.StatFS(r); err != nil || s.Namelen == 0 {
		t.Errorf("statfs: %+v, %v", s, err)
	}
	// The read-only bind: readable, never writable; no link or rename
	// across it.
	b, err := v.OpenAt(root0, r, r, "/mnt/f", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	b.DecRef()
	if _, err := v.OpenAt(root0, r, r, "/mnt/f", unix.O_RDWR, 0); err != unix.EROFS {
		t.Errorf("open bind for write: %v", err)
	}
	if err := v.RenameAt(root0, r, r, "/d/moved", r, "/mnt/x", 0); err != unix.EXDEV {
		t.Errorf("rename into the bind: %v", err)
	}
	if err := v.UnlinkAt(root0, r, r, "/mnt/f", false); err != unix.EROFS {
		t.Errorf("unlink in the bind: %v", err)
	}
	if err := v.UnlinkAt(root0, r, r, "/d/moved", false); err != nil {
		t.Fatal(err)
	}
	if err := v.UnlinkAt(root0, r, r, "/d", true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "d")); !os.IsNotExist(err) {
		t.Errorf("d still on the host: %v", err)
	}
}
