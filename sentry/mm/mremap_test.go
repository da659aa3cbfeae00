package mm

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// refFile is a testFile that counts references, to check that mm holds
// exactly one per vma.
type refFile struct {
	testFile
	refs *int
}

func (f refFile) IncRef() { *f.refs++ }
func (f refFile) DecRef() { *f.refs-- }

// fill writes a distinct byte pattern to [addr, addr+n).
func fill(t *testing.T, m *MemoryManager, addr, n uintptr, seed byte) []byte {
	t.Helper()
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i/PageSize)
	}
	if _, err := m.as.WriteAt(b, addr); err != nil {
		t.Fatal(err)
	}
	return b
}

func read(t *testing.T, m *MemoryManager, addr, n uintptr) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := m.as.ReadAt(b, addr); err != nil {
		t.Fatalf("read %#x+%#x: %v", addr, n, err)
	}
	return b
}

func TestMRemapErrors(t *testing.T) {
	// The cases and errnos of a probe run on Linux 6.18.
	m, as := newFake()
	p := uintptr(PageSize)
	a := uintptr(0x10000000)
	mustMap(t, m, MMapOpts{Addr: a, Length: 2 * p, Prot: rw, Flags: fix})
	if err := m.MProtect(a+p, p, unix.PROT_READ); err != nil {
		t.Fatal(err)
	}
	mustMap(t, m, MMapOpts{Addr: a + 5*p, Length: p, Prot: unix.PROT_READ, Flags: fix})
	tests := []struct {
		name                string
		old, oldLen, newLen uintptr
		flags               int
		newAddr             uintptr
		want                unix.Errno
	}{
		{"shrink unmapped", a + 2*p, 2 * p, p, 0, 0, unix.EFAULT},
		{"same size unmapped", a + 2*p, p, p, 0, 0, unix.EFAULT},
		{"grow unmapped", a + 2*p, p, 2 * p, mremapMayMove, 0, unix.EFAULT},
		{"grow across two vmas", a, 2 * p, 3 * p, mremapMayMove, 0, unix.EFAULT},
		{"old size 0", a, 0, p, mremapMayMove, 0, unix.EINVAL},
		{"unaligned", a + 1, p, p, 0, 0, unix.EINVAL},
		{"bad flags", a, p, p, 8, 0, unix.EINVAL},
		{"fixed without maymove", a, p, p, mremapFixed, a + 10*p, unix.EINVAL},
		{"dontunmap", a, p, 2 * p, mremapMayMove | mremapDontUnmap, 0, unix.EINVAL},
		{"new size 0", a, p, 0, mremapMayMove, 0, unix.EINVAL},
		{"fixed overlap", a, p, p, mremapMayMove | mremapFixed, a, unix.EINVAL},
		{"fixed unaligned", a, p, p, mremapMayMove | mremapFixed, a + 10*p + 1, unix.EINVAL},
		{"fixed bad source", a + 3*p, p, p, mremapMayMove | mremapFixed, a + 10*p, unix.EFAULT},
		{"fixed past the top", a, p, p, mremapMayMove | mremapFixed, m.MaxAddr(), unix.EINVAL},
		{"grow blocked without maymove", a + p, p, 5 * p, 0, 0, unix.ENOMEM},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.MRemap(tc.old, tc.oldLen, tc.newLen, tc.flags, tc.newAddr)
			if !errors.Is(err, tc.want) {
				t.Fatalf("MRemap = %v, want %v", err, tc.want)
			}
			consistent(t, m, as)
		})
	}
}

