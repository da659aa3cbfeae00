package syscalls

import (
	"bytes"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The host's unix.Stat_t and unix.Statx_t are the kernel's own layouts
// for the architecture the test runs on, so marshalling must reproduce
// their bytes exactly.

func sampleStat() unix.Stat_t {
	return unix.Stat_t{
		Dev: 0x0803, Ino: 123456789, Nlink: 3, Mode: unix.S_IFREG | 0o644,
		Uid: 1000, Gid: 100, Rdev: 0x0501, Size: 1 << 33, Blksize: 4096, Blocks: 17,
		Atim: unix.Timespec{Sec: 1700000000, Nsec: 1},
		Mtim: unix.Timespec{Sec: 1700000001, Nsec: 2},
		Ctim: unix.Timespec{Sec: 1700000002, Nsec: 3},
	}
}

func TestMarshalStatMatchesKernelLayout(t *testing.T) {
	st := sampleStat()
	if got := int(unsafe.Sizeof(st)); got != statSize {
		t.Fatalf("statSize %d, host struct stat is %d bytes", statSize, got)
	}
	want := unsafe.Slice((*byte)(unsafe.Pointer(&st)), unsafe.Sizeof(st))
	got := make([]byte, statSize)
	marshalStat(got, &st)
	if !bytes.Equal(got, want) {
		t.Fatalf("marshalStat\n got %x\nwant %x", got, want)
	}
}

func TestMarshalStatxMatchesKernelLayout(t *testing.T) {
	st := sampleStat()
	want := unix.Statx_t{
		Mask: statxBasicStats, Blksize: 4096, Nlink: 3, Uid: 1000, Gid: 100,
		Mode: unix.S_IFREG | 0o644, Ino: 123456789, Size: 1 << 33, Blocks: 17,
		Atime:      unix.StatxTimestamp{Sec: 1700000000, Nsec: 1},
		Mtime:      unix.StatxTimestamp{Sec: 1700000001, Nsec: 2},
		Ctime:      unix.StatxTimestamp{Sec: 1700000002, Nsec: 3},
		Rdev_major: 5, Rdev_minor: 1, Dev_major: 8, Dev_minor: 3,
	}
	if unsafe.Sizeof(want) != statxSize {
		t.Fatalf("statxSize %d, host struct statx is %d bytes", statxSize, unsafe.Sizeof(want))
	}
	wb := unsafe.Slice((*byte)(unsafe.Pointer(&want)), unsafe.Sizeof(want))
	got := make([]byte, statxSize)
	marshalStatx(got, &st)
	if !bytes.Equal(got, wb) {
		t.Fatalf("marshalStatx\n got %x\nwant %x", got, wb)
	}
}
