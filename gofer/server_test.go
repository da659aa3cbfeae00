package gofer

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// socketpair returns two connected SOCK_SEQPACKET ends.
func socketpair(t testing.TB) (*os.File, *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	return os.NewFile(uintptr(fds[0]), "client"), os.NewFile(uintptr(fds[1]), "server")
}

// makeTree builds a small rootfs-like tree and returns its path.
//
//	dir/file.txt   "hello\n"
//	dir/sub/       (empty)
//	link -> dir/file.txt
//	abs -> /
//	fifo
func makeTree(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "dir", "sub"), 0o755))
	must(os.WriteFile(filepath.Join(root, "dir", "file.txt"), []byte("hello\n"), 0o644))
	must(os.Symlink("dir/file.txt", filepath.Join(root, "link")))
	must(os.Symlink("/", filepath.Join(root, "abs")))
	must(unix.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	return root
}

// startServer serves root in a goroutine and returns a client for it.
// Cleanup closes the client and checks that Serve returned nil.
func startServer(t *testing.T, root string) *Client {
	t.Helper()
	cs, ss := socketpair(t)
	done := make(chan error, 1)
	go func() { done <- Serve(root, ss, nil) }()
	c, err := NewClient(cs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return c
}

// walkPath walks each component of p from the root.
func walkPath(t *testing.T, c *Client, p string) (FID, Attr, error) {
	t.Helper()
	f, a, err := c.Attach()
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	for _, name := range strings.Split(p, "/") {
		f, a, err = c.Walk(f, name)
		if err != nil {
			return 0, Attr{}, err
		}
	}
	return f, a, nil
}

func TestWalkErrors(t *testing.T) {
	root := makeTree(t)
	c := startServer(t, root)
	tests := []struct {
		path string
		want error
	}{
		{"missing", unix.ENOENT},
		{"dir/file.txt/x", unix.ENOTDIR},
		{"dir/..", unix.EINVAL},
		{"..", unix.EINVAL},
		{"dir/.", unix.EINVAL},
		{strings.Repeat("x", 256), unix.ENAMETOOLONG},
		{"link/x", unix.ENOTDIR}, // the link is not followed: it is not a directory
		{"abs/etc", unix.ENOTDIR},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, _, err := walkPath(t, c, tt.path)
			if !errors.Is(err, tt.want) {
				t.Fatalf("walk %q: got %v, want %v", tt.path, err, tt.want)
			}
		})
	}
	// The names the sentry should never send, checked on the server too
	// by bypassing the client's own check.
	dir, _, _ := c.Attach()
	for _, name := range []string{"", ".", "..", "a/b", "a\x00b"} {
		c.mu.Lock()
		_, _, err := c.call(&request{op: opTwalk, fid: dir, newID: c.allocFID(), name: name})
		c.mu.Unlock()
		if !errors.Is(err, unix.EINVAL) {
			t.Errorf("server walk %q: got %v, want EINVAL", name, err)
		}
	}
}

func TestStatReadlinkOpen(t *testing.T) {
	root := makeTree(t)
	c := startServer(t, root)

	f, a, err := walkPath(t, c, "dir/file.txt")
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(root, "dir/file.txt"), &st); err != nil {
		t.Fatal(err)
	}
	if a.Ino != st.Ino || a.Size != 6 || a.Mode != st.Mode {
		t.Errorf("walk attr = %+v, want ino %d size 6 mode %o", a, st.Ino, st.Mode)
	}
	if a2, err := c.Stat(f); err != nil || a2 != a {
		t.Errorf("Stat = %+v, %v; want %+v", a2, err, a)
	}
	file, err := c.Open(f, unix.O_RDONLY)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	data, err := io.ReadAll(file)
	file.Close()
	if err != nil || string(data) != "hello\n" {
		t.Errorf("read %q, %v; want hello", data, err)
	}
	if fl, _ := unix.FcntlInt(file.Fd(), unix.F_GETFL, 0); fl >= 0 && fl&unix.O_NONBLOCK != 0 {
		t.Errorf("opened file is O_NONBLOCK though not asked")
	}
	if _, err := c.Readlink(f); !errors.Is(err, unix.EINVAL) {
		t.Errorf("Readlink of a regular file: %v, want EINVAL", err)
	}

	// The symlink is a FID of its own: not followed.
	l, la, err := walkPath(t, c, "link")
	if err != nil {
		t.Fatal(err)
	}
	if la.Mode&unix.S_IFMT != unix.S_IFLNK {
		t.Errorf("link mode %o: followed", la.Mode)
	}
	if target, err := c.Readlink(l); err != nil || target != "dir/file.txt" {
		t.Errorf("Readlink = %q, %v", target, err)
	}
	if _, err := c.Open(l, unix.O_RDONLY); !errors.Is(err, unix.ELOOP) {
		t.Errorf("Open symlink: %v, want ELOOP", err)
	}
	abs, _, err := walkPath(t, c, "abs")
	if err != nil {
		t.Fatal(err)
	}
	if target, err := c.Readlink(abs); err != nil || target != "/" {
		t.Errorf("Readlink abs = %q, %v", target, err)
	}
}

