package gofer

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The confinement tests re-execute the test binary as a gofer in a new
// mount namespace; TestMain sends such a child to childMain.
const (
	envChild   = "MOAT_GOFER_TEST_CHILD"
	envRoot    = "MOAT_GOFER_TEST_ROOT"
	envOutside = "MOAT_GOFER_TEST_OUTSIDE"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envChild); mode != "" {
		os.Exit(childMain(mode))
	}
	os.Exit(m.Run())
}

// childMain runs in the re-executed child: Confine, then one mode.
func childMain(mode string) int {
	if mode == "caps" {
		return childCaps()
	}
	if mode == "serve-rw" {
		return childServeWritable()
	}
	if mode == "serve-ro-root" {
		return childServeReadOnlyRoot()
	}
	if err := Confine(os.Getenv(envRoot), true, nil); err != nil {
		fmt.Fprintln(os.Stderr, "child: Confine:", err)
		return 2
	}
	switch mode {
	case "serve":
		// Churn the garbage collector and the scheduler while serving,
		// so runtime system calls missing from the filter show up.
		go func() {
			var keep [][]byte
			for i := 0; ; i++ {
				keep = append(keep, make([]byte, 64<<10))
				if len(keep) > 64 {
					keep = nil
				}
				if i%16 == 0 {
					runtime.GC()
				}
				if i%8 == 0 {
					// A goroutine that exits locked takes its
					// thread along, so the runtime must clone
					// new ones under the filter.
					go func() { runtime.LockOSThread() }()
				}
				time.Sleep(time.Millisecond)
			}
		}()
		log := slog.New(slog.NewTextHandler(os.Stderr, nil))
		if err := Serve("/", os.NewFile(3, "sock"), log); err != nil {
			fmt.Fprintln(os.Stderr, "child: Serve:", err)
			return 1
		}
		return 0
	case "escape":
		return childEscape(os.Getenv(envOutside))
	case "kill-open":
		fmt.Println("confined")
		fd, err := unix.Open("/etc/passwd", unix.O_RDONLY, 0)
		fmt.Println("open survived:", fd, err)
	case "kill-mount":
		fmt.Println("confined")
		err := unix.Mount("none", "/", "tmpfs", 0, "")
		fmt.Println("mount survived:", err)
	case "kill-exec":
		fmt.Println("confined")
		err := unix.Exec("/bin/true", []string{"true"}, nil)
		fmt.Println("exec survived:", err)
	case "kill-fork":
		fmt.Println("confined")
		pid, _, errno := unix.RawSyscall(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0)
		fmt.Println("fork survived:", pid, errno)
	}
	return 0
}

// childEscape tries, as a compromised gofer would, to reach the file at
// outside (a host path beside the tree) with the host calls its filter
// still allows. Every attempt must fail; the tree's own files stay
// reachable.
func childEscape(outside string) int {
	open := func(p string) (unix.Stat_t, error) {
		var st unix.Stat_t
		fd, err := unix.Openat(unix.AT_FDCWD, p, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return st, err
		}
		defer unix.Close(fd)
		err = unix.Fstat(fd, &st)
		return st, err
	}
	failed := false
	root, err := open("/")
	if err != nil {
		fmt.Println("FAIL open /:", err)
		return 1
	}
	if _, err := open("/marker"); err != nil {
		fmt.Println("FAIL tree file /marker:", err)
		failed = true
	}
	up, err := open("/../../../..")
	if err != nil || up.Ino != root.Ino || up.Dev != root.Dev {
		fmt.Println("FAIL /../../../.. is not the tree root:", err)
		failed = true
	}
	rel := strings.TrimPrefix(outside, "/")
	for _, p := range []string{
		outside,               // the host path itself
		"/../../../../" + rel, // climbing with ..
		"/abs/" + rel,         // through the symlink to /
		"/up/" + filepath.Base(filepath.Dir(outside)) + "/" + filepath.Base(outside), // symlink to ..
	} {
		if _, err := open(p); !errors.Is(err, unix.ENOENT) {
			fmt.Printf("FAIL %s: %v, want ENOENT\n", p, err)
			failed = true
		}
	}
	if failed {
		return 1
	}
	fmt.Println("ok")
	return 0
}

