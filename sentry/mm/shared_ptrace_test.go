package mm_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"moat/platform/ptrace"
	"moat/sentry/mm"

	"golang.org/x/sys/unix"
)

// hostFile is a MappedFile over a host file opened read-write.
type hostFile struct{ f *os.File }

func (h hostFile) HostFD() int     { return int(h.f.Fd()) }
func (h hostFile) MapName() string { return h.f.Name() }
func (h hostFile) OpenFlags() int  { return unix.O_RDWR }

// TestSharedFileMappingsCoherent maps one file twice MAP_SHARED in a real
// stub (ptrace platform) and checks that a store through one mapping, a
// pwrite through the descriptor and the other mapping all agree: the stub
// maps the very host file, so the host page cache keeps them coherent.
// It also moves one mapping with mremap and checks it stays shared.
func TestSharedFileMappingsCoherent(t *testing.T) {
	p, err := ptrace.New()
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.ENOSYS) {
			t.Skipf("ptrace platform unavailable: %v", err)
		}
		t.Fatal(err)
	}
	defer p.Close()
	as, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	m := mm.New(p, as)
	defer m.Release()

	path := filepath.Join(t.TempDir(), "shared")
	if err := os.WriteFile(path, bytes.Repeat([]byte{'.'}, 2*mm.PageSize), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hf := hostFile{f}
	rw := unix.PROT_READ | unix.PROT_WRITE
	a, err := m.MMap(mm.MMapOpts{Length: 2 * mm.PageSize, Prot: rw, Flags: unix.MAP_SHARED, File: hf})
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.MMap(mm.MMapOpts{Length: mm.PageSize, Prot: rw, Flags: unix.MAP_SHARED, File: hf, Offset: mm.PageSize})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.CopyOut(a+mm.PageSize+10, []byte("via mapping a")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("via pwrite"), mm.PageSize+100); err != nil {
		t.Fatal(err)
	}
	check := func(what string) {
		t.Helper()
		fromA := make([]byte, mm.PageSize)
		fromB := make([]byte, mm.PageSize)
		fromFile := make([]byte, mm.PageSize)
		if _, err := m.CopyIn(a+mm.PageSize, fromA); err != nil {
			t.Fatal(err)
		}
		if _, err := m.CopyIn(b, fromB); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ReadAt(fromFile, mm.PageSize); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fromA, fromB) || !bytes.Equal(fromA, fromFile) {
			t.Fatalf("%s: mapping a, mapping b and the file disagree:\n%q\n%q\n%q", what, fromA[:120], fromB[:120], fromFile[:120])
		}
		if !bytes.Contains(fromFile, []byte("via mapping a")) || !bytes.Contains(fromFile, []byte("via pwrite")) {
			t.Fatalf("%s: a write is missing: %q", what, fromFile[:120])
		}
	}
	check("after the writes")
	if err := m.MSync(a, 2*mm.PageSize, unix.MS_SYNC); err != nil {
		t.Fatalf("msync: %v", err)
	}
	// Move b away (blocked growth forces a move) and write through it.
	nb, err := m.MRemap(b, mm.PageSize, 64*mm.PageSize, 1 /* MREMAP_MAYMOVE */, 0)
	if err != nil {
		t.Fatal(err)
	}
	b = nb
	if _, err := m.CopyOut(b+200, []byte("via moved b")); err != nil {
		t.Fatal(err)
	}
	check("after mremap")
	got := make([]byte, 11)
	f.ReadAt(got, mm.PageSize+200)
	if string(got) != "via moved b" {
		t.Errorf("write through the moved mapping not in the file: %q", got)
	}
}
