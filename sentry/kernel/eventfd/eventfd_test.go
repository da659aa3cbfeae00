package eventfd

import (
	"encoding/binary"
	"testing"
	"time"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func TestCounter(t *testing.T) {
	cases := []struct {
		name  string
		flags int
		init  uint32
		adds  []uint64
		reads []uint64 // successive values; 0 means EAGAIN
	}{
		{"plain", NonBlock, 3, []uint64{4}, []uint64{7, 0}},
		{"semaphore", NonBlock | Semaphore, 2, nil, []uint64{1, 1, 0}},
		{"empty", NonBlock, 0, nil, []uint64{0}},
	}
	for _, c := range cases {
		f, err := New(c.init, c.flags)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range c.adds {
			if n, err := f.Write(u64(v)); n != 8 || err != nil {
				t.Fatalf("%s: write %d = %d, %v", c.name, v, n, err)
			}
		}
		for i, want := range c.reads {
			buf := make([]byte, 8)
			n, err := f.Read(buf)
			if want == 0 {
				if err != unix.EAGAIN {
					t.Errorf("%s: read %d: %v, want EAGAIN", c.name, i, err)
				}
				continue
			}
			if n != 8 || err != nil || binary.LittleEndian.Uint64(buf) != want {
				t.Errorf("%s: read %d = %d %d, %v; want %d", c.name, i, n, binary.LittleEndian.Uint64(buf), err, want)
			}
		}
		f.DecRef()
	}
}

func TestErrors(t *testing.T) {
	if _, err := New(0, 0x100); err != unix.EINVAL {
		t.Errorf("bad flag: %v, want EINVAL", err)
	}
	f, _ := New(0, NonBlock)
	defer f.DecRef()
	if _, err := f.Read(make([]byte, 7)); err != unix.EINVAL {
		t.Errorf("7-byte read: %v, want EINVAL", err)
	}
	if _, err := f.Write(make([]byte, 4)); err != unix.EINVAL {
		t.Errorf("4-byte write: %v, want EINVAL", err)
	}
	if _, err := f.Write(u64(^uint64(0))); err != unix.EINVAL {
		t.Errorf("write of 2^64-1: %v, want EINVAL", err)
	}
	if _, err := f.Write(u64(maxCount)); err != nil {
		t.Fatalf("write of the max: %v", err)
	}
	if _, err := f.Write(u64(1)); err != unix.EAGAIN {
		t.Errorf("overflowing write: %v, want EAGAIN", err)
	}
	if got := vfs.Readiness(f, vfs.EventIn|vfs.EventOut); got != vfs.EventIn {
		t.Errorf("full counter readiness %#x, want POLLIN only", got)
	}
}

func TestBlockingRead(t *testing.T) {
	f, _ := New(0, 0)
	defer f.DecRef()
	got := make(chan uint64)
	go func() {
		buf := make([]byte, 8)
		f.Read(buf)
		got <- binary.LittleEndian.Uint64(buf)
	}()
	time.Sleep(20 * time.Millisecond)
	f.Write(u64(5))
	select {
	case v := <-got:
		if v != 5 {
			t.Fatalf("read %d, want 5", v)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("blocked read not woken by a write")
	}
}
