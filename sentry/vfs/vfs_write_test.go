package vfs

import (
	"testing"

	"golang.org/x/sys/unix"
)

// newWritableVFS is the test tree mounted read-write, with a read-only
// tree mounted on /mnt.
func newWritableVFS(t *testing.T) *VFS {
	t.Helper()
	fs := testTree()
	fs.root.children["tmp"] = dir(0o1777, map[string]*memNode{
		"mine":   {mode: unix.S_IFREG | 0o666, uid: 1000, gid: 1000},
		"theirs": {mode: unix.S_IFREG | 0o666, uid: 2000, gid: 2000},
	})
	fs.root.children["sgid"] = dir(0o2777, nil)
	fs.root.children["sgid"].gid = 77
	fs.root.children["full"] = dir(0o777, map[string]*memNode{"x": reg(0o644, "")})
	v, err := New(fs, MountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ro := &memFS{root: dir(0o777, map[string]*memNode{"f": reg(0o666, "")})}
	if err := v.Mount(mustLookup(t, v, "/mnt"), ro, MountOptions{ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestWriteErrors(t *testing.T) {
	v := newWritableVFS(t)
	r := v.Root()
	mkdir := func(c *Creds, p string) error { return v.MkdirAt(c, r, r, p, 0o755) }
	unlink := func(c *Creds, p string) error { return v.UnlinkAt(c, r, r, p, false) }
	rmdir := func(c *Creds, p string) error { return v.UnlinkAt(c, r, r, p, true) }
	rename := func(c *Creds, a, b string) error { return v.RenameAt(c, r, r, a, r, b, 0) }
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"mkdir on ro mount", mkdir(rootCreds, "/mnt/d"), unix.EROFS},
		{"mkdir existing on ro mount", mkdir(rootCreds, "/mnt/f"), unix.EEXIST},
		{"mkdir dot", mkdir(rootCreds, "/etc/."), unix.EEXIST},
		{"mkdir no permission", mkdir(userCreds, "/etc/d"), unix.EACCES},
		{"mknod device", v.MknodAt(rootCreds, r, r, "/etc/dev", unix.S_IFCHR|0o600), unix.EPERM},
		{"mknod bad type", v.MknodAt(rootCreds, r, r, "/etc/dev", 0o170000), unix.EINVAL},
		{"symlink empty target", v.SymlinkAt(rootCreds, r, r, "/etc/l", ""), unix.ENOENT},
		{"symlink trailing slash", v.SymlinkAt(rootCreds, r, r, "/etc/l/", "x"), unix.ENOENT},
		{"unlink dir", unlink(rootCreds, "/etc"), unix.EISDIR},
		{"unlink dot", unlink(rootCreds, "/etc/."), unix.EISDIR},
		{"rmdir file", rmdir(rootCreds, "/etc/passwd"), unix.ENOTDIR},
		{"rmdir dot", rmdir(rootCreds, "/etc/."), unix.EINVAL},
		{"rmdir dotdot", rmdir(rootCreds, "/etc/.."), unix.ENOTEMPTY},
		{"rmdir mount point", rmdir(rootCreds, "/mnt"), unix.EBUSY},
		{"rmdir non-empty", rmdir(rootCreds, "/full"), unix.ENOTEMPTY},
		{"unlink sticky other's", unlink(userCreds, "/tmp/theirs"), unix.EPERM},
		{"unlink in ro mount", unlink(rootCreds, "/mnt/f"), unix.EROFS},
		{"rename across mounts", rename(rootCreds, "/etc/passwd", "/mnt/p"), unix.EXDEV},
		{"rename into itself", rename(rootCreds, "/jail", "/jail/inner/j"), unix.EINVAL},
		{"rename over ancestor", rename(rootCreds, "/jail/inner/file", "/jail"), unix.ENOTEMPTY},
		{"rename dir over file", rename(rootCreds, "/jail", "/private"), unix.ENOTDIR},
		{"rename file over dir", rename(rootCreds, "/private", "/jail"), unix.EISDIR},
		{"rename mount point", rename(rootCreds, "/mnt", "/mnt2"), unix.EBUSY},
		{"rename missing", rename(rootCreds, "/nope", "/x"), unix.ENOENT},
		{"rename dot", rename(rootCreds, "/etc/.", "/x"), unix.EBUSY},
		{"rename whiteout", v.RenameAt(rootCreds, r, r, "/private", r, "/x", RenameWhiteout), unix.EINVAL},
		{"rename noreplace", v.RenameAt(rootCreds, r, r, "/private", r, "/etc", RenameNoReplace), unix.EEXIST},
		{"rename exchange missing", v.RenameAt(rootCreds, r, r, "/private", r, "/x", RenameExchange), unix.ENOENT},
		{"rename sticky other's", rename(userCreds, "/tmp/theirs", "/tmp/x"), unix.EPERM},
		{"link dir", v.LinkAt(rootCreds, r, mustLookup(t, v, "/etc"), r, "/e2"), unix.EPERM},
		{"link across mounts", v.LinkAt(rootCreds, r, mustLookup(t, v, "/etc/passwd"), r, "/mnt/p"), unix.EROFS},
		{"link existing", v.LinkAt(rootCreds, r, mustLookup(t, v, "/etc/passwd"), r, "/private"), unix.EEXIST},
		{"link protected", v.LinkAt(userCreds, r, mustLookup(t, v, "/tmp/theirs"), r, "/tmp/l"), nil},
		{"link protected unreadable", v.LinkAt(userCreds, r, mustLookup(t, v, "/private"), r, "/tmp/l2"), unix.EPERM},
		{"chmod not owner", v.ChmodAt(userCreds, r, r, "/etc/passwd", true, 0o777), unix.EPERM},
		{"chown not root", v.ChownAt(userCreds, r, r, "/tmp/mine", true, 0, -1), unix.EPERM},
		{"chgrp to a group not in", v.ChownAt(userCreds, r, r, "/tmp/mine", true, -1, 3), unix.EPERM},
		{"chgrp to a group in", v.ChownAt(userCreds, r, r, "/tmp/mine", true, -1, 50), nil},
		{"truncate dir", v.TruncateAt(rootCreds, r, r, "/etc", 0), unix.EISDIR},
		{"truncate no write", v.TruncateAt(userCreds, r, r, "/etc/passwd", 0), unix.EACCES},
		{"utimes set not owner", v.UtimesAt(userCreds, r, r, "/tmp/theirs", true, &[2]unix.Timespec{{Sec: 1}, {Sec: 1}}), unix.EPERM},
		{"utimes now writable", v.UtimesAt(userCreds, r, r, "/tmp/theirs", true, nil), nil},
		{"utimes now not writable", v.UtimesAt(userCreds, r, r, "/etc/passwd", true, nil), unix.EACCES},
		{"xattr trusted set", v.SetXattr(rootCreds, mustLookup(t, v, "/etc/passwd"), "trusted.x", nil, 0), unix.EPERM},
		{"xattr user on fs without", v.SetXattr(rootCreds, mustLookup(t, v, "/etc/passwd"), "user.x", nil, 0), unix.EOPNOTSUPP},
	}
	for _, tc := range tests {
		if tc.err != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
}

func TestWriteCache(t *testing.T) {
	v := newWritableVFS(t)
	r := v.Root()
	// A renamed directory moves in the cache: a cwd inside follows it.
	inner := mustLookup(t, v, "/jail/inner")
	if err := v.RenameAt(rootCreds, r, r, "/jail", r, "/prison", 0); err != nil {
		t.Fatal(err)
	}
	if got := where(v, inner); got != "/prison/inner" {
		t.Errorf("cwd after rename = %q", got)
	}
	if _, err := v.LookupAt(rootCreds, r, r, "/jail", false); err != unix.ENOENT {
		t.Errorf("old name after rename: %v", err)
	}
	mustLookup(t, v, "/prison/inner/file")
	// Exchange swaps the cached names.
	if err := v.RenameAt(rootCreds, r, r, "/prison", r, "/etc", RenameExchange); err != nil {
		t.Fatal(err)
	}
	if got := where(v, inner); got != "/etc/inner" {
		t.Errorf("cwd after exchange = %q", got)
	}
	mustLookup(t, v, "/prison/passwd")
	// Unlink takes the name out of the cache.
	if err := v.UnlinkAt(rootCreds, r, r, "/prison/passwd", false); err != nil {
		t.Fatal(err)
	}
	if _, err := v.LookupAt(rootCreds, r, r, "/prison/passwd", false); err != unix.ENOENT {
		t.Errorf("after unlink: %v", err)
	}
	// chmod changes what the walk checks at once.
	if err := v.ChmodAt(rootCreds, r, r, "/secret", true, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := v.LookupAt(userCreds, r, r, "/secret/key", false); err != nil {
		t.Errorf("walk after chmod 755: %v", err)
	}
	// Creation: O_CREAT|O_EXCL, set-group-ID inheritance, then EEXIST.
	f, err := v.OpenAt(userCreds, r, r, "/sgid/new", unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.DecRef()
	st, _ := v.StatAt(rootCreds, r, r, "/sgid/new", 0)
	if st.Gid != 77 || st.Uid != 1000 || st.Mode != unix.S_IFREG|0o644 {
		t.Errorf("created: uid %d gid %d mode %o", st.Uid, st.Gid, st.Mode)
	}
	if _, err := v.OpenAt(userCreds, r, r, "/sgid/new", unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY, 0o644); err != unix.EEXIST {
		t.Errorf("second O_EXCL: %v", err)
	}
	if err := v.MkdirAt(userCreds, r, r, "/sgid/d", 0o755); err != nil {
		t.Fatal(err)
	}
	st, _ = v.StatAt(rootCreds, r, r, "/sgid/d", 0)
	if st.Gid != 77 || st.Mode != unix.S_IFDIR|unix.S_ISGID|0o755 {
		t.Errorf("mkdir in sgid: gid %d mode %o", st.Gid, st.Mode)
	}
	// Creating through a dangling symlink creates its target.
	if f, err := v.OpenAt(rootCreds, r, r, "/dangling", unix.O_CREAT|unix.O_WRONLY, 0o600); err != nil {
		t.Errorf("create through dangling link: %v", err)
	} else {
		f.DecRef()
		mustLookup(t, v, "/nowhere")
	}
	if _, err := v.OpenAt(rootCreds, r, r, "/mnt/new", unix.O_CREAT|unix.O_WRONLY, 0o600); err != unix.EROFS {
		t.Errorf("create on ro mount: %v", err)
	}
}
