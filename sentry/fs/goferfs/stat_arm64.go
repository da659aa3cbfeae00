package goferfs

import (
	"moat/gofer"

	"golang.org/x/sys/unix"
)

// attrToStat fills arm64's struct stat (the generic layout: 32-bit nlink
// and blksize) from a gofer Attr.
func attrToStat(a *gofer.Attr) unix.Stat_t {
	return unix.Stat_t{
		Dev: a.Dev, Ino: a.Ino, Nlink: uint32(a.Nlink), Mode: a.Mode,
		Uid: a.UID, Gid: a.GID, Rdev: a.Rdev, Size: a.Size,
		Blksize: int32(a.Blksize), Blocks: a.Blocks,
		Atim: unix.Timespec{Sec: a.AtimeSec, Nsec: a.AtimeNsec},
		Mtim: unix.Timespec{Sec: a.MtimeSec, Nsec: a.MtimeNsec},
		Ctim: unix.Timespec{Sec: a.CtimeSec, Nsec: a.CtimeNsec},
	}
}
