package pipe

import (
	"bytes"
	"sync/atomic"
	"testing"
	"time"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// flag is an Interruptible that a test sets.
type flag struct{ v atomic.Bool }

func (f *flag) Interrupted() bool { return f.v.Load() }

func TestReadWriteEOF(t *testing.T) {
	r, w := NewPipe(0, 0, 0)
	defer r.DecRef()
	if n, err := w.Write([]byte("hello")); n != 5 || err != nil {
		t.Fatalf("write = %d, %v", n, err)
	}
	buf := make([]byte, 16)
	if n, err := r.Read(buf); n != 5 || err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read = %d %q, %v", n, buf[:n], err)
	}
	w.DecRef()
	if n, err := r.Read(buf); n != 0 || err != nil {
		t.Fatalf("read at EOF = %d, %v; want 0, nil", n, err)
	}
}

func TestNonblockAndEPIPE(t *testing.T) {
	r, w := NewPipe(0, 0, unix.O_NONBLOCK)
	defer w.DecRef()
	buf := make([]byte, 8)
	if _, err := r.Read(buf); err != unix.EAGAIN {
		t.Fatalf("empty nonblocking read: %v, want EAGAIN", err)
	}
	big := make([]byte, DefaultSize+100)
	if n, err := w.Write(big); n != DefaultSize || err != nil {
		t.Fatalf("big nonblocking write = %d, %v; want %d", n, err, DefaultSize)
	}
	if _, err := w.Write([]byte("x")); err != unix.EAGAIN {
		t.Fatalf("write to a full pipe: %v, want EAGAIN", err)
	}
	r.DecRef()
	if _, err := w.Write([]byte("x")); err != unix.EPIPE {
		t.Fatalf("write without readers: %v, want EPIPE", err)
	}
}

func TestAtomicSmallWrite(t *testing.T) {
	r, w := NewPipe(0, 0, unix.O_NONBLOCK)
	defer r.DecRef()
	defer w.DecRef()
	fill := make([]byte, DefaultSize-100)
	if n, _ := w.Write(fill); n != len(fill) {
		t.Fatalf("fill = %d", n)
	}
	// 200 bytes <= PIPE_BUF do not fit in the 100 left: all or nothing.
	if n, err := w.Write(make([]byte, 200)); n != 0 || err != unix.EAGAIN {
		t.Fatalf("atomic write = %d, %v; want 0, EAGAIN", n, err)
	}
}

