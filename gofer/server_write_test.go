package gofer

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// startTree serves t in a goroutine and returns a client for it.
func startTree(t *testing.T, tr Tree) *Client {
	t.Helper()
	cs, ss := socketpair(t)
	done := make(chan error, 1)
	go func() { done <- ServeTree(tr, ss, nil) }()
	c, err := NewClient(cs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Close()
		if err := <-done; err != nil {
			t.Errorf("ServeTree: %v", err)
		}
	})
	return c
}

func TestWriteErrors(t *testing.T) {
	root := makeTree(t)
	if err := os.Symlink("nowhere", filepath.Join(root, "dangling")); err != nil {
		t.Fatal(err)
	}
	c := startTree(t, Tree{Root: root})
	r, _, err := c.Attach()
	if err != nil {
		t.Fatal(err)
	}
	dir, _, _ := c.Walk(r, "dir")
	file, _, _ := c.Walk(dir, "file.txt")
	create := func(d FID, name string) error {
		_, _, f, err := c.Create(d, name, unix.O_RDWR, 0o644, 0, 0)
		if f != nil {
			f.Close()
		}
		return err
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"create existing", create(dir, "file.txt"), unix.EEXIST},
		{"create over dangling symlink", create(r, "dangling"), unix.EEXIST},
		{"create dotdot", create(dir, ".."), unix.EINVAL},
		{"create slash", create(dir, "a/b"), unix.EINVAL},
		{"create in a file", create(file, "x"), unix.ENOTDIR},
		{"create long", create(dir, string(make([]byte, 256))), unix.ENAMETOOLONG},
		{"mkdir existing", c.Mkdir(r, "dir", 0o755, 0, 0), unix.EEXIST},
		{"mkdir over symlink", c.Mkdir(r, "abs", 0o755, 0, 0), unix.EEXIST},
		{"mknod device", c.Mknod(r, "dev", unix.S_IFBLK|0o600, 0, 0), unix.EPERM},
		{"mknod regular", c.Mknod(r, "reg", unix.S_IFREG|0o600, 0, 0), unix.EINVAL},
		{"symlink existing", c.Symlink(r, "dir", "x", 0, 0), unix.EEXIST},
		{"link a directory", c.Link(dir, r, "dirlink"), unix.EPERM},
		{"link over existing", c.Link(file, r, "link"), unix.EEXIST},
		{"unlink missing", c.Unlink(r, "nope", 0), unix.ENOENT},
		{"unlink a directory", c.Unlink(r, "dir", 0), unix.EISDIR},
		{"rmdir a file", c.Unlink(dir, "file.txt", unix.AT_REMOVEDIR), unix.ENOTDIR},
		{"rmdir non-empty", c.Unlink(r, "dir", unix.AT_REMOVEDIR), unix.ENOTEMPTY},
		{"unlink bad flags", c.Unlink(r, "dir", 1), unix.EINVAL},
		{"rename noreplace", c.Rename(r, "link", r, "abs", unix.RENAME_NOREPLACE), unix.EEXIST},
		{"rename whiteout", c.Rename(r, "link", r, "x", unix.RENAME_WHITEOUT), unix.EINVAL},
		{"rename dir into itself", c.Rename(r, "dir", dir, "sub2", 0), unix.EINVAL},
		{"rename missing", c.Rename(r, "nope", r, "x", 0), unix.ENOENT},
		{"truncate a directory", c.SetAttr(dir, SetAttr{Mask: SetSize}), unix.EISDIR},
		{"setattr bad mask", c.SetAttr(file, SetAttr{Mask: 1 << 20}), unix.EINVAL},
		{"xattr trusted set", c.SetXattr(file, "trusted.x", []byte("v"), 0), unix.EPERM},
		{"xattr bad namespace", c.SetXattr(file, "bogus.x", []byte("v"), 0), unix.EOPNOTSUPP},
		{"xattr empty name", c.SetXattr(file, "", nil, 0), unix.ERANGE},
		{"xattr security get", func() error { _, err := c.GetXattr(file, "security.selinux"); return err }(), unix.ENODATA},
		{"attach unknown mount", func() error { _, _, err := c.AttachMount("/m"); return err }(), unix.ENOENT},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.err, tt.want)
		}
	}
}

