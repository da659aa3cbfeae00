package mm

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"moat/platform"
	"moat/sentry/mm/mmtest"

	"golang.org/x/sys/unix"
)

const (
	rw   = unix.PROT_READ | unix.PROT_WRITE
	anon = unix.MAP_PRIVATE | unix.MAP_ANONYMOUS
	fix  = anon | unix.MAP_FIXED
)

// testFile is a MappedFile over a real host file.
type testFile struct {
	fd    int
	flags int
}

func (f testFile) HostFD() int                 { return f.fd }
func (f testFile) MapName() string             { return "/test/file" }
func (f testFile) OpenFlags() int              { return f.flags }
func (f testFile) MapDevIno() (uint64, uint64) { return 0x801, 42 }

// openTestFile writes content to a temporary file and opens it with flags.
func openTestFile(t *testing.T, content []byte, flags int) testFile {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(path, flags, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return testFile{fd: fd, flags: flags}
}

func mustMap(t *testing.T, m *MemoryManager, o MMapOpts) uintptr {
	t.Helper()
	a, err := m.MMap(o)
	if err != nil {
		t.Fatalf("MMap(%+v): %v", o, err)
	}
	return a
}

func consistent(t *testing.T, m *MemoryManager, as *mmtest.AddressSpace) {
	t.Helper()
	if err := checkConsistent(m, as); err != nil {
		t.Fatal(err)
	}
}

func TestMMapErrors(t *testing.T) {
	m, as := newFake()
	ro := openTestFile(t, make([]byte, 2*PageSize), unix.O_RDONLY)
	wo := openTestFile(t, make([]byte, PageSize), unix.O_WRONLY)
	ap := openTestFile(t, make([]byte, PageSize), unix.O_RDWR|unix.O_APPEND)
	noMap := testFile{fd: -1, flags: unix.O_RDWR}
	base := uintptr(0x10000000)
	mustMap(t, m, MMapOpts{Addr: base, Length: PageSize, Prot: rw, Flags: fix})
	top := m.MaxAddr()
	tests := []struct {
		name string
		o    MMapOpts
		want unix.Errno
	}{
		{"zero length", MMapOpts{Length: 0, Prot: rw, Flags: anon}, unix.EINVAL},
		{"neither private nor shared", MMapOpts{Length: PageSize, Flags: unix.MAP_ANONYMOUS}, unix.EINVAL},
		{"shared validate unknown flag", MMapOpts{Length: PageSize, Flags: unix.MAP_SHARED_VALIDATE | unix.MAP_ANONYMOUS | unix.MAP_SYNC}, unix.EOPNOTSUPP},
		{"fixed unaligned", MMapOpts{Addr: base + 1, Length: PageSize, Flags: fix}, unix.EINVAL},
		{"unaligned offset", MMapOpts{Length: PageSize, Flags: unix.MAP_PRIVATE, File: ro, Offset: 1}, unix.EINVAL},
		{"offset above 2^63", MMapOpts{Length: PageSize, Flags: unix.MAP_PRIVATE, File: ro, Offset: -PageSize}, unix.EOVERFLOW},
		{"huge length", MMapOpts{Length: ^uintptr(0) - 10, Flags: anon}, unix.ENOMEM},
		{"fixed past top", MMapOpts{Addr: top - PageSize, Length: 2 * PageSize, Flags: fix}, unix.ENOMEM},
		{"fixed below min addr", MMapOpts{Addr: PageSize, Length: PageSize, Flags: fix}, unix.EPERM},
		{"noreplace over mapping", MMapOpts{Addr: base, Length: PageSize, Flags: anon | unix.MAP_FIXED_NOREPLACE}, unix.EEXIST},
		{"file without fd", MMapOpts{Length: PageSize, Flags: unix.MAP_PRIVATE}, unix.EBADF},
		{"unmappable file", MMapOpts{Length: PageSize, Flags: unix.MAP_PRIVATE, File: noMap}, unix.ENODEV},
		{"write-only file", MMapOpts{Length: PageSize, Prot: unix.PROT_READ, Flags: unix.MAP_PRIVATE, File: wo}, unix.EACCES},
		{"shared writable read-only file", MMapOpts{Length: PageSize, Prot: rw, Flags: unix.MAP_SHARED, File: ro}, unix.EACCES},
		{"shared writable append file", MMapOpts{Length: PageSize, Prot: rw, Flags: unix.MAP_SHARED, File: ap}, unix.EACCES},
		{"offset overflow", MMapOpts{Length: 2 * PageSize, Flags: unix.MAP_PRIVATE, File: ro, Offset: 1<<63 - PageSize}, unix.EOVERFLOW},
		{"hugetlb", MMapOpts{Length: PageSize, Flags: anon | unix.MAP_HUGETLB}, unix.ENOMEM},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.MMap(tc.o)
			if !errors.Is(err, tc.want) {
				t.Fatalf("MMap = %v, want %v", err, tc.want)
			}
			consistent(t, m, as)
		})
	}
	// What must succeed: a private writable map of a read-only file, and a
	// shared read-only one, which then can't be made writable.
	mustMap(t, m, MMapOpts{Length: PageSize, Prot: rw, Flags: unix.MAP_PRIVATE, File: ro})
	a := mustMap(t, m, MMapOpts{Length: PageSize, Prot: unix.PROT_READ, Flags: unix.MAP_SHARED, File: ro})
	if err := m.MProtect(a, PageSize, rw); !errors.Is(err, unix.EACCES) {
		t.Errorf("mprotect write on shared read-only file = %v, want EACCES", err)
	}
	consistent(t, m, as)
}

