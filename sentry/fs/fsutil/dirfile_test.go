package fsutil

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestSeek(t *testing.T) {
	for _, c := range []struct {
		cur, off int64
		whence   int
		want     int64
		err      error
	}{
		{5, 3, unix.SEEK_SET, 3, nil},
		{5, 3, unix.SEEK_CUR, 8, nil},
		{5, -5, unix.SEEK_CUR, 0, nil},
		{5, -6, unix.SEEK_CUR, 0, unix.EINVAL},
		{5, -1, unix.SEEK_SET, 0, unix.EINVAL},
		{5, 0, unix.SEEK_END, 0, unix.EINVAL},
		{5, 0, unix.SEEK_DATA, 0, unix.EINVAL},
	} {
		got, err := Seek(c.cur, c.off, c.whence)
		if got != c.want || err != c.err {
			t.Errorf("Seek(%d, %d, %d) = %d, %v; want %d, %v", c.cur, c.off, c.whence, got, err, c.want, c.err)
		}
	}
}

func TestDirFile(t *testing.T) {
	var d DirFile
	if _, err := d.Read(nil, nil); err != unix.EISDIR {
		t.Errorf("Read: %v, want EISDIR", err)
	}
	if _, err := d.PWrite(nil, nil, 0); err != unix.EBADF {
		t.Errorf("PWrite: %v, want EBADF", err)
	}
	if _, err := d.Ioctl(nil, 0, 0, nil); err != unix.ENOTTY {
		t.Errorf("Ioctl: %v, want ENOTTY", err)
	}
	if d.HostFD() != -1 {
		t.Errorf("HostFD %d, want -1", d.HostFD())
	}
}
