package host

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// memIO is application memory for ioctl tests: one buffer at address 0x1000.
type memIO struct{ b []byte }

func (m *memIO) CopyIn(addr uintptr, dst []byte) (int, error) {
	return copy(dst, m.b[addr-0x1000:]), nil
}

func (m *memIO) CopyOut(addr uintptr, src []byte) (int, error) {
	if addr < 0x1000 || int(addr-0x1000)+len(src) > len(m.b) {
		return 0, unix.EFAULT
	}
	return copy(m.b[addr-0x1000:], src), nil
}

func newHostFile(t *testing.T, fd int) *vfs.File {
	t.Helper()
	fl, err := Flags(fd)
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFile(fd, fl)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.DecRef)
	return f
}

func TestPipe(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	r, w := newHostFile(t, p[0]), newHostFile(t, p[1])
	if r.Writable() || !w.Writable() {
		t.Fatalf("access modes from F_GETFL wrong: r %#x w %#x", r.Flags(), w.Flags())
	}
	if n, err := w.Write([]byte("hi")); n != 2 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	buf := make([]byte, 8)
	if n, err := r.Read(buf); string(buf[:n]) != "hi" || err != nil {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	if _, err := r.PRead(buf, 0); err != unix.ESPIPE {
		t.Errorf("pread on a pipe = %v, want ESPIPE", err)
	}
	if _, err := r.Seek(0, unix.SEEK_CUR); err != unix.ESPIPE {
		t.Errorf("lseek on a pipe = %v, want ESPIPE", err)
	}
	io := &memIO{b: make([]byte, 64)}
	for _, req := range []uintptr{unix.TCGETS, unix.TIOCGWINSZ, unix.TIOCSWINSZ, 0x1234} {
		if _, err := r.Ioctl(req, 0x1000, io); err != unix.ENOTTY {
			t.Errorf("ioctl %#x on a pipe = %v, want ENOTTY", req, err)
		}
	}
	if err := r.SetFlags(unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(buf); err != unix.EAGAIN {
		t.Errorf("read on an empty O_NONBLOCK pipe = %v, want EAGAIN", err)
	}
	st, err := r.Stat()
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("fstat = mode %o, %v", st.Mode, err)
	}
}

func TestRegularFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(p, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(p, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := newHostFile(t, fd)
	buf := make([]byte, 3)
	if n, err := f.PRead(buf, 5); string(buf[:n]) != "567" || err != nil {
		t.Errorf("PRead = %q, %v", buf[:n], err)
	}
	if off, err := f.Seek(-2, unix.SEEK_END); off != 8 || err != nil {
		t.Errorf("Seek = %d, %v", off, err)
	}
}

func TestTerminalIoctls(t *testing.T) {
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pty on this machine: %v", err)
	}
	f := newHostFile(t, m)
	want := unix.Winsize{Row: 24, Col: 80}
	if err := unix.IoctlSetWinsize(m, unix.TIOCSWINSZ, &want); err != nil {
		t.Fatal(err)
	}
	io := &memIO{b: make([]byte, 64)}
	if _, err := f.Ioctl(unix.TIOCGWINSZ, 0x1000, io); err != nil {
		t.Fatalf("TIOCGWINSZ: %v", err)
	}
	if r, c := binary.LittleEndian.Uint16(io.b), binary.LittleEndian.Uint16(io.b[2:]); r != 24 || c != 80 {
		t.Errorf("winsize %dx%d, want 24x80", r, c)
	}
	for i := range io.b {
		io.b[i] = 0xff
	}
	if _, err := f.Ioctl(unix.TCGETS, 0x1000, io); err != nil {
		t.Fatalf("TCGETS: %v", err)
	}
	if io.b[termiosSize] != 0xff {
		t.Errorf("TCGETS wrote %x, more than the kernel's %d bytes", io.b[:termiosSize+1], termiosSize)
	}
	if binary.LittleEndian.Uint32(io.b[8:]) == 0xffffffff {
		t.Errorf("TCGETS left c_cflag unwritten")
	}
	if _, err := f.Ioctl(unix.TCGETS, 0x1000+60, io); err != unix.EFAULT {
		t.Errorf("TCGETS to a bad address = %v, want EFAULT", err)
	}
}

// flag is a vfs.Interruptible set from the test.
type flag struct{ set atomic.Bool }

func (f *flag) Interrupted() bool { return f.set.Load() }

// pollInterval is how long the tests below let a reader sleep before
// acting on it.
const pollInterval = 50 * time.Millisecond

func TestInterruptibleRead(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	r, w := newHostFile(t, p[0]), newHostFile(t, p[1])
	in := &flag{}
	buf := make([]byte, 8)
	// Data already there is returned even with a signal pending.
	w.Write([]byte("x"))
	in.set.Store(true)
	if n, err := r.ReadInterruptible(buf, in); n != 1 || err != nil {
		t.Fatalf("read with data and a pending signal = %d, %v", n, err)
	}
	in.set.Store(false)
	go func() {
		time.Sleep(3 * pollInterval)
		in.set.Store(true)
	}()
	start := time.Now()
	if _, err := r.ReadInterruptible(buf, in); err != unix.EINTR {
		t.Fatalf("blocked read = %v, want EINTR", err)
	}
	if d := time.Since(start); d < 2*pollInterval {
		t.Errorf("read gave up after %v, before the interruption", d)
	}
	in.set.Store(false)
	go func() {
		time.Sleep(pollInterval)
		w.Write([]byte("late"))
	}()
	if n, err := r.ReadInterruptible(buf, in); string(buf[:n]) != "late" || err != nil {
		t.Fatalf("read of late data = %q, %v", buf[:n], err)
	}
}

// TestNotification checks that a pipe's readiness reaches a registered
// waiter through the notifier, with no polling: the entry's channel gets
// a token when the other end writes, and a blocked read wakes.
func TestNotification(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	r, w := newHostFile(t, p[0]), newHostFile(t, p[1])
	wt, ok := r.Impl().(vfs.Waitable)
	if !ok {
		t.Fatal("host file is not Waitable")
	}
	e := vfs.NewWaitEntry(vfs.EventIn)
	if !wt.EventRegister(e) {
		t.Fatal("EventRegister of a pipe = false, want a real notification")
	}
	defer wt.EventUnregister(e)
	if got := wt.Readiness(vfs.EventIn); got != 0 {
		t.Fatalf("empty pipe readiness = %#x", got)
	}
	w.Write([]byte("y"))
	select {
	case <-e.C():
	case <-time.After(5 * time.Second):
		t.Fatal("no notification after a write")
	}
	if got := wt.Readiness(vfs.EventIn); got&vfs.EventIn == 0 {
		t.Fatalf("readiness after a write = %#x", got)
	}
	// A regular file cannot be watched: always ready, no registration.
	f, err := os.CreateTemp(t.TempDir(), "reg")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dup, err := unix.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	reg := newHostFile(t, dup)
	if reg.Impl().(vfs.Waitable).EventRegister(vfs.NewWaitEntry(vfs.EventIn)) {
		t.Error("EventRegister of a regular file = true")
	}
}
