package proc

import (
	"strings"
	"testing"
	"time"

	"moat/sentry/mm"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// fakeSource is a sandbox of one process (pid 1) whose root is proc
// itself.
type fakeSource struct {
	v     *vfs.VFS
	fds   map[int32]*vfs.File
	root  vfs.Location
	cwd   vfs.Location
	comm  string
	owner uint32
}

type fakeThread struct{ s *fakeSource }

func (s *fakeSource) VFS() *vfs.VFS { return s.v }
func (s *fakeSource) Caller(c *vfs.Creds) (int32, int32, bool) {
	if c == nil || c.Caller == nil {
		return 0, 0, false
	}
	return 1, 1, true
}
func (s *fakeSource) PIDs() []int32 { return []int32{1} }
func (s *fakeSource) Thread(pid, tid int32) (Thread, bool) {
	if pid != 1 || tid != 1 {
		return nil, false
	}
	return fakeThread{s}, true
}
func (s *fakeSource) Uptime() time.Duration { return 90 * time.Second }
func (s *fakeSource) NumCPU() int           { return 2 }
func (s *fakeSource) Hostname() string      { return "box" }
func (s *fakeSource) Memory() Memory        { return Memory{Total: 1 << 30, Free: 1 << 29} }

func (t fakeThread) Status() (Status, bool) {
	return Status{Comm: t.s.comm, State: 'S', PID: 1, TID: 1, PGID: 1, SID: 1, Threads: 1,
		UIDs: [4]uint32{t.s.owner, t.s.owner, t.s.owner, t.s.owner}, Umask: 0o22}, true
}
func (t fakeThread) TIDs() []int32                                 { return []int32{1} }
func (t fakeThread) SetComm(b []byte)                              { t.s.comm = string(b) }
func (t fakeThread) MM() *mm.MemoryManager                         { return nil }
func (t fakeThread) Exec() Exec                                    { return Exec{} }
func (t fakeThread) Limits() []Rlimit                              { return []Rlimit{{^uint64(0), ^uint64(0)}} }
func (t fakeThread) FSContext() (vfs.Location, vfs.Location, bool) { return t.s.root, t.s.cwd, true }
func (t fakeThread) FDs() []int32 {
	var out []int32
	for fd := range t.s.fds {
		out = append(out, fd)
	}
	return out
}
func (t fakeThread) FD(fd int32) (*vfs.File, bool, error) {
	f := t.s.fds[fd]
	if f == nil {
		return nil, false, unix.EBADF
	}
	f.IncRef()
	return f, false, nil
}

func newFake(t *testing.T) (*fakeSource, *vfs.Creds) {
	t.Helper()
	s := &fakeSource{fds: map[int32]*vfs.File{}, comm: "sh"}
	v, err := vfs.New(New(s), vfs.MountOptions{Type: "proc", Source: "proc"})
	if err != nil {
		t.Fatal(err)
	}
	s.v, s.root = v, v.Root()
	s.cwd = s.root
	return s, &vfs.Creds{Caller: "task"}
}

func readAll(t *testing.T, s *fakeSource, c *vfs.Creds, path string) string {
	t.Helper()
	f, err := s.v.OpenAt(c, s.root, s.root, path, unix.O_RDONLY, 0)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.DecRef()
	buf := make([]byte, 64<<10)
	n, err := f.Read(buf)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(buf[:n])
}

func TestSelfAndFiles(t *testing.T) {
	s, c := newFake(t)
	if got, err := s.v.ReadlinkAt(c, s.root, s.root, "/self"); err != nil || got != "1" {
		t.Errorf("readlink /self = %q, %v; want 1", got, err)
	}
	if _, err := s.v.ReadlinkAt(&vfs.Creds{}, s.root, s.root, "/self"); err != unix.ENOENT {
		t.Errorf("readlink /self without a caller = %v, want ENOENT", err)
	}
	for _, tc := range []struct{ path, want string }{
		{"/self/comm", "sh\n"},
		{"/self/cgroup", "0::/\n"},
		{"/sys/kernel/hostname", "box\n"},
		{"/sys/kernel/ostype", "Linux\n"},
		{"/thread-self/comm", "sh\n"},
		{"/1/task/1/comm", "sh\n"},
		{"/self/status", "Name:\tsh\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t1\n"},
		{"/meminfo", "MemTotal:        1048576 kB\n"},
		{"/uptime", "90.00 180.00\n"},
		{"/self/limits", "Limit                     Soft Limit           Hard Limit           Units     \nMax cpu time              unlimited            unlimited            seconds   \n"},
		{"/self/mounts", "proc / proc rw,relatime 0 0\n"},
	} {
		if got := readAll(t, s, c, tc.path); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s = %q, want prefix %q", tc.path, got, tc.want)
		}
	}
	st := readAll(t, s, c, "/self/stat")
	if n := len(strings.Fields(st)); n != 52 {
		t.Errorf("/self/stat has %d fields, want 52: %q", n, st)
	}
}

