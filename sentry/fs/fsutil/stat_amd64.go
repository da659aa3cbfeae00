package fsutil

import "golang.org/x/sys/unix"

// Stat returns a as amd64's struct stat.
func (a *Attr) Stat() unix.Stat_t {
	return unix.Stat_t{
		Dev: a.Dev, Ino: a.Ino, Nlink: a.Nlink, Mode: a.Mode,
		Uid: a.UID, Gid: a.GID, Rdev: a.Rdev, Size: a.Size,
		Blksize: a.Blksize, Blocks: a.Blocks,
		Atim: a.Atime, Mtim: a.Mtime, Ctim: a.Ctime,
	}
}