func TestMUnmapMProtectErrors(t *testing.T) {
	m, as := newFake()
	base := uintptr(0x10000000)
	mustMap(t, m, MMapOpts{Addr: base, Length: 4 * PageSize, Prot: rw, Flags: fix})
	mustMap(t, m, MMapOpts{Addr: base + 0x100000, Length: PageSize, Prot: rw, Flags: fix | unix.MAP_GROWSDOWN})
	top := m.MaxAddr()
	unmaps := []struct {
		name         string
		addr, length uintptr
		want         error
	}{
		{"unaligned", base + 1, PageSize, unix.EINVAL},
		{"zero length", base, 0, unix.EINVAL},
		{"past top", top - PageSize, 2 * PageSize, unix.EINVAL},
		{"wraps", base, ^uintptr(0), unix.EINVAL},
		{"hole is fine", 0x20000000, PageSize, nil},
	}
	for _, tc := range unmaps {
		t.Run("munmap "+tc.name, func(t *testing.T) {
			if err := m.MUnmap(tc.addr, tc.length); !errors.Is(err, tc.want) && err != tc.want {
				t.Fatalf("MUnmap = %v, want %v", err, tc.want)
			}
		})
	}
	protects := []struct {
		name         string
		addr, length uintptr
		prot         int
		want         error
	}{
		{"unaligned", base + 1, PageSize, rw, unix.EINVAL},
		{"zero length ignores prot", base, 0, 0x100, nil},
		{"bad prot", base, PageSize, 0x100, unix.EINVAL},
		{"growsup", base, PageSize, unix.PROT_GROWSUP, unix.EINVAL},
		{"both grows", base, PageSize, unix.PROT_GROWSUP | unix.PROT_GROWSDOWN, unix.EINVAL},
		{"growsdown on normal vma", base, PageSize, unix.PROT_READ | unix.PROT_GROWSDOWN, unix.EINVAL},
		{"growsdown on stack", base + 0x100000, PageSize, unix.PROT_READ | unix.PROT_GROWSDOWN, nil},
		{"unmapped", 0x20000000, PageSize, rw, unix.ENOMEM},
		{"partly unmapped", base + 3*PageSize, 2 * PageSize, rw, unix.ENOMEM},
		{"wraps", base, ^uintptr(0) - base + 2, rw, unix.ENOMEM},
		{"sem is accepted", base, PageSize, unix.PROT_READ | protSem, nil},
	}
	for _, tc := range protects {
		t.Run("mprotect "+tc.name, func(t *testing.T) {
			if err := m.MProtect(tc.addr, tc.length, tc.prot); !errors.Is(err, tc.want) && err != tc.want {
				t.Fatalf("MProtect = %v, want %v", err, tc.want)
			}
			consistent(t, m, as)
		})
	}
}

