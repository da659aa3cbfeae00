package goferfs

import (
	"moat/gofer"

	"golang.org/x/sys/unix"
)

// attrToStat fills amd64's struct stat from a gofer Attr.
func attrToStat(a *gofer.Attr) unix.Stat_t {
	return unix.Stat_t{
		Dev: a.Dev, Ino: a.Ino, Nlink: a.Nlink, Mode: a.Mode,
		Uid: a.UID, Gid: a.GID, Rdev: a.Rdev, Size: a.Size,
		Blksize: a.Blksize, Blocks: a.Blocks,
		Atim: unix.Timespec{Sec: a.AtimeSec, Nsec: a.AtimeNsec},
		Mtim: unix.Timespec{Sec: a.MtimeSec, Nsec: a.MtimeNsec},
		Ctim: unix.Timespec{Sec: a.CtimeSec, Nsec: a.CtimeNsec},
	}
}