func TestWrites(t *testing.T) {
	s, c := newFake(t)
	for _, tc := range []struct {
		path     string
		openErr  error
		writeErr error
	}{
		{"/version", nil, unix.EIO},
		{"/self/status", nil, unix.EINVAL},
		{"/sys/kernel/hostname", unix.EACCES, nil},
	} {
		f, err := s.v.OpenAt(c, s.root, s.root, tc.path, unix.O_WRONLY, 0)
		if err != tc.openErr {
			t.Errorf("open %s for writing = %v, want %v", tc.path, err, tc.openErr)
		}
		if err != nil {
			continue
		}
		if _, err := f.Write([]byte("x")); err != tc.writeErr {
			t.Errorf("write %s = %v, want %v", tc.path, err, tc.writeErr)
		}
		f.DecRef()
	}
	f, err := s.v.OpenAt(c, s.root, s.root, "/self/comm", unix.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("renamed\n"))
	f.DecRef()
	if got := readAll(t, s, c, "/self/comm"); got != "renamed\n" {
		t.Errorf("comm after write = %q", got)
	}
}

func TestFDLinksAndEscape(t *testing.T) {
	s, c := newFake(t)
	f, err := s.v.OpenAt(c, s.root, s.root, "/version", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.fds[3] = f
	if got, err := s.v.ReadlinkAt(c, s.root, s.root, "/self/fd/3"); err != nil || got != "/version" {
		t.Errorf("readlink fd/3 = %q, %v", got, err)
	}
	if got := readAll(t, s, c, "/self/fd/3"); !strings.HasPrefix(got, "Linux version") {
		t.Errorf("reading through fd/3 = %q", got)
	}
	if _, err := s.v.OpenAt(c, s.root, s.root, "/self/fd/4", unix.O_RDONLY, 0); err != unix.ENOENT {
		t.Errorf("open of a closed fd = %v, want ENOENT", err)
	}
	// The links jump to places in the tree: ".." from root stays there.
	loc, err := s.v.LookupAt(c, s.root, s.root, "/self/root/../../..", true)
	if err != nil || loc != s.root {
		t.Errorf("/self/root/../../.. = %v, %v; want the root", loc, err)
	}
	loc, err = s.v.LookupAt(c, s.root, s.root, "/self/cwd", true)
	if err != nil || loc != s.cwd {
		t.Errorf("/self/cwd = %v, %v", loc, err)
	}
	// Another user's process: its links are refused.
	s.owner = 1000
	other := &vfs.Creds{UID: 2000, Caller: "task"}
	if _, err := s.v.ReadlinkAt(other, s.root, s.root, "/1/cwd"); err != unix.EACCES {
		t.Errorf("readlink of another user's cwd = %v, want EACCES", err)
	}
	if _, err := s.v.OpenAt(other, s.root, s.root, "/1/environ", unix.O_RDONLY, 0); err != unix.EACCES {
		t.Errorf("open of another user's environ = %v, want EACCES", err)
	}
}

func TestFormatFDInfoAndNames(t *testing.T) {
	if got := charDevName(unix.Mkdev(136, 2)); got != "/dev/pts/2" {
		t.Errorf("charDevName(136:2) = %q", got)
	}
	if got := escapeMount("a b\\"); got != `a\040b\134` {
		t.Errorf("escapeMount = %q", got)
	}
}