// vmaShape renders the vma set compactly for comparisons.
func vmaShape(m *MemoryManager) string {
	var b strings.Builder
	for _, e := range m.Maps() {
		b.WriteString(e.Perms[:3])
		b.WriteByte(' ')
		b.WriteString(strings.TrimPrefix(strings.Fields(e.String())[0], "000"))
		b.WriteByte(';')
	}
	return b.String()
}

func TestSplitMerge(t *testing.T) {
	m, as := newFake()
	base := uintptr(0x10000000)
	p := uintptr(PageSize)
	mustMap(t, m, MMapOpts{Addr: base, Length: 8 * p, Prot: rw, Flags: fix})
	steps := []struct {
		name string
		do   func() error
		want string
	}{
		{"protect middle splits in three", func() error { return m.MProtect(base+2*p, 2*p, unix.PROT_READ) },
			"rw- 10000000-10002000;r-- 10002000-10004000;rw- 10004000-10008000;"},
		{"protect back merges", func() error { return m.MProtect(base+2*p, 2*p, rw) },
			"rw- 10000000-10008000;"},
		{"unmap middle splits in two", func() error { return m.MUnmap(base+3*p, p) },
			"rw- 10000000-10003000;rw- 10004000-10008000;"},
		{"map the hole back merges", func() error {
			_, err := m.MMap(MMapOpts{Addr: base + 3*p, Length: p, Prot: rw, Flags: fix})
			return err
		}, "rw- 10000000-10008000;"},
		{"fixed over the middle with another prot", func() error {
			_, err := m.MMap(MMapOpts{Addr: base + p, Length: 6 * p, Prot: unix.PROT_EXEC | unix.PROT_READ, Flags: fix})
			return err
		}, "rw- 10000000-10001000;r-x 10001000-10007000;rw- 10007000-10008000;"},
		{"protect across three vmas", func() error { return m.MProtect(base, 8*p, unix.PROT_NONE) },
			"--- 10000000-10008000;"},
		{"named vma does not merge", func() error {
			_, err := m.MMap(MMapOpts{Addr: base + 8*p, Length: p, Prot: unix.PROT_NONE, Flags: fix, Name: "[stack]"})
			return err
		}, "--- 10000000-10008000;--- 10008000-10009000;"},
		{"unmap across both", func() error { return m.MUnmap(base+7*p, 2*p) },
			"--- 10000000-10007000;"},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := vmaShape(m); got != s.want {
			t.Fatalf("%s:\n got %s\nwant %s", s.name, got, s.want)
		}
		consistent(t, m, as)
	}
}

func TestFileMappingsMergeByOffset(t *testing.T) {
	m, as := newFake()
	f := openTestFile(t, bytes.Repeat([]byte("abcd"), 2*PageSize), unix.O_RDONLY)
	base := uintptr(0x10000000)
	mustMap(t, m, MMapOpts{Addr: base, Length: PageSize, Prot: unix.PROT_READ, Flags: unix.MAP_PRIVATE | unix.MAP_FIXED, File: f})
	mustMap(t, m, MMapOpts{Addr: base + PageSize, Length: PageSize, Prot: unix.PROT_READ, Flags: unix.MAP_PRIVATE | unix.MAP_FIXED, File: f, Offset: PageSize})
	if n := len(m.Maps()); n != 1 {
		t.Errorf("contiguous file mappings: %d vmas, want 1", n)
	}
	mustMap(t, m, MMapOpts{Addr: base + 2*PageSize, Length: PageSize, Prot: unix.PROT_READ, Flags: unix.MAP_PRIVATE | unix.MAP_FIXED, File: f})
	maps := m.Maps()
	if len(maps) != 2 {
		t.Fatalf("non-contiguous offset merged: %v", maps)
	}
	want := "10002000-10003000 r--p 00000000 08:01 42"
	if got := maps[1].String(); !strings.HasPrefix(got, want) || !strings.HasSuffix(got, " /test/file") {
		t.Errorf("maps line %q, want %q ... /test/file", got, want)
	}
	// Splitting keeps the offset right for the upper half.
	if err := m.MUnmap(base, PageSize); err != nil {
		t.Fatal(err)
	}
	if got := m.Maps()[0]; got.Offset != PageSize {
		t.Errorf("offset after split = %#x, want %#x", got.Offset, PageSize)
	}
	consistent(t, m, as)
}