func TestOpenDirectoryAndGetdents(t *testing.T) {
	root := makeTree(t)
	c := startServer(t, root)
	f, _, err := walkPath(t, c, "dir")
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Open(f, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		t.Fatalf("Open dir: %v", err)
	}
	defer d.Close()
	var names []string
	buf := make([]byte, 4096)
	for {
		n, err := unix.Getdents(int(d.Fd()), buf)
		if err != nil {
			t.Fatalf("getdents64: %v", err)
		}
		if n == 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "file.txt,sub" {
		t.Errorf("entries %v, want file.txt, sub", names)
	}
	// O_DIRECTORY on a regular file.
	g, _, _ := walkPath(t, c, "dir/file.txt")
	if _, err := c.Open(g, unix.O_RDONLY|unix.O_DIRECTORY); !errors.Is(err, unix.ENOTDIR) {
		t.Errorf("O_DIRECTORY on a file: %v, want ENOTDIR", err)
	}
}

func TestOpenRefused(t *testing.T) {
	root := makeTree(t)
	c := startServer(t, root)
	file, _, _ := walkPath(t, c, "dir/file.txt")
	fifo, _, _ := walkPath(t, c, "fifo")
	tests := []struct {
		name  string
		fid   FID
		flags int
		want  error
	}{
		{"write", file, unix.O_WRONLY, unix.EROFS},
		{"rdwr", file, unix.O_RDWR, unix.EROFS},
		{"creat", file, unix.O_RDONLY | unix.O_CREAT, unix.EINVAL},
		{"trunc", file, unix.O_RDONLY | unix.O_TRUNC, unix.EROFS},
		{"append", file, unix.O_RDONLY | unix.O_APPEND, unix.EROFS},
		{"tmpfile", file, unix.O_RDONLY | unix.O_TMPFILE, unix.EOPNOTSUPP},
		{"path", file, unix.O_PATH, unix.EINVAL},
		{"accmode3", file, unix.O_ACCMODE, unix.EINVAL},
		{"fifo", fifo, unix.O_RDONLY, unix.EACCES},
		{"badfid", 99999, unix.O_RDONLY, unix.EBADF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := c.Open(tt.fid, tt.flags)
			if f != nil {
				f.Close()
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open(%#x): %v, want %v", tt.flags, err, tt.want)
			}
		})
	}
}

func TestOpenDevice(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("mknod needs root")
	}
	root := makeTree(t)
	if err := unix.Mknod(filepath.Join(root, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Skipf("mknod: %v", err)
	}
	c := startServer(t, root)
	f, a, err := walkPath(t, c, "null")
	if err != nil {
		t.Fatal(err)
	}
	if a.Rdev != unix.Mkdev(1, 3) {
		t.Errorf("rdev %x", a.Rdev)
	}
	if _, err := c.Open(f, unix.O_RDONLY); !errors.Is(err, unix.EACCES) {
		t.Errorf("Open char device: %v, want EACCES", err)
	}
}

// TestOpenReplaced checks that a name swapped for another file between
// walk and open is refused rather than opening the newcomer.
func TestOpenReplaced(t *testing.T) {
	root := makeTree(t)
	c := startServer(t, root)
	f, _, err := walkPath(t, c, "dir/file.txt")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, "dir/file.txt")
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("other"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Open(f, unix.O_RDONLY); !errors.Is(err, unix.ESTALE) {
		t.Errorf("Open replaced file: %v, want ESTALE", err)
	}
}

func TestClunk(t *testing.T) {
	root := makeTree(t)
	c := startServer(t, root)
	dir, _, err := walkPath(t, c, "dir")
	if err != nil {
		t.Fatal(err)
	}
	file, _, err := c.Walk(dir, "file.txt")
	if err != nil {
		t.Fatal(err)
	}
	// Clunking the parent must not break the child: it still reopens
	// through the parent's descriptor.
	if err := c.Clunk(dir); err != nil {
		t.Fatalf("Clunk dir: %v", err)
	}
	if _, err := c.Stat(dir); !errors.Is(err, unix.EBADF) {
		t.Errorf("Stat clunked: %v, want EBADF", err)
	}
	if err := c.Clunk(dir); !errors.Is(err, unix.EBADF) {
		t.Errorf("double Clunk: %v, want EBADF", err)
	}
	g, err := c.Open(file, unix.O_RDONLY)
	if err != nil {
		t.Fatalf("Open child of clunked dir: %v", err)
	}
	g.Close()
	if err := c.Clunk(file); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Walk(dir, "x"); !errors.Is(err, unix.EBADF) {
		t.Errorf("Walk from clunked: %v, want EBADF", err)
	}
}

// TestClunkClosesDescriptors checks the server does not leak a
// descriptor per walked FID.
func TestClunkClosesDescriptors(t *testing.T) {
	root := makeTree(t)
	c := startServer(t, root)
	r, _, _ := c.Attach()
	before := countFDs(t)
	for i := 0; i < 50; i++ {
		d, _, err := c.Walk(r, "dir")
		if err != nil {
			t.Fatal(err)
		}
		f, _, err := c.Walk(d, "file.txt")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Clunk(d); err != nil {
			t.Fatal(err)
		}
		if err := c.Clunk(f); err != nil {
			t.Fatal(err)
		}
	}
	if after := countFDs(t); after > before {
		t.Errorf("descriptors: %d before, %d after 50 walk+clunk rounds", before, after)
	}
}

func TestConcurrentClients(t *testing.T) {
	root := makeTree(t)
	c := startServer(t, root)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				r, _, err := c.Attach()
				if err != nil {
					errs <- err
					return
				}
				d, _, err := c.Walk(r, "dir")
				if err != nil {
					errs <- err
					return
				}
				f, a, err := c.Walk(d, "file.txt")
				if err != nil || a.Size != 6 {
					errs <- errors.Join(err, errors.New("bad size"))
					return
				}
				for _, id := range []FID{f, d, r} {
					if err := c.Clunk(id); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestServerEOF checks the server returns when the client goes away, and
// the client reports the dead server as ErrConnection, not an errno.
func TestServerEOF(t *testing.T) {
	root := makeTree(t)
	cs, ss := socketpair(t)
	done := make(chan error, 1)
	go func() { done <- Serve(root, ss, nil) }()
	c, err := NewClient(cs)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Attach(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := <-done; err != nil {
		t.Fatalf("Serve after client EOF: %v", err)
	}
	if _, _, err := c.Attach(); !errors.Is(err, ErrConnection) {
		t.Errorf("Attach after Close: %v, want ErrConnection", err)
	}

	// A server that dies mid-session.
	cs, ss = socketpair(t)
	c, _ = NewClient(cs)
	defer c.Close()
	ss.Close()
	_, _, err = c.Attach()
	var errno unix.Errno
	if !errors.Is(err, ErrConnection) || errors.As(err, &errno) {
		t.Errorf("Attach to dead gofer: %v, want ErrConnection and no errno", err)
	}
}

// TestServerMalformed sends raw garbage and checks the server answers
// with EPROTO (or EMSGSIZE) and keeps serving.
func TestServerMalformed(t *testing.T) {
	root := makeTree(t)
	cs, ss := socketpair(t)
	done := make(chan error, 1)
	go func() { done <- Serve(root, ss, nil) }()
	fd := int(cs.Fd())
	exchange := func(msg []byte) reply {
		t.Helper()
		if err := sendRetry(fd, msg, nil); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, MaxMessage)
		n, _, _, err := recvRetry(fd, buf, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := decodeReply(buf[:n])
		if err != nil {
			t.Fatalf("server reply undecodable: %v", err)
		}
		return r
	}
	var e encoder
	e.request(&request{op: opTattach, tag: 1, fid: 1})
	if r := exchange(e.b); r.op != opRerror || r.errno != uint32(unix.EPROTO) {
		t.Errorf("attach before version: %+v, want EPROTO", r)
	}
	for _, msg := range [][]byte{
		{1},
		{byte(opTwalk), 1, 0, 0, 0, 1},
		{200, 1, 0, 0, 0},
		append([]byte{byte(opTstat), 1, 0, 0, 0}, make([]byte, 20)...),
		make([]byte, MaxMessage+100),
	} {
		if r := exchange(msg); r.op != opRerror {
			t.Errorf("message % x: reply %v, want Rerror", msg[:min(len(msg), 8)], r.op)
		}
	}
	e.request(&request{op: opTversion, tag: 2, flags: Version, msize: MaxMessage})
	if r := exchange(e.b); r.op != opRversion || r.vers != Version {
		t.Errorf("version after garbage: %+v", r)
	}
	cs.Close()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// FuzzServerHandle feeds arbitrary request sequences to the server's
// handlers on a real tree: whatever the FIDs, names and flags, it must
// not panic, and it must release every descriptor when the connection
// ends. The input is a list of messages, each a u16 length and bytes.
func FuzzServerHandle(f *testing.F) {
	root := makeTree(f)
	var seed []byte
	add := func(r request) {
		var e encoder
		e.request(&r)
		seed = append(seed, byte(len(e.b)), byte(len(e.b)>>8))
		seed = append(seed, e.b...)
	}
	add(request{op: opTattach, fid: 1})
	add(request{op: opTwalk, fid: 1, newID: 2, name: "dir"})
	add(request{op: opTwalk, fid: 2, newID: 3, name: "file.txt"})
	add(request{op: opTopen, fid: 3})
	add(request{op: opTwalk, fid: 1, newID: 4, name: "link"})
	add(request{op: opTreadlink, fid: 4})
	add(request{op: opTclunk, fid: 2})
	add(request{op: opTopen, fid: 2, flags: unix.O_DIRECTORY})
	add(request{op: opTcreate, fid: 1, newID: 5, name: "new", mode: 0o644})
	add(request{op: opTrename, fid: 1, name: "link", dir2: 1, name2: "x"})
	add(request{op: opTsetattr, fid: 3, flags: SetMode, mode: 0o600})
	add(request{op: opTgetxattr, fid: 3, name: "user.x"})
	add(request{op: opTstatfs, fid: 1})
	add(request{op: opTattachmount, fid: 6, name: "/m"})
	f.Add(seed)
	f.Fuzz(func(t *testing.T, in []byte) {
		before := countFDs(t)
		rootfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		s := &server{rootfd: rootfd, root: &tree{name: "/", readOnly: true}, greeted: true,
			fids: map[FID]*node{}, mounts: map[string]*BindMount{}, log: slogDiscard}
		d := decoder{b: in}
		for len(d.b) > 0 {
			n := d.u16()
			msg := d.take(int(n))
			if d.err != nil {
				break
			}
			req, err := decodeRequest(msg)
			if err != nil {
				continue
			}
			if _, fd := s.handle(&req); fd >= 0 {
				unix.Close(fd)
			}
		}
		s.closeAll()
		for id, n := range s.fids {
			t.Fatalf("fid %d (%+v) survived closeAll", id, n)
		}
		if after := countFDs(t); after != before {
			t.Fatalf("%d descriptors open before, %d after", before, after)
		}
	})
}

var slogDiscard = slog.New(slog.DiscardHandler)

// countFDs counts this process's open descriptors.
func countFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