// childCaps drops capabilities as Confine does (without the rest, so
// /proc stays readable) and prints what the kernel says this thread has.
func childCaps() int {
	runtime.LockOSThread()
	if err := dropCapabilities(KeptCapabilities); err != nil {
		fmt.Println("dropCapabilities:", err)
		return 1
	}
	b, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "Cap") {
			fmt.Println(line)
		}
	}
	return 0
}

// childServeWritable serves the tree writable, with the directory of the
// outside file bind-mounted read-write at /data and the file itself
// read-only at /etc/secret, confined with the writable filter.
func childServeWritable() int {
	outside := os.Getenv(envOutside)
	data, err := OpenBindMount("/data", filepath.Dir(outside), false)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	secret, err := OpenBindMount("/etc/secret", outside, true)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	if err := Confine(os.Getenv(envRoot), false, []*BindMount{data, secret}); err != nil {
		fmt.Fprintln(os.Stderr, "child: Confine:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	t := Tree{Root: "/", Mounts: []*BindMount{data, secret}}
	if err := ServeTree(t, os.NewFile(3, "sock"), log); err != nil {
		fmt.Fprintln(os.Stderr, "child: Serve:", err)
		return 1
	}
	return 0
}

// childServeReadOnlyRoot serves the tree read-only with the directory of
// the outside file bind-mounted read-write at /data: the layout of a
// container with root.readonly and a writable volume.
func childServeReadOnlyRoot() int {
	data, err := OpenBindMount("/data", filepath.Dir(os.Getenv(envOutside)), false)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	if err := Confine(os.Getenv(envRoot), true, []*BindMount{data}); err != nil {
		fmt.Fprintln(os.Stderr, "child: Confine:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	t := Tree{Root: "/", ReadOnly: true, Mounts: []*BindMount{data}}
	if err := ServeTree(t, os.NewFile(3, "sock"), log); err != nil {
		fmt.Fprintln(os.Stderr, "child: Serve:", err)
		return 1
	}
	return 0
}

// confinedTree makes tmp/tree (the served root) and tmp/outside/secret
// beside it, and returns the tree and the secret's path.
func confinedTree(t *testing.T) (string, string) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("confinement needs root (mount namespaces, pivot_root)")
	}
	tmp := t.TempDir()
	tree := filepath.Join(tmp, "tree")
	outside := filepath.Join(tmp, "outside", "secret")
	for _, d := range []string{filepath.Join(tree, "etc"), filepath.Join(tree, "proc"), filepath.Dir(outside)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		filepath.Join(tree, "marker"):        "tree\n",
		filepath.Join(tree, "etc", "passwd"): "root:x:0:0:tree:/:/bin/sh\n",
		outside:                              "host secret\n",
	}
	for p, s := range files {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"abs": "/", "up": ".."} {
		if err := os.Symlink(target, filepath.Join(tree, link)); err != nil {
			t.Fatal(err)
		}
	}
	return tree, outside
}

// child starts the test binary as a confined gofer in mode.
func child(t *testing.T, mode, tree, outside string, extra ...*os.File) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envChild+"="+mode, envRoot+"="+tree, envOutside+"="+outside)
	cmd.ExtraFiles = extra
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNS,
		Pdeathsig:  syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start a child in a new mount namespace: %v", err)
	}
	return cmd, &out
}

func TestConfineRefusesHostNamespace(t *testing.T) {
	var self, init unix.Stat_t
	if unix.Stat("/proc/self/ns/mnt", &self) != nil || unix.Stat("/proc/1/ns/mnt", &init) != nil || self.Ino != init.Ino {
		t.Skip("not in PID 1's mount namespace")
	}
	// Only the check: running Confine here would change the host.
	if err := checkOwnMountNS(); err == nil {
		t.Fatal("checkOwnMountNS accepted the host's mount namespace")
	}
}

