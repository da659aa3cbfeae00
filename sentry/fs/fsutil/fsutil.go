// Package fsutil holds the small encodings the sentry's in-memory file
// systems (tmpfs, overlay) share: linux_dirent64 records and struct stat
// built from portable fields.
package fsutil

import (
	"encoding/binary"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// direntHeader is the size of linux_dirent64 before its name: d_ino (8),
// d_off (8), d_reclen (2), d_type (1).
const direntHeader = 19

// Dirent is one directory entry as getdents64 reports it.
type Dirent struct {
	Ino  uint64
	Off  int64 // the offset to seek to for the entry after this one
	Type uint8 // DT_*
	Name string
}

// DirentSize returns the record length of an entry named name: header,
// name, NUL, padded to 8 bytes as the kernel aligns them.
func DirentSize(name string) int {
	return (direntHeader + len(name) + 1 + 7) &^ 7
}

// PutDirent writes d at the start of buf and returns the bytes used, or
// 0 when buf is too small for it.
func PutDirent(buf []byte, d Dirent) int {
	n := DirentSize(d.Name)
	if n > len(buf) {
		return 0
	}
	binary.LittleEndian.PutUint64(buf[0:], d.Ino)
	binary.LittleEndian.PutUint64(buf[8:], uint64(d.Off))
	binary.LittleEndian.PutUint16(buf[16:], uint16(n))
	buf[18] = d.Type
	copy(buf[direntHeader:], d.Name)
	// NUL and padding.
	clear(buf[direntHeader+len(d.Name) : n])
	return n
}

// ParseDirents decodes the linux_dirent64 records in buf (what a
// getdents64 returned) and calls fn for each. A malformed record ends the
// walk: the bytes came from the host kernel, so that would be a bug, but
// nothing here may panic on it.
func ParseDirents(buf []byte, fn func(d Dirent)) {
	for len(buf) >= direntHeader {
		reclen := int(binary.LittleEndian.Uint16(buf[16:]))
		if reclen < direntHeader || reclen > len(buf) {
			return
		}
		name := buf[direntHeader:reclen]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		fn(Dirent{
			Ino:  binary.LittleEndian.Uint64(buf[0:]),
			Off:  int64(binary.LittleEndian.Uint64(buf[8:])),
			Type: buf[18],
			Name: string(name),
		})
		buf = buf[reclen:]
	}
}

// DirentType returns the DT_* value for a file of type mode (S_IF*).
func DirentType(mode uint32) uint8 {
	return uint8(mode & unix.S_IFMT >> 12)
}

// Attr is a file's metadata in portable form; Stat lays it out as the
// architecture's struct stat.
type Attr struct {
	Dev, Ino, Nlink, Rdev uint64
	Mode, UID, GID        uint32
	Size, Blocks, Blksize int64
	Atime, Mtime, Ctime   unix.Timespec
}

// Now returns the current time as a Timespec, for inode times.
func Now() unix.Timespec {
	var ts unix.Timespec
	// CLOCK_REALTIME cannot fail with a valid pointer.
	_ = unix.ClockGettime(unix.CLOCK_REALTIME, &ts)
	return ts
}

// anonDevMinor numbers the in-memory file systems of this sentry, as
// Linux gives each tmpfs or proc instance its own anonymous device
// (major 0). A counter rather than a registry: numbers are never reused,
// which only matters after 2^20 mounts.
var anonDevMinor atomic.Uint32

// NewAnonDev returns a fresh device number (major 0) for st_dev.
func NewAnonDev() uint64 {
	return unix.Mkdev(0, anonDevMinor.Add(1)+32)
}
