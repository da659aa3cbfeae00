package timerfd

import (
	"encoding/binary"
	"testing"
	"time"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// ioBuf is a vfs.IOContext over a byte slice at address 0.
type ioBuf []byte

func (b ioBuf) CopyIn(addr uintptr, dst []byte) (int, error)  { return copy(dst, b[addr:]), nil }
func (b ioBuf) CopyOut(addr uintptr, src []byte) (int, error) { return copy(b[addr:], src), nil }

func TestCreateErrors(t *testing.T) {
	if _, err := New(99, 0); err != unix.EINVAL {
		t.Errorf("clock 99: %v, want EINVAL", err)
	}
	if _, err := New(unix.CLOCK_MONOTONIC, 1); err != unix.EINVAL {
		t.Errorf("flags 1: %v, want EINVAL", err)
	}
}

func TestExpirations(t *testing.T) {
	f, err := New(unix.CLOCK_MONOTONIC, NonBlock)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef()
	tf := Of(f)
	buf := make([]byte, 8)
	if _, err := f.Read(buf); err != unix.EAGAIN {
		t.Fatalf("read disarmed: %v, want EAGAIN", err)
	}
	if _, err := f.Read(buf[:4]); err != unix.EINVAL {
		t.Fatalf("short read: %v, want EINVAL", err)
	}
	tf.Set(false, time.Millisecond, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	if tf.Readiness(vfs.EventIn) == 0 {
		t.Fatal("not readable after expiries")
	}
	if n, err := f.Read(buf); n != 8 || err != nil || binary.LittleEndian.Uint64(buf) < 10 {
		t.Fatalf("read = %d, %v, count %d; want >= 10", n, err, binary.LittleEndian.Uint64(buf))
	}
	ov, oi := tf.Set(false, 0, 0)
	if ov <= 0 || ov > time.Millisecond || oi != time.Millisecond {
		t.Fatalf("old = %v/%v", ov, oi)
	}
	if v, i := tf.Get(); v != 0 || i != 0 {
		t.Fatalf("disarmed reads %v/%v", v, i)
	}

	io := ioBuf(make([]byte, 8))
	if _, err := tf.Ioctl(f, IocSetTicks, 0, io); err != unix.EINVAL {
		t.Fatalf("SET_TICKS 0: %v, want EINVAL", err)
	}
	binary.LittleEndian.PutUint64(io, 42)
	if _, err := tf.Ioctl(f, IocSetTicks, 0, io); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Read(buf); err != nil || binary.LittleEndian.Uint64(buf) != 42 {
		t.Fatalf("after SET_TICKS: %v, %d", err, binary.LittleEndian.Uint64(buf))
	}
}

func TestReleaseStops(t *testing.T) {
	f, _ := New(unix.CLOCK_MONOTONIC, 0)
	tf := Of(f)
	tf.Set(false, time.Hour, 0)
	f.DecRef()
	if v, _ := tf.Get(); v != 0 {
		t.Fatalf("released timer still armed: %v", v)
	}
}