// TestConfineEscape: after Confine, neither "..", nor a symlink to "/",
// nor a host path reaches a file beside the tree.
func TestConfineEscape(t *testing.T) {
	tree, outside := confinedTree(t)
	cmd, out := child(t, "escape", tree, outside)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("escape child: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "ok") {
		t.Fatalf("escape child output:\n%s", out)
	}
}

// TestConfineCapabilities: the serving thread keeps exactly
// KeptCapabilities, and the bounding set no more.
func TestConfineCapabilities(t *testing.T) {
	tree, outside := confinedTree(t)
	cmd, out := child(t, "caps", tree, outside)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("caps child: %v\n%s", err, out)
	}
	var want uint64
	for _, c := range KeptCapabilities {
		want |= 1 << c
	}
	for _, set := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		w := want
		if set == "CapInh" || set == "CapAmb" {
			w = 0
		}
		line := fmt.Sprintf("%s:\t%016x", set, w)
		if !strings.Contains(out.String(), line) {
			t.Errorf("want %q in\n%s", line, out)
		}
	}
}

// TestConfineFilterKills: calls outside the filter kill the gofer.
func TestConfineFilterKills(t *testing.T) {
	tree, outside := confinedTree(t)
	for _, mode := range []string{"kill-open", "kill-mount", "kill-exec", "kill-fork"} {
		t.Run(mode, func(t *testing.T) {
			cmd, out := child(t, mode, tree, outside)
			err := cmd.Wait()
			if !strings.Contains(out.String(), "confined") {
				t.Fatalf("child did not get confined: %v\n%s", err, out)
			}
			ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGSYS {
				t.Fatalf("child ended with %v, want killed by SIGSYS\n%s", err, out)
			}
		})
	}
}

