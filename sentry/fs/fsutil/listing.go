package fsutil

import (
	"sync"

	"golang.org/x/sys/unix"
)

// Listing is the open-file state of an in-memory directory whose listing
// is taken at the first getdents, and again after a rewind to 0, with
// offsets counting entries (pseudo file systems, mqueue). The zero value
// is ready.
type Listing struct {
	mu      sync.Mutex
	entries []Dirent
	off     int64
}

// Seek implements lseek on the listing.
func (l *Listing) Seek(off int64, whence int) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	off, err := Seek(l.off, off, whence)
	if err != nil {
		return 0, err
	}
	if off == 0 {
		l.entries = nil
	}
	l.off = off
	return off, nil
}

// Getdents fills buf with linux_dirent64 records from the offset on,
// taking the listing from list when there is none yet. EINVAL when buf
// cannot hold even the next record.
func (l *Listing) Getdents(buf []byte, list func() ([]Dirent, error)) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.entries == nil {
		es, err := list()
		if err != nil {
			return 0, err
		}
		l.entries = es
	}
	n := 0
	for l.off < int64(len(l.entries)) {
		m := PutDirent(buf[n:], l.entries[l.off])
		if m == 0 {
			if n == 0 {
				return 0, unix.EINVAL
			}
			break
		}
		n += m
		l.off++
	}
	return n, nil
}
