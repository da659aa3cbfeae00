package goferfs

import (
	"moat/gofer"

	"golang.org/x/sys/unix"
)

// statfsOf fills arm64's struct statfs from the gofer's.
func statfsOf(s *gofer.Statfs) unix.Statfs_t {
	return unix.Statfs_t{
		Type: int64(s.Type), Bsize: int64(s.Bsize), Blocks: s.Blocks, Bfree: s.Bfree,
		Bavail: s.Bavail, Files: s.Files, Ffree: s.Ffree,
		Fsid:    unix.Fsid{Val: [2]int32{int32(uint32(s.Fsid)), int32(uint32(s.Fsid >> 32))}},
		Namelen: int64(s.Namelen), Frsize: int64(s.Frsize), Flags: int64(s.Flags),
	}
}
