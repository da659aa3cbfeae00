package dev

import (
	"moat/sentry/fs/pseudo"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// NewPts returns the sandbox's devpts: an empty directory for now. No
// pseudo-terminal pairs exist in the sentry yet, so /dev/pts/ptmx (and
// the /dev/ptmx link to it) do not resolve and posix_openpt fails with
// ENOENT, which the issue allows; programs that need no terminal see the
// mount they expect.
func NewPts() vfs.FilesystemImpl {
	return pseudo.NewFS(func(fs *pseudo.FS) vfs.Inode {
		return &pseudo.Dir{
			Node:    pseudo.Node{FS: fs, Path: "/", Mode: unix.S_IFDIR | 0o755},
			Entries: func() ([]pseudo.Entry, error) { return nil, nil },
		}
	})
}