func TestAllocation(t *testing.T) {
	vdso := platform.Range{Start: 0x7fff00000000, End: 0x7fff00002000, Name: "[vdso]"}
	m, as := newFake(vdso)
	l := m.Layout()
	if l.StackTop >= vdso.Start || l.StackTop < vdso.Start-stackRandom-2*PageSize {
		t.Errorf("stack top %#x not just below the reserved vdso at %#x", l.StackTop, vdso.Start)
	}
	if l.MmapBase > l.StackTop-minMmapGap || l.MmapBase < l.StackTop-minMmapGap-mmapRandom {
		t.Errorf("mmap base %#x out of bounds for stack top %#x", l.MmapBase, l.StackTop)
	}
	a := mustMap(t, m, MMapOpts{Length: 3 * PageSize, Prot: rw, Flags: anon})
	if a+3*PageSize != l.MmapBase {
		t.Errorf("first map at %#x, want just below mmap base %#x", a, l.MmapBase)
	}
	b := mustMap(t, m, MMapOpts{Length: PageSize, Prot: rw, Flags: anon})
	if b+PageSize != a {
		t.Errorf("second map at %#x, want just below %#x", b, a)
	}
	// A free hint is honoured (rounded down on x86-64), a busy one is not.
	if h := mustMap(t, m, MMapOpts{Addr: 0x50000010, Length: PageSize, Prot: rw, Flags: anon}); h != alignHint(0x50000010) {
		t.Errorf("hint: got %#x", h)
	}
	if h := mustMap(t, m, MMapOpts{Addr: a, Length: PageSize, Prot: rw, Flags: anon}); h == a {
		t.Errorf("busy hint %#x reused", a)
	}
	// Mapping over the reserved range is refused, and allocation skips it.
	if _, err := m.MMap(MMapOpts{Addr: vdso.Start, Length: PageSize, Flags: fix}); !errors.Is(err, unix.ENOMEM) {
		t.Errorf("fixed map over reserved = %v, want ENOMEM", err)
	}
	m.SetLayout(Layout{StackTop: l.StackTop, MmapBase: vdso.End + PageSize})
	c := mustMap(t, m, MMapOpts{Length: 2 * PageSize, Prot: rw, Flags: anon})
	if c+2*PageSize > vdso.Start {
		t.Errorf("allocation at %#x crosses reserved %#x-%#x", c, vdso.Start, vdso.End)
	}
	// Unmapping over the reserved range only removes our own vmas.
	if err := m.MUnmap(vdso.Start-PageSize, 3*PageSize+PageSize); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range m.Maps() {
		found = found || e.Name == "[vdso]"
	}
	if !found {
		t.Error("[vdso] missing from Maps")
	}
	consistent(t, m, as)
}

func TestNoSpace(t *testing.T) {
	p := &mmtest.Platform{Max: 0x200000}
	as, _ := p.NewAddressSpace()
	m := New(p, as)
	m.SetLayout(Layout{StackTop: 0x200000, MmapBase: 0x100000})
	if _, err := m.MMap(MMapOpts{Length: 0x200000, Prot: rw, Flags: anon}); !errors.Is(err, unix.ENOMEM) {
		t.Errorf("oversized map = %v, want ENOMEM", err)
	}
	// Below the base is full: fall back above it.
	mustMap(t, m, MMapOpts{Addr: MinAddr, Length: 0x100000 - MinAddr, Flags: fix})
	if a := mustMap(t, m, MMapOpts{Length: PageSize, Flags: anon}); a < 0x100000 {
		t.Errorf("fallback map at %#x, want above the mmap base", a)
	}
}