func TestBlockingReadWakesAndInterrupts(t *testing.T) {
	r, w := NewPipe(0, 0, 0)
	defer r.DecRef()
	defer w.DecRef()
	got := make(chan string)
	go func() {
		buf := make([]byte, 8)
		n, err := r.ReadInterruptible(buf, nil)
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(buf[:n])
	}()
	time.Sleep(20 * time.Millisecond)
	if _, err := w.Write([]byte("late")); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "late" {
		t.Fatalf("blocked read got %q", s)
	}

	var in flag
	errc := make(chan error)
	go func() {
		_, err := r.ReadInterruptible(make([]byte, 8), &in)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	in.v.Store(true)
	select {
	case err := <-errc:
		if err != unix.EINTR {
			t.Fatalf("interrupted read: %v, want EINTR", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("interrupted read did not return")
	}
}

func TestPacketMode(t *testing.T) {
	r, w := NewPipe(0, 0, unix.O_DIRECT)
	defer r.DecRef()
	defer w.DecRef()
	w.Write([]byte("abc"))
	w.Write([]byte("defgh"))
	buf := make([]byte, 2)
	if n, _ := r.Read(buf); string(buf[:n]) != "ab" {
		t.Fatalf("first packet read %q, want ab (rest discarded)", buf[:n])
	}
	buf = make([]byte, 16)
	if n, _ := r.Read(buf); string(buf[:n]) != "defgh" {
		t.Fatalf("second packet read %q, want defgh", buf[:n])
	}
}

func TestSetCapacity(t *testing.T) {
	r, w := NewPipe(0, 0, unix.O_NONBLOCK)
	defer r.DecRef()
	defer w.DecRef()
	p := PipeOf(r)
	cases := []struct {
		size uint64
		priv bool
		want int
		err  error
	}{
		{0, false, PageSize, nil},
		{1, false, PageSize, nil},
		{5000, false, 2 * PageSize, nil},
		{3 * PageSize, false, 4 * PageSize, nil},
		{MaxSize, false, MaxSize, nil},
		{MaxSize + 1, false, 0, unix.EPERM},
		{MaxSize + 1, true, 2 * MaxSize, nil},
		{1<<31 + 1, true, 0, unix.EINVAL},
	}
	for _, c := range cases {
		n, err := p.SetCapacity(c.size, c.priv)
		if n != c.want || err != c.err {
			t.Errorf("SetCapacity(%d, %v) = %d, %v; want %d, %v", c.size, c.priv, n, err, c.want, c.err)
		}
	}
	p.SetCapacity(DefaultSize, false)
	w.Write(make([]byte, 3*PageSize))
	if _, err := p.SetCapacity(PageSize, false); err != unix.EBUSY {
		t.Fatalf("shrink below content: %v, want EBUSY", err)
	}
	if p.Queued() != 3*PageSize {
		t.Fatalf("Queued = %d", p.Queued())
	}
}

func TestReadiness(t *testing.T) {
	r, w := NewPipe(0, 0, unix.O_NONBLOCK)
	all := vfs.EventIn | vfs.EventOut | vfs.EventsAlways
	if got := vfs.Readiness(r, all); got != 0 {
		t.Errorf("empty read end: %#x, want 0", got)
	}
	if got := vfs.Readiness(w, all); got != vfs.EventOut {
		t.Errorf("empty write end: %#x, want POLLOUT", got)
	}
	e := vfs.NewWaitEntry(vfs.EventIn)
	r.Impl().(vfs.Waitable).EventRegister(e)
	w.Write([]byte("x"))
	select {
	case <-e.C():
	default:
		t.Error("write did not notify the reader's entry")
	}
	if got := vfs.Readiness(r, all); got != vfs.EventIn {
		t.Errorf("read end with data: %#x, want POLLIN", got)
	}
	w.DecRef()
	if got := vfs.Readiness(r, all); got != vfs.EventIn|vfs.EventHUp {
		t.Errorf("read end after writers left: %#x, want POLLIN|POLLHUP", got)
	}
	r.DecRef()
}

func TestFIFOOpen(t *testing.T) {
	fi := NewFIFO(0, 0)
	if _, err := fi.Open(unix.O_WRONLY|unix.O_NONBLOCK, nil, nil); err != unix.ENXIO {
		t.Fatalf("O_WRONLY|O_NONBLOCK without reader: %v, want ENXIO", err)
	}
	rd, err := fi.Open(unix.O_RDONLY|unix.O_NONBLOCK, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A nonblocking reader opened before any writer sees no hangup.
	rf := vfs.NewFile(rd, unix.O_RDONLY|unix.O_NONBLOCK, vfs.Location{})
	if got := vfs.Readiness(rf, vfs.EventIn); got != 0 {
		t.Errorf("fresh FIFO reader: %#x, want 0", got)
	}
	wr, err := fi.Open(unix.O_WRONLY|unix.O_NONBLOCK, nil, nil)
	if err != nil {
		t.Fatalf("writer with a reader: %v", err)
	}
	wf := vfs.NewFile(wr, unix.O_WRONLY, vfs.Location{})
	wf.Write([]byte("fifo"))
	buf := make([]byte, 8)
	if n, _ := rf.Read(buf); !bytes.Equal(buf[:n], []byte("fifo")) {
		t.Fatalf("read %q", buf[:n])
	}
	wf.DecRef()
	if got := vfs.Readiness(rf, vfs.EventIn); got != vfs.EventHUp {
		t.Errorf("FIFO reader after the writer left: %#x, want POLLHUP", got)
	}
	rf.DecRef()

	// A blocking reader waits for a writer.
	opened := make(chan error)
	go func() {
		impl, err := fi.Open(unix.O_RDONLY, nil, nil)
		if err == nil {
			impl.Release()
		}
		opened <- err
	}()
	select {
	case <-opened:
		t.Fatal("O_RDONLY open returned without a writer")
	case <-time.After(30 * time.Millisecond):
	}
	wr, err = fi.Open(unix.O_WRONLY, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Fatalf("blocked reader: %v", err)
	}
	wr.Release()
}
