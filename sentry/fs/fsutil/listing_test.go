package fsutil

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestListing: the listing is taken once, read in pieces that fit, and
// taken again after a rewind; a buffer too small for one record is EINVAL.
func TestListing(t *testing.T) {
	calls := 0
	list := func() ([]Dirent, error) {
		calls++
		return []Dirent{
			{Ino: 1, Off: 1, Type: unix.DT_DIR, Name: "."},
			{Ino: 1, Off: 2, Type: unix.DT_DIR, Name: ".."},
			{Ino: 7, Off: 3, Type: unix.DT_REG, Name: "file"},
		}, nil
	}
	var l Listing
	if _, err := l.Getdents(make([]byte, 4), list); err != unix.EINVAL {
		t.Fatalf("tiny buffer: %v, want EINVAL", err)
	}
	one := PutDirent(make([]byte, 64), Dirent{Name: "."})
	n, err := l.Getdents(make([]byte, one), list)
	if err != nil || n != one {
		t.Fatalf("first record: %d, %v", n, err)
	}
	n, err = l.Getdents(make([]byte, 4096), list)
	if err != nil || n == 0 {
		t.Fatalf("rest: %d, %v", n, err)
	}
	if n, _ := l.Getdents(make([]byte, 4096), list); n != 0 {
		t.Fatalf("at the end: %d bytes", n)
	}
	if calls != 1 {
		t.Fatalf("listing taken %d times before a rewind", calls)
	}
	if off, err := l.Seek(0, unix.SEEK_SET); off != 0 || err != nil {
		t.Fatalf("rewind: %d, %v", off, err)
	}
	if n, _ := l.Getdents(make([]byte, 4096), list); n == 0 || calls != 2 {
		t.Fatalf("after rewind: %d bytes, %d listings", n, calls)
	}
}