// TestConfinedServe runs a real confined gofer and talks to it.
func TestConfinedServe(t *testing.T) {
	tree, outside := confinedTree(t)
	cs, ss := socketpair(t)
	cmd, out := child(t, "serve", tree, outside, ss)
	ss.Close()
	c, err := NewClient(cs)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		c.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("gofer exit after client EOF: %v\n%s", err, out)
		}
	}()
	for round := 0; round < 20; round++ {
		root, _, err := c.Attach()
		if err != nil {
			t.Fatalf("Attach: %v\n%s", err, out)
		}
		etc, _, err := c.Walk(root, "etc")
		if err != nil {
			t.Fatalf("Walk etc: %v", err)
		}
		pw, _, err := c.Walk(etc, "passwd")
		if err != nil {
			t.Fatalf("Walk passwd: %v", err)
		}
		f, err := c.Open(pw, unix.O_RDONLY)
		if err != nil {
			t.Fatalf("Open passwd: %v", err)
		}
		data, _ := io.ReadAll(f)
		f.Close()
		if !strings.Contains(string(data), "tree") {
			t.Fatalf("passwd = %q: not the tree's", data)
		}
		abs, _, err := c.Walk(root, "abs")
		if err != nil {
			t.Fatalf("Walk abs: %v", err)
		}
		if target, err := c.Readlink(abs); err != nil || target != "/" {
			t.Fatalf("Readlink abs = %q, %v", target, err)
		}
		d, err := c.Open(root, unix.O_RDONLY|unix.O_DIRECTORY)
		if err != nil {
			t.Fatalf("Open root: %v", err)
		}
		names, err := d.Readdirnames(-1)
		d.Close()
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(names)
		if got := strings.Join(names, ","); got != "abs,etc,marker,proc,up" {
			t.Fatalf("root entries %s", got)
		}
		if _, _, err := c.Walk(root, "outside"); !errors.Is(err, unix.ENOENT) {
			t.Fatalf("Walk outside: %v, want ENOENT", err)
		}
		// Reads of a read-only tree that are not file data: statfs
		// (find -xdev, df) and the xattr reads (ls, cp -a).
		if _, err := c.StatFS(root); err != nil {
			t.Fatalf("StatFS of the read-only root: %v\n%s", err, out)
		}
		if _, err := c.GetXattr(pw, "user.none"); err == nil || errors.Is(err, unix.EIO) {
			t.Fatalf("GetXattr of a missing attribute = %v, want ENODATA or ENOTSUP\n%s", err, out)
		}
		if _, err := c.ListXattr(pw); err != nil && !errors.Is(err, unix.EOPNOTSUPP) {
			t.Fatalf("ListXattr: %v\n%s", err, out)
		}
		c.mu.Lock()
		_, _, err = c.call(&request{op: opTwalk, fid: root, newID: c.allocFID(), name: ".."})
		c.mu.Unlock()
		if !errors.Is(err, unix.EINVAL) {
			t.Fatalf("Walk ..: %v, want EINVAL", err)
		}
		for _, id := range []FID{pw, etc, abs, root} {
			if err := c.Clunk(id); err != nil {
				t.Fatalf("Clunk: %v", err)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestConfinedServeWritable runs every write operation against a real
// confined writable gofer: the filter must allow what the server uses
// (a missing call kills it with SIGSYS), writes must land in the tree
// and in the read-write bind, the read-only bind must refuse them, and
// the read-only bind's clone must be read-only in the kernel too.
func TestConfinedServeWritable(t *testing.T) {
	tree, outside := confinedTree(t)
	cs, ss := socketpair(t)
	cmd, out := child(t, "serve-rw", tree, outside, ss)
	ss.Close()
	c, err := NewClient(cs)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		c.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("gofer exit after client EOF: %v\n%s", err, out)
		}
	}()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v\n%s", what, err, out)
		}
	}
	root, _, err := c.Attach()
	must("Attach", err)
	nf, a, f, err := c.Create(root, "new", unix.O_RDWR, 0o640, 1000, 1000)
	must("Create", err)
	_, err = f.WriteString("written")
	must("write", err)
	f.Close()
	if a.UID != 1000 || a.GID != 1000 || a.Mode != unix.S_IFREG|0o640 {
		t.Errorf("created attr uid %d gid %d mode %o", a.UID, a.GID, a.Mode)
	}
	must("Mkdir", c.Mkdir(root, "d", 0o755, 1000, 1000))
	must("Mknod", c.Mknod(root, "fifo", unix.S_IFIFO|0o600, 0, 0))
	must("Symlink", c.Symlink(root, "sl", "new", 0, 0))
	must("Link", c.Link(nf, root, "hard"))
	must("SetAttr", c.SetAttr(nf, SetAttr{Mask: SetMode | SetUID | SetGID | SetSize | SetTimes,
		Mode: 0o600, UID: 7, GID: 8, Size: 3, Atime: [2]int64{1, 0}, Mtime: [2]int64{2, 0}}))
	_, err = c.StatFS(root)
	must("StatFS", err)
	must("SetXattr", c.SetXattr(nf, "user.k", []byte("v"), 0))
	if v, err := c.GetXattr(nf, "user.k"); err != nil && err != unix.EOPNOTSUPP || err == nil && string(v) != "v" {
		t.Errorf("GetXattr = %q, %v", v, err)
	}
	_, err = c.ListXattr(nf)
	must("ListXattr", err)
	must("Rename", c.Rename(root, "new", root, "renamed", 0))
	must("Unlink", c.Unlink(root, "hard", 0))
	must("Rmdir", c.Unlink(root, "d", unix.AT_REMOVEDIR))
	var st unix.Stat_t
	must("stat renamed", unix.Lstat(filepath.Join(tree, "renamed"), &st))
	if st.Size != 3 || st.Uid != 7 || st.Gid != 8 || st.Mode != unix.S_IFREG|0o600 || st.Mtim.Sec != 2 {
		t.Errorf("renamed: size %d uid %d gid %d mode %o mtime %d", st.Size, st.Uid, st.Gid, st.Mode, st.Mtim.Sec)
	}
	// The read-write bind.
	data, _, err := c.AttachMount("/data")
	must("AttachMount /data", err)
	_, _, f, err = c.Create(data, "made-in-bind", unix.O_WRONLY, 0o644, 0, 0)
	must("Create in bind", err)
	f.Close()
	if _, err := os.Stat(filepath.Join(filepath.Dir(outside), "made-in-bind")); err != nil {
		t.Errorf("file created in the bind is not in its source: %v", err)
	}
	if err := c.Rename(data, "made-in-bind", root, "moved", 0); err != unix.EXDEV {
		t.Errorf("rename across trees = %v, want EXDEV", err)
	}
	// The read-only single-file bind.
	sec, _, err := c.AttachMount("/etc/secret")
	must("AttachMount /etc/secret", err)
	if f, err := c.Open(sec, unix.O_RDONLY); err != nil {
		t.Errorf("open read-only bound file: %v", err)
	} else {
		b, _ := io.ReadAll(f)
		f.Close()
		if string(b) != "host secret\n" {
			t.Errorf("bound file reads %q", b)
		}
	}
	for what, err := range map[string]error{
		"open for write": func() error { _, err := c.Open(sec, unix.O_WRONLY); return err }(),
		"setattr":        c.SetAttr(sec, SetAttr{Mask: SetMode, Mode: 0o600}),
		"link":           c.Link(sec, root, "secret-link"),
	} {
		if err != unix.EROFS && err != unix.EXDEV {
			t.Errorf("%s on the read-only bind = %v, want EROFS/EXDEV", what, err)
		}
	}
	if _, _, err := c.AttachMount("/nope"); err != unix.ENOENT {
		t.Errorf("AttachMount of an unknown destination = %v, want ENOENT", err)
	}
	if err := c.Mknod(root, "dev", unix.S_IFCHR|0o600, 0, 0); err != unix.EPERM {
		t.Errorf("mknod of a device = %v, want EPERM", err)
	}
}