func TestBrk(t *testing.T) {
	m, as := newFake()
	start := uintptr(0x600000)
	m.SetBrkStart(start)
	if got := m.Brk(0); got != start {
		t.Fatalf("Brk(0) = %#x, want %#x", got, start)
	}
	if got := m.Brk(start + 100); got != start+100 {
		t.Fatalf("grow: %#x", got)
	}
	if _, err := m.CopyOut(start+50, []byte("heap")); err != nil {
		t.Fatalf("heap not writable: %v", err)
	}
	if got := m.Brk(start + 3*PageSize); got != start+3*PageSize {
		t.Fatalf("grow more: %#x", got)
	}
	if n := len(m.Maps()); n != 1 || m.Maps()[0].Name != "[heap]" {
		t.Fatalf("heap maps: %v", m.Maps())
	}
	if got := m.Brk(start - PageSize); got != start+3*PageSize {
		t.Errorf("below start: %#x", got)
	}
	// Another mapping a page above the heap's end blocks growth into it
	// and into the guard page.
	mustMap(t, m, MMapOpts{Addr: start + 5*PageSize, Length: PageSize, Flags: fix})
	if got := m.Brk(start + 4*PageSize + 1); got != start+3*PageSize {
		t.Errorf("grew into the guard page: %#x", got)
	}
	if got := m.Brk(start + 4*PageSize); got != start+4*PageSize {
		t.Errorf("grow to the guard: %#x", got)
	}
	// Shrinking unmaps.
	if got := m.Brk(start + 1); got != start+1 {
		t.Errorf("shrink: %#x", got)
	}
	if _, err := m.CopyIn(start+PageSize, make([]byte, 1)); !errors.Is(err, unix.EFAULT) {
		t.Errorf("shrunk heap still readable: %v", err)
	}
	m.SetDataLimit(2 * PageSize)
	if got := m.Brk(start + 2*PageSize + 1); got != start+1 {
		t.Errorf("past RLIMIT_DATA: %#x", got)
	}
	if got := m.Brk(start + 2*PageSize); got != start+2*PageSize {
		t.Errorf("up to RLIMIT_DATA: %#x", got)
	}
	consistent(t, m, as)
}

func TestCopy(t *testing.T) {
	m, _ := newFake()
	base := uintptr(0x10000000)
	mustMap(t, m, MMapOpts{Addr: base, Length: 2 * PageSize, Prot: rw, Flags: fix})
	mustMap(t, m, MMapOpts{Addr: base + 2*PageSize, Length: PageSize, Prot: unix.PROT_READ, Flags: fix})
	mustMap(t, m, MMapOpts{Addr: base + 3*PageSize, Length: PageSize, Prot: unix.PROT_NONE, Flags: fix})
	data := bytes.Repeat([]byte{7}, 100)
	tests := []struct {
		name  string
		addr  uintptr
		len   int
		out   bool
		wantN int
		err   error
	}{
		{"write rw", base + 10, 100, true, 100, nil},
		{"write across rw vmas", base + PageSize - 50, 100, true, 100, nil},
		{"write into read-only", base + 2*PageSize - 50, 100, true, 50, unix.EFAULT},
		{"read read-only", base + 2*PageSize, 100, false, 100, nil},
		{"read into PROT_NONE", base + 3*PageSize - 40, 100, false, 40, unix.EFAULT},
		{"read unmapped", base + 4*PageSize, 100, false, 0, unix.EFAULT},
		{"read wrapping", ^uintptr(0) - 10, 100, false, 0, unix.EFAULT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n int
			var err error
			if tc.out {
				n, err = m.CopyOut(tc.addr, data[:tc.len])
			} else {
				n, err = m.CopyIn(tc.addr, make([]byte, tc.len))
			}
			if n != tc.wantN || !errors.Is(err, tc.err) && err != tc.err {
				t.Fatalf("got %d, %v; want %d, %v", n, err, tc.wantN, tc.err)
			}
		})
	}
	got := make([]byte, 100)
	if _, err := m.CopyIn(base+10, got); err != nil || !bytes.Equal(got, data) {
		t.Errorf("read back %v, %v", got[:8], err)
	}
}

