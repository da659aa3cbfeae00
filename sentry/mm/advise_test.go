package mm

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"moat/platform"

	"golang.org/x/sys/unix"
)

func TestMAdvise(t *testing.T) {
	m, as := newFake()
	p := uintptr(PageSize)
	a := uintptr(0x10000000)
	f := openTestFile(t, bytes.Repeat([]byte{'f'}, 2*PageSize), unix.O_RDWR)
	mustMap(t, m, MMapOpts{Addr: a, Length: 2 * p, Prot: rw, Flags: fix})
	mustMap(t, m, MMapOpts{Addr: a + 2*p, Length: 2 * p, Prot: rw, Flags: unix.MAP_PRIVATE | unix.MAP_FIXED, File: f})
	mustMap(t, m, MMapOpts{Addr: a + 4*p, Length: p, Prot: rw, Flags: unix.MAP_SHARED | unix.MAP_ANONYMOUS | unix.MAP_FIXED})
	m.as.WriteAt(bytes.Repeat([]byte{'w'}, 5*PageSize), a)

	if err := m.MAdvise(a, 5*p, unix.MADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	want := append(make([]byte, 2*PageSize), bytes.Repeat([]byte{'f'}, 2*PageSize)...)
	want = append(want, bytes.Repeat([]byte{'w'}, PageSize)...)
	if got := read(t, m, a, 5*p); !bytes.Equal(got, want) {
		t.Error("MADV_DONTNEED: anonymous pages not zero, file pages not re-read, or shared pages lost")
	}
	consistent(t, m, as)

	tests := []struct {
		name         string
		addr, length uintptr
		advice       int
		want         error
	}{
		{"unaligned", a + 1, p, unix.MADV_NORMAL, unix.EINVAL},
		{"unknown advice", a, p, 77, unix.EINVAL},
		{"wipeonfork", a, p, unix.MADV_WIPEONFORK, unix.EINVAL},
		{"hwpoison", a, p, madvHWPoison, unix.EPERM},
		{"zero length", a, 0, unix.MADV_DONTNEED, nil},
		{"wrapping length", a, ^uintptr(0) - 10, unix.MADV_NORMAL, unix.EINVAL},
		{"hole", a, 8 * p, unix.MADV_WILLNEED, unix.ENOMEM},
		{"unmapped", a + 0x100000, p, unix.MADV_DONTNEED, unix.ENOMEM},
		{"free anonymous", a, 2 * p, unix.MADV_FREE, nil},
		{"free file", a + 2*p, p, unix.MADV_FREE, unix.EINVAL},
		{"remove private", a, p, unix.MADV_REMOVE, unix.EINVAL},
		{"remove shared", a + 4*p, p, unix.MADV_REMOVE, unix.EOPNOTSUPP},
		{"dontfork", a, 5 * p, unix.MADV_DONTFORK, nil},
		{"dofork", a, 5 * p, unix.MADV_DOFORK, nil},
		{"sequential", a, 5 * p, unix.MADV_SEQUENTIAL, nil},
		{"random", a, 5 * p, unix.MADV_RANDOM, nil},
		{"hugepage", a, 5 * p, unix.MADV_HUGEPAGE, nil},
	}
	for _, tc := range tests {
		if err := m.MAdvise(tc.addr, tc.length, tc.advice); !errors.Is(err, tc.want) && err != tc.want {
			t.Errorf("%s: MAdvise = %v, want %v", tc.name, err, tc.want)
		}
	}
	consistent(t, m, as)
}

func TestMSyncMinCoreMLock(t *testing.T) {
	m, _ := newFake()
	p := uintptr(PageSize)
	a := uintptr(0x10000000)
	f := openTestFile(t, make([]byte, 2*PageSize), unix.O_RDWR)
	mustMap(t, m, MMapOpts{Addr: a, Length: 2 * p, Prot: rw, Flags: unix.MAP_SHARED | unix.MAP_FIXED, File: f})
	mustMap(t, m, MMapOpts{Addr: a + 2*p, Length: p, Prot: rw, Flags: fix})
	tests := []struct {
		name string
		do   func() error
		want error
	}{
		{"msync sync", func() error { return m.MSync(a, 3*p, unix.MS_SYNC) }, nil},
		{"msync async invalidate", func() error { return m.MSync(a, 1, unix.MS_ASYNC|unix.MS_INVALIDATE) }, nil},
		{"msync zero length", func() error { return m.MSync(a, 0, unix.MS_SYNC) }, nil},
		{"msync both", func() error { return m.MSync(a, p, unix.MS_SYNC|unix.MS_ASYNC) }, unix.EINVAL},
		{"msync bad flag", func() error { return m.MSync(a, p, 8) }, unix.EINVAL},
		{"msync unaligned", func() error { return m.MSync(a+1, p, unix.MS_SYNC) }, unix.EINVAL},
		{"msync hole", func() error { return m.MSync(a, 4*p, unix.MS_SYNC) }, unix.ENOMEM},
		{"msync wrap", func() error { return m.MSync(a, ^uintptr(0)-p, unix.MS_SYNC) }, unix.ENOMEM},
		{"mincore unaligned", func() error { _, err := m.MinCore(a+1, p); return err }, unix.EINVAL},
		{"mincore hole", func() error { _, err := m.MinCore(a, 4*p); return err }, unix.ENOMEM},
		{"mincore past the top", func() error { _, err := m.MinCore(m.MaxAddr(), p); return err }, unix.ENOMEM},
		{"mlock unaligned start", func() error { return m.MLock(a+5, p, 8<<20, true) }, nil},
		{"mlock over the limit", func() error { return m.MLock(a, 3*p, 2*PageSize, true) }, unix.ENOMEM},
		{"mlock hole", func() error { return m.MLock(a, 4*p, 8<<20, true) }, unix.ENOMEM},
		{"munlock", func() error { return m.MLock(a, 3*p, 0, false) }, nil},
		{"mlockall current", func() error { return m.MLockAll(unix.MCL_CURRENT, 8<<20) }, nil},
		{"mlockall over the limit", func() error { return m.MLockAll(unix.MCL_CURRENT, 2*PageSize) }, unix.ENOMEM},
		{"mlockall future only", func() error { return m.MLockAll(unix.MCL_FUTURE, 0) }, nil},
		{"mlockall onfault alone", func() error { return m.MLockAll(unix.MCL_ONFAULT, 8<<20) }, unix.EINVAL},
		{"mlockall no flags", func() error { return m.MLockAll(0, 8<<20) }, unix.EINVAL},
	}
	for _, tc := range tests {
		if err := tc.do(); !errors.Is(err, tc.want) && err != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if n, err := m.MinCore(a, 3*p-1); n != 3 || err != nil {
		t.Errorf("MinCore = %d, %v; want 3 pages", n, err)
	}
}

func TestFormatMaps(t *testing.T) {
	vdso := platform.Range{Start: 0x7fff00000000, End: 0x7fff00002000, Name: "[vdso]"}
	m, _ := newFake(vdso)
	f := openTestFile(t, make([]byte, 2*PageSize), unix.O_RDWR)
	mustMap(t, m, MMapOpts{Addr: 0x10000, Length: PageSize, Prot: unix.PROT_READ | unix.PROT_EXEC, Flags: unix.MAP_PRIVATE | unix.MAP_FIXED, File: f, Offset: PageSize})
	mustMap(t, m, MMapOpts{Addr: 0x7f0000000000, Length: 2 * PageSize, Prot: rw, Flags: fix})
	mustMap(t, m, MMapOpts{Addr: 0x7f0000100000, Length: PageSize, Prot: rw, Flags: unix.MAP_SHARED | unix.MAP_ANONYMOUS | unix.MAP_FIXED})
	mustMap(t, m, MMapOpts{Addr: 0x7ffe00000000, Length: PageSize, Prot: rw, Flags: fix, Name: "[stack]"})
	// Lines as Linux prints them (compare a host /proc/self/maps).
	want := strings.Join([]string{
		"00010000-00011000 r-xp 00001000 08:01 42                                 /test/file",
		"7f0000000000-7f0000002000 rw-p 00000000 00:00 0 ",
		"7f0000100000-7f0000101000 rw-s 00000000 00:01 0                          /dev/zero (deleted)",
		"7ffe00000000-7ffe00001000 rw-p 00000000 00:00 0                          [stack]",
		"7fff00000000-7fff00002000 r-xp 00000000 00:00 0                          [vdso]",
	}, "\n") + "\n"
	if got := string(m.FormatMaps()); got != want {
		t.Errorf("FormatMaps:\n%s\nwant:\n%s", got, want)
	}
	long := MapEntry{Start: 0x7f0000000000, End: 0x7f0000001000, Perms: "r--p", Offset: 0x7fffffffffff0000, Dev: unix.Mkdev(0xfe, 0), Inode: 18446744073709551615, Name: "/a\nb"}
	if got, want := long.String(), "7f0000000000-7f0000001000 r--p 7fffffffffff0000 fe:00 18446744073709551615  /a\\012b"; got != want {
		t.Errorf("long line\n got %q\nwant %q", got, want)
	}
}