// TestConfinedReadOnlyRootWritableBind: with a read-only root, the writes
// of a read-write bind mount must go through (the filter and the
// capabilities follow the bind, not only the root), and the root must
// still refuse them.
func TestConfinedReadOnlyRootWritableBind(t *testing.T) {
	tree, outside := confinedTree(t)
	cs, ss := socketpair(t)
	cmd, out := child(t, "serve-ro-root", tree, outside, ss)
	ss.Close()
	c, err := NewClient(cs)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		c.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("gofer exit after client EOF: %v\n%s", err, out)
		}
	}()
	root, _, err := c.Attach()
	if err != nil {
		t.Fatalf("Attach: %v\n%s", err, out)
	}
	data, _, err := c.AttachMount("/data")
	if err != nil {
		t.Fatalf("AttachMount /data: %v\n%s", err, out)
	}
	dir := filepath.Dir(outside)
	steps := []struct {
		what string
		err  error
	}{
		{"mkdir in the bind", c.Mkdir(data, "d", 0o755, 0, 0)},
		{"symlink in the bind", c.Symlink(data, "sl", "d", 0, 0)},
		{"unlink in the bind", c.Unlink(data, "sl", 0)},
	}
	for _, s := range steps {
		if s.err != nil {
			t.Fatalf("%s: %v\n%s", s.what, s.err, out)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "d")); err != nil || !fi.IsDir() {
		t.Errorf("directory made in the bind is not in its source: %v", err)
	}
	if err := c.Mkdir(root, "d", 0o755, 0, 0); err != unix.EROFS {
		t.Errorf("mkdir in the read-only root = %v, want EROFS", err)
	}
}