func TestCopyInString(t *testing.T) {
	m, _ := newFake()
	base := uintptr(0x10000000)
	mustMap(t, m, MMapOpts{Addr: base, Length: 2 * PageSize, Prot: rw, Flags: fix})
	end := base + 2*PageSize
	long := strings.Repeat("x", 600)
	put := func(addr uintptr, s string) {
		if _, err := m.CopyOut(addr, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	put(base, "hello\x00")
	put(base+100, long+"\x00")
	put(end-4, "abc\x00") // ends exactly at the unmapped page
	other := base + 0x100000
	mustMap(t, m, MMapOpts{Addr: other, Length: PageSize, Prot: rw, Flags: fix})
	put(other+PageSize-3, "xyz") // runs into unmapped memory
	put(base+PageSize-2, "ab")   // crosses a page boundary within the vma
	put(base+PageSize, "cd\x00")
	tests := []struct {
		name   string
		addr   uintptr
		maxLen int
		want   string
		err    error
	}{
		{"short", base, 4096, "hello", nil},
		{"longer than the stack buffer", base + 100, 4096, long, nil},
		{"NUL is the last allowed byte", base, 6, "hello", nil},
		{"too long", base, 5, "", unix.ENAMETOOLONG},
		{"ends before unmapped", end - 4, 4096, "abc", nil},
		{"runs into unmapped", other + PageSize - 3, 4096, "", unix.EFAULT},
		{"crosses a page", base + PageSize - 2, 4096, "abcd", nil},
		{"unmapped", end, 10, "", unix.EFAULT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := m.CopyInString(tc.addr, tc.maxLen)
			if got != tc.want || !errors.Is(err, tc.err) && err != tc.err {
				t.Fatalf("got %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestCopyDoesNotAllocate(t *testing.T) {
	m, _ := newFake()
	base := uintptr(0x10000000)
	mustMap(t, m, MMapOpts{Addr: base, Length: PageSize, Prot: rw, Flags: fix})
	buf := make([]byte, 64)
	allocs := testing.AllocsPerRun(100, func() {
		m.CopyOut(base, buf)
		m.CopyIn(base, buf)
	})
	if allocs != 0 {
		t.Errorf("CopyIn+CopyOut allocate %v times", allocs)
	}
}

func TestFork(t *testing.T) {
	m, as := newFake()
	base := uintptr(0x10000000)
	mustMap(t, m, MMapOpts{Addr: base, Length: PageSize, Prot: rw, Flags: fix})
	m.CopyOut(base, []byte("parent"))
	m.SetBrkStart(0x600000)
	m.Brk(0x601000)
	c, err := m.Fork()
	if err != nil {
		t.Fatal(err)
	}
	c.CopyOut(base, []byte("child!"))
	c.MUnmap(0x600000, PageSize)
	got := make([]byte, 6)
	m.CopyIn(base, got)
	if string(got) != "parent" {
		t.Errorf("child write visible in parent: %q", got)
	}
	if s, e := c.BrkRange(); s != 0x600000 || e != 0x601000 {
		t.Errorf("child brk %#x-%#x", s, e)
	}
	if len(m.Maps()) != 2 || len(c.Maps()) != 1 {
		t.Errorf("vma sets not independent: parent %d, child %d", len(m.Maps()), len(c.Maps()))
	}
	consistent(t, m, as)
	consistent(t, c, c.as.(*mmtest.AddressSpace))
	c.Release()
	if _, err := c.MMap(MMapOpts{Length: PageSize, Flags: anon}); err == nil {
		t.Error("mmap after Release succeeded")
	}
}

func TestMaxMapCount(t *testing.T) {
	m, _ := newFake()
	// Alternate protections so nothing merges.
	for i := range maxMapCount {
		prot := unix.PROT_READ
		if i%2 == 1 {
			prot = unix.PROT_NONE
		}
		m.vmas = append(m.vmas, vma{start: uintptr(0x100000 + 2*i*PageSize), end: uintptr(0x100000 + (2*i+1)*PageSize), prot: prot})
	}
	if _, err := m.MMap(MMapOpts{Length: PageSize, Flags: anon}); !errors.Is(err, unix.ENOMEM) {
		t.Errorf("mmap past max_map_count = %v, want ENOMEM", err)
	}
}