func TestMRemap(t *testing.T) {
	p := uintptr(PageSize)
	a := uintptr(0x10000000)
	t.Run("grow in place", func(t *testing.T) {
		m, as := newFake()
		mustMap(t, m, MMapOpts{Addr: a, Length: 2 * p, Prot: rw, Flags: fix})
		data := fill(t, m, a, 2*p, 1)
		got, err := m.MRemap(a, 2*p, 4*p, 0, 0)
		if err != nil || got != a {
			t.Fatalf("MRemap = %#x, %v; want %#x", got, err, a)
		}
		if !bytes.Equal(read(t, m, a, 2*p), data) || !bytes.Equal(read(t, m, a+2*p, 2*p), make([]byte, 2*p)) {
			t.Error("data lost or extension not zero")
		}
		if s := vmaShape(m); s != "rw- 10000000-10004000;" {
			t.Errorf("vmas %s", s)
		}
		consistent(t, m, as)
	})
	t.Run("shrink", func(t *testing.T) {
		m, as := newFake()
		mustMap(t, m, MMapOpts{Addr: a, Length: 4 * p, Prot: rw, Flags: fix})
		if got, err := m.MRemap(a, 4*p, p+1, 0, 0); err != nil || got != a {
			t.Fatalf("MRemap = %#x, %v", got, err)
		}
		if s := vmaShape(m); s != "rw- 10000000-10002000;" {
			t.Errorf("vmas %s", s)
		}
		consistent(t, m, as)
	})
	t.Run("move when blocked", func(t *testing.T) {
		m, as := newFake()
		mustMap(t, m, MMapOpts{Addr: a, Length: 2 * p, Prot: unix.PROT_READ, Flags: fix})
		mustMap(t, m, MMapOpts{Addr: a + 2*p, Length: p, Prot: rw, Flags: fix})
		data := fill(t, m, a, 2*p, 7)
		got, err := m.MRemap(a, 2*p, 3*p, mremapMayMove, 0)
		if err != nil || got == a {
			t.Fatalf("MRemap = %#x, %v; want a move", got, err)
		}
		if !bytes.Equal(read(t, m, got, 2*p), data) {
			t.Error("moved data differs")
		}
		if prot, _ := as.Prot(got); prot != unix.PROT_READ {
			t.Errorf("moved prot %d, want PROT_READ", prot)
		}
		if _, ok := as.Prot(a); ok {
			t.Error("old range still mapped")
		}
		consistent(t, m, as)
	})
	t.Run("move PROT_NONE part of a vma to a fixed address over a mapping", func(t *testing.T) {
		m, as := newFake()
		mustMap(t, m, MMapOpts{Addr: a, Length: 4 * p, Prot: rw, Flags: fix})
		data := fill(t, m, a, 4*p, 3)
		if err := m.MProtect(a, 4*p, unix.PROT_NONE); err != nil {
			t.Fatal(err)
		}
		dst := a + 0x100000
		mustMap(t, m, MMapOpts{Addr: dst, Length: 4 * p, Prot: rw, Flags: fix})
		got, err := m.MRemap(a+p, 2*p, 2*p, mremapMayMove|mremapFixed, dst+p)
		if err != nil || got != dst+p {
			t.Fatalf("MRemap = %#x, %v", got, err)
		}
		if !bytes.Equal(read(t, m, dst+p, 2*p), data[p:3*p]) {
			t.Error("moved data differs")
		}
		if s := vmaShape(m); s != "--- 10000000-10001000;--- 10003000-10004000;rw- 10100000-10101000;--- 10101000-10103000;rw- 10103000-10104000;" {
			t.Errorf("vmas %s", s)
		}
		consistent(t, m, as)
	})
	t.Run("private file mapping keeps written pages", func(t *testing.T) {
		m, as := newFake()
		refs := 0
		f := refFile{openTestFile(t, bytes.Repeat([]byte{'f'}, 4*PageSize), unix.O_RDONLY), &refs}
		mustMap(t, m, MMapOpts{Addr: a, Length: p, Prot: rw, Flags: unix.MAP_PRIVATE | unix.MAP_FIXED, File: f})
		mustMap(t, m, MMapOpts{Addr: a + p, Length: p, Prot: rw, Flags: fix})
		m.as.WriteAt([]byte("written"), a)
		got, err := m.MRemap(a, p, 3*p, mremapMayMove, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := append([]byte("written"), bytes.Repeat([]byte{'f'}, 3*PageSize-7)...)
		if !bytes.Equal(read(t, m, got, 3*p), want) {
			t.Error("moved file mapping lost its private page or the file's tail")
		}
		if refs != 1 {
			t.Errorf("%d references on the file, want 1", refs)
		}
		consistent(t, m, as)
	})
}

func TestFileReferences(t *testing.T) {
	m, as := newFake()
	refs := 0
	f := refFile{openTestFile(t, make([]byte, 8*PageSize), unix.O_RDWR), &refs}
	p := uintptr(PageSize)
	a := uintptr(0x10000000)
	steps := []struct {
		name string
		do   func() error
		want int
	}{
		{"map", func() error {
			_, err := m.MMap(MMapOpts{Addr: a, Length: 4 * p, Prot: rw, Flags: unix.MAP_SHARED | unix.MAP_FIXED, File: f})
			return err
		}, 1},
		{"adjacent map merges", func() error {
			_, err := m.MMap(MMapOpts{Addr: a + 4*p, Length: 2 * p, Prot: rw, Flags: unix.MAP_SHARED | unix.MAP_FIXED, File: f, Offset: 4 * PageSize})
			return err
		}, 1},
		{"protect middle splits", func() error { return m.MProtect(a+p, p, unix.PROT_READ) }, 3},
		{"unmap one piece", func() error { return m.MUnmap(a+p, p) }, 2},
		{"grow in place", func() error { _, err := m.MRemap(a+2*p, 4*p, 5*p, 0, 0); return err }, 2},
		{"anonymous map over the file", func() error {
			_, err := m.MMap(MMapOpts{Addr: a, Length: 3 * p, Prot: rw, Flags: fix})
			return err
		}, 1},
		{"release", func() error { m.Release(); return nil }, 0},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if refs != s.want {
			t.Fatalf("%s: %d references, want %d (vmas %s)", s.name, refs, s.want, vmaShape(m))
		}
		if s.name != "release" {
			consistent(t, m, as)
		}
	}
	// Fork takes a reference per vma of the child.
	m2, _ := newFake()
	mustMap(t, m2, MMapOpts{Addr: a, Length: p, Prot: rw, Flags: unix.MAP_SHARED | unix.MAP_FIXED, File: f})
	c, err := m2.Fork()
	if err != nil {
		t.Fatal(err)
	}
	if refs != 2 {
		t.Errorf("after fork %d references, want 2", refs)
	}
	c.Release()
	m2.Release()
	if refs != 0 {
		t.Errorf("after release %d references, want 0", refs)
	}
}