func TestWriteReadOnlyTree(t *testing.T) {
	root := makeTree(t)
	c := startTree(t, Tree{Root: root, ReadOnly: true})
	r, _, _ := c.Attach()
	file, _, _ := walkPath(t, c, "dir/file.txt")
	_, _, _, cerr := c.Create(r, "new", unix.O_RDWR, 0o644, 0, 0)
	for what, err := range map[string]error{
		"create":      cerr,
		"mkdir":       c.Mkdir(r, "d", 0o755, 0, 0),
		"mknod":       c.Mknod(r, "f", unix.S_IFIFO|0o644, 0, 0),
		"symlink":     c.Symlink(r, "s", "x", 0, 0),
		"link":        c.Link(file, r, "l"),
		"unlink":      c.Unlink(r, "link", 0),
		"rename":      c.Rename(r, "link", r, "l2", 0),
		"setattr":     c.SetAttr(file, SetAttr{Mask: SetMode, Mode: 0o600}),
		"setxattr":    c.SetXattr(file, "user.x", nil, 0),
		"removexattr": c.RemoveXattr(file, "user.x"),
		"open write":  func() error { _, err := c.Open(file, unix.O_WRONLY); return err }(),
		"open trunc":  func() error { _, err := c.Open(file, unix.O_RDONLY|unix.O_TRUNC); return err }(),
	} {
		if err != unix.EROFS {
			t.Errorf("%s on a read-only tree: %v, want EROFS", what, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(root, "link")); err != nil {
		t.Errorf("link vanished: %v", err)
	}
}

func TestWriteOps(t *testing.T) {
	root := makeTree(t)
	c := startTree(t, Tree{Root: root})
	r, _, _ := c.Attach()
	nf, a, f, err := c.Create(r, "new", unix.O_WRONLY|unix.O_APPEND, 0o4755, 1234, 5678)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("abc")
	f.Close()
	if a.Mode != unix.S_IFREG|0o4755 || a.UID != 1234 || a.GID != 5678 {
		t.Errorf("created: mode %o uid %d gid %d (set-uid must survive the chown)", a.Mode, a.UID, a.GID)
	}
	// Open for write, O_TRUNC, O_APPEND.
	w, err := c.Open(nf, unix.O_WRONLY|unix.O_APPEND)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("def")
	w.Close()
	if b, _ := os.ReadFile(filepath.Join(root, "new")); string(b) != "abcdef" {
		t.Errorf("after append: %q", b)
	}
	tr, err := c.Open(nf, unix.O_WRONLY|unix.O_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	tr.Close()
	if st, _ := os.Stat(filepath.Join(root, "new")); st.Size() != 0 {
		t.Errorf("O_TRUNC left %d bytes", st.Size())
	}
	if err := c.Mkdir(r, "d", 0o2750, 42, 43); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	unix.Lstat(filepath.Join(root, "d"), &st)
	if st.Mode&0o777 != 0o750 || st.Uid != 42 || st.Gid != 43 {
		t.Errorf("mkdir: mode %o uid %d gid %d", st.Mode, st.Uid, st.Gid)
	}
	if err := c.Symlink(r, "sl", "../../etc/passwd", 42, 43); err != nil {
		t.Fatal(err)
	}
	unix.Lstat(filepath.Join(root, "sl"), &st)
	if st.Uid != 42 || st.Gid != 43 {
		t.Errorf("symlink owner %d:%d", st.Uid, st.Gid)
	}
	if err := c.Mknod(r, "sock", unix.S_IFSOCK|0o600, 0, 0); err != nil {
		t.Fatal(err)
	}
	// Times: UTIME_OMIT keeps atime, explicit mtime.
	unix.Lstat(filepath.Join(root, "new"), &st)
	atime := st.Atim
	if err := c.SetAttr(nf, SetAttr{Mask: SetTimes, Atime: [2]int64{0, unix.UTIME_OMIT}, Mtime: [2]int64{1000, 5}}); err != nil {
		t.Fatal(err)
	}
	unix.Lstat(filepath.Join(root, "new"), &st)
	if st.Atim != atime || st.Mtim.Sec != 1000 || st.Mtim.Nsec != 5 {
		t.Errorf("utimes: atime %v (was %v) mtime %v", st.Atim, atime, st.Mtim)
	}
	// chown clears set-uid, as Linux does.
	if err := c.SetAttr(nf, SetAttr{Mask: SetUID, UID: 1}); err != nil {
		t.Fatal(err)
	}
	unix.Lstat(filepath.Join(root, "new"), &st)
	if st.Mode&unix.S_ISUID != 0 || st.Uid != 1 || st.Gid != 5678 {
		t.Errorf("after chown: mode %o uid %d gid %d", st.Mode, st.Uid, st.Gid)
	}
	// Hard link, rename keeping the FID usable, exchange.
	if err := c.Link(nf, r, "hard"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "new"), []byte("data"), 0)
	if err := c.Rename(r, "new", r, "moved", 0); err != nil {
		t.Fatal(err)
	}
	rf, err := c.Open(nf, unix.O_RDONLY)
	if err != nil {
		t.Fatalf("open a renamed FID: %v", err)
	}
	b, _ := io.ReadAll(rf)
	rf.Close()
	if string(b) != "data" {
		t.Errorf("renamed FID reads %q", b)
	}
	if err := c.Rename(r, "moved", r, "d", unix.RENAME_EXCHANGE); err != nil {
		t.Fatal(err)
	}
	if rf, err := c.Open(nf, unix.O_RDONLY); err != nil {
		t.Errorf("open an exchanged FID: %v", err)
	} else {
		rf.Close()
	}
	unix.Lstat(filepath.Join(root, "d"), &st)
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		t.Errorf("exchange: d is mode %o", st.Mode)
	}
	if err := c.Unlink(r, "moved", unix.AT_REMOVEDIR); err != nil {
		t.Errorf("rmdir the exchanged directory: %v", err)
	}
	// Statfs is the host's.
	sf, err := c.StatFS(r)
	var hs unix.Statfs_t
	unix.Statfs(root, &hs)
	if err != nil || sf.Type != uint64(hs.Type) || sf.Bsize != uint64(hs.Bsize) {
		t.Errorf("statfs %+v, %v; host type %x", sf, err, hs.Type)
	}
	// Xattrs where the host has them.
	if err := c.SetXattr(nf, "user.k", []byte("v1"), unix.XATTR_CREATE); err == unix.EOPNOTSUPP {
		t.Log("host file system has no user xattrs")
		return
	} else if err != nil {
		t.Fatal(err)
	}
	if err := c.SetXattr(nf, "user.k", []byte("v2"), unix.XATTR_CREATE); err != unix.EEXIST {
		t.Errorf("XATTR_CREATE twice: %v", err)
	}
	if v, err := c.GetXattr(nf, "user.k"); err != nil || string(v) != "v1" {
		t.Errorf("getxattr = %q, %v", v, err)
	}
	if l, err := c.ListXattr(nf); err != nil || string(l) != "user.k\x00" {
		t.Errorf("listxattr = %q, %v", l, err)
	}
	if err := c.RemoveXattr(nf, "user.k"); err != nil {
		t.Error(err)
	}
	if _, err := c.GetXattr(nf, "user.k"); err != unix.ENODATA {
		t.Errorf("getxattr after remove: %v", err)
	}
}

// TestWriteContainment swaps names for symlinks to a host file outside
// the tree between the walk and the operation: operations act on the
// FID's descriptor, so nothing outside changes.
func TestWriteContainment(t *testing.T) {
	top := t.TempDir()
	root := filepath.Join(top, "root")
	outside := filepath.Join(top, "outside")
	os.MkdirAll(filepath.Join(root, "dir"), 0o755)
	os.MkdirAll(outside, 0o755)
	secret := filepath.Join(outside, "secret")
	os.WriteFile(secret, []byte("secret"), 0o644)
	os.WriteFile(filepath.Join(root, "dir", "f"), []byte("inside"), 0o644)
	c := startTree(t, Tree{Root: root})
	r, _, _ := c.Attach()
	dir, _, _ := c.Walk(r, "dir")
	f, _, _ := c.Walk(dir, "f")

	// The directory becomes a symlink to outside.
	os.Rename(filepath.Join(root, "dir"), filepath.Join(root, "dir.old"))
	os.Symlink(outside, filepath.Join(root, "dir"))
	// And the file a symlink to the secret.
	os.Rename(filepath.Join(root, "dir.old", "f"), filepath.Join(root, "dir.old", "f.old"))
	os.Symlink(secret, filepath.Join(root, "dir.old", "f"))

	_, _, nf, err := c.Create(dir, "created", unix.O_RDWR, 0o644, 0, 0)
	if err != nil {
		t.Fatalf("create in the moved directory: %v", err)
	}
	nf.Close()
	c.Mkdir(dir, "made", 0o755, 0, 0)
	c.Unlink(dir, "secret", 0)
	c.Rename(dir, "secret", dir, "stolen", 0)
	for what, err := range map[string]error{
		"truncate": c.SetAttr(f, SetAttr{Mask: SetSize, Size: 0}),
		"open":     func() error { _, err := c.Open(f, unix.O_WRONLY|unix.O_TRUNC); return err }(),
		"xattr":    c.SetXattr(f, "user.x", []byte("v"), 0),
	} {
		if err == nil {
			t.Errorf("%s through a swapped name succeeded", what)
		}
	}
	// chmod and chown act on the FID's own inode (the renamed file).
	c.SetAttr(f, SetAttr{Mask: SetMode | SetUID, Mode: 0o600, UID: 99})
	c.Link(f, dir, "hardlink")

	if b, _ := os.ReadFile(secret); string(b) != "secret" {
		t.Errorf("secret changed: %q", b)
	}
	var st unix.Stat_t
	unix.Stat(secret, &st)
	if st.Mode&0o777 != 0o644 || st.Uid != 0 {
		t.Errorf("secret's mode %o uid %d changed", st.Mode, st.Uid)
	}
	ents, _ := os.ReadDir(outside)
	if len(ents) != 1 {
		t.Errorf("outside now holds %d entries", len(ents))
	}
	if _, err := os.Stat(filepath.Join(root, "dir.old", "created")); err != nil {
		t.Errorf("create did not land in the FID's directory: %v", err)
	}
	unix.Stat(filepath.Join(root, "dir.old", "f.old"), &st)
	if st.Mode&0o777 != 0o600 || st.Uid != 99 {
		t.Errorf("chmod/chown did not reach the FID's inode: mode %o uid %d", st.Mode, st.Uid)
	}
}

// TestBindMounts serves a directory and a single file beside the root.
func TestBindMounts(t *testing.T) {
	top := t.TempDir()
	root := filepath.Join(top, "root")
	src := filepath.Join(top, "src")
	os.MkdirAll(root, 0o755)
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(top, "beside"), []byte("beside"), 0o644)
	os.WriteFile(filepath.Join(top, "one"), []byte("one file"), 0o644)
	d, err := OpenBindMount("/mnt/data/", src, false)
	if err != nil {
		t.Fatal(err)
	}
	one, err := OpenBindMount("/etc/one", filepath.Join(top, "one"), true)
	if err != nil {
		t.Fatal(err)
	}
	c := startTree(t, Tree{Root: root, ReadOnly: true, Mounts: []*BindMount{d, one}})
	m, a, err := c.AttachMount("/mnt/data")
	if err != nil || a.Mode&unix.S_IFMT != unix.S_IFDIR {
		t.Fatalf("AttachMount: %o, %v", a.Mode, err)
	}
	if _, _, err := c.Walk(m, ".."); err != unix.EINVAL {
		t.Errorf("walk .. from a bind root: %v", err)
	}
	if _, _, err := c.Walk(m, "beside"); err != unix.ENOENT {
		t.Errorf("walk to a file beside the source: %v", err)
	}
	if err := c.Mkdir(m, "made", 0o755, 0, 0); err != nil {
		t.Errorf("mkdir in a writable bind of a read-only root: %v", err)
	}
	sub, _, _ := c.Walk(m, "sub")
	os.Symlink(filepath.Join(top, "beside"), filepath.Join(src, "sub", "esc"))
	if esc, _, err := c.Walk(sub, "esc"); err != nil {
		t.Error(err)
	} else if _, err := c.Open(esc, unix.O_RDONLY); err != unix.ELOOP {
		t.Errorf("open a symlink out of the bind: %v", err)
	}
	o, a, err := c.AttachMount("/etc/one")
	if err != nil || a.Mode&unix.S_IFMT != unix.S_IFREG {
		t.Fatalf("AttachMount of a file: %o, %v", a.Mode, err)
	}
	f, err := c.Open(o, unix.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "one file" {
		t.Errorf("bound file reads %q", b)
	}
	if _, err := c.Open(o, unix.O_RDWR); err != unix.EROFS {
		t.Errorf("write to a read-only file bind: %v", err)
	}
	if _, _, err := c.Walk(o, "x"); err != unix.ENOTDIR {
		t.Errorf("walk from a file bind: %v", err)
	}
	for _, bad := range []string{"data", "=x", "/d=", "/d"} {
		if _, _, _, err := ParseMountFlag(bad); err == nil {
			t.Errorf("ParseMountFlag(%q) accepted", bad)
		}
	}
	if dst, src, ro, err := ParseMountFlag("/a/b/=/x:y:ro"); err != nil || dst != "/a/b" || src != "/x:y" || !ro {
		t.Errorf("ParseMountFlag = %q %q %v %v", dst, src, ro, err)
	}
}
