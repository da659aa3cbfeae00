// Package vfs is the sentry's virtual file system: the mount tree, the
// dentry cache, path resolution (symlinks, "..", mount points, O_NOFOLLOW,
// AT_* flags) and open file descriptions. File systems (sentry/fs/...)
// plug in below it through FilesystemImpl, Inode and FileImpl; system-call
// handlers and the kernel's fd tables sit above it.
//
// Every error a method of this package returns to a caller that serves an
// application is a unix.Errno.
//
// How the kernel builds a sandbox's view (vfs cannot import the file
// systems, they import it):
//
//	v, err := vfs.New(goferfs.New(cfg.Root), vfs.MountOptions{ReadOnly: true})
//	fs := vfs.NewFS(v.Root(), v.Root())           // then ChdirAt + SetCwd
//	fl, _ := host.Flags(fd); f, err := host.NewFile(fd, fl) // stdio 0, 1, 2
package vfs

import (
	"golang.org/x/sys/unix"
)

// Creds are the credentials a path walk and permission checks run with
// (the task's filesystem uid and gid, and its supplementary groups).
type Creds struct {
	UID, GID uint32
	Groups   []uint32
	// Caps are the effective capabilities permission checks consult
	// (bit n for CAP_* number n) when HasCaps is set. Without HasCaps
	// (the sentry's own rights, tests) uid 0 has every capability and
	// other uids none. See perm.go.
	Caps    uint64
	HasCaps bool
	// Caller is the task on whose behalf the call runs (a *kernel.Task),
	// for the few file systems whose answers depend on it (proc's self);
	// nil when unknown, and then /proc/self does not resolve.
	Caller any
}

// FilesystemImpl is one mounted instance of a file system type
// (sentry/fs/goferfs, later tmpfs, proc ...).
type FilesystemImpl interface {
	// Root returns the inode of the file system's root directory.
	Root() (Inode, error)
}

// InodeAttr is what path resolution needs to know about an inode without
// asking the file system again: its type and permission bits and owner.
type InodeAttr struct {
	// Mode is S_IF* | permission bits, as st_mode.
	Mode     uint32
	UID, GID uint32
}

// Inode is what a file system implements for one of its files. The VFS
// holds one Inode per cached Dentry and calls Release when it drops it.
type Inode interface {
	// Attr returns the inode's type, permissions and owner. It is called
	// on every path step, so it must be cheap (cached).
	Attr() InodeAttr
	// Lookup finds name (never "", "." or "..", never containing "/") in
	// this directory. Symlinks are not followed. ENOENT if absent.
	Lookup(name string) (Inode, error)
	// Readlink returns the target of a symlink (EINVAL for other types).
	Readlink() (string, error)
	// Open opens the inode. flags are open(2) flags; the VFS has already
	// checked permissions, the file type against flags, and read-only
	// mounts, and has removed O_CREAT, O_EXCL, O_NOFOLLOW and O_CLOEXEC;
	// O_TRUNC is left in for regular files only (truncate on open).
	Open(flags int) (FileImpl, error)
	// Stat returns the inode's current metadata.
	Stat() (unix.Stat_t, error)
	// Release drops the file system's resources for the inode.
	Release()
}

// MountOptions are the options of one mount.
type MountOptions struct {
	// ReadOnly refuses every write to the mount with EROFS.
	ReadOnly bool
	// Type and Source are the file system type and the source /proc's
	// mounts and mountinfo show ("proc", "proc"; "tmpfs", "tmpfs"; "9p"
	// and the bundle's rootfs). Informational only.
	Type, Source string
	// NoExec refuses execve of the mount's files and PROT_EXEC mappings
	// of them (EACCES); NoDev makes its device nodes unopenable; NoSuid
	// ignores set-user-ID and set-group-ID bits on exec.
	NoExec, NoDev, NoSuid bool
}

// FileImpl is what a file system implements for its open files. Methods
// that a kind of file does not support return the errno the kernel would
// (EINVAL, ESPIPE, ENOTDIR, ENOTTY, EBADF...). Offsets are the FileImpl's
// business: one FileImpl is one open file description, shared by every
// descriptor dup'd from it, so sharing the offset falls out.
type FileImpl interface {
	Read(f *File, dst []byte) (int, error)
	Write(f *File, src []byte) (int, error)
	PRead(f *File, dst []byte, off int64) (int, error)
	PWrite(f *File, src []byte, off int64) (int, error)
	Seek(f *File, off int64, whence int) (int64, error)
	Stat(f *File) (unix.Stat_t, error)
	// Getdents fills buf with linux_dirent64 records and returns the
	// number of bytes used (0 at end of directory).
	Getdents(f *File, buf []byte) (int, error)
	Ioctl(f *File, req uintptr, arg uintptr, io IOContext) (uintptr, error)
	// HostFD returns a host descriptor holding the file's data, for mmap,
	// or -1.
	HostFD() int
	Release()
}

// StatusFlagsSetter is implemented by a FileImpl that must act when
// F_SETFL changes O_APPEND or O_NONBLOCK (a host-backed file forwards
// them to its host descriptor). flags are the new status flags.
type StatusFlagsSetter interface {
	SetStatusFlags(flags int) error
}

// Interruptible is the task on whose behalf a file operation may block:
// the operation gives up with EINTR once Interrupted reports true (a
// signal to take, or the task must exit). *kernel.Task implements it.
type Interruptible interface {
	Interrupted() bool
}

// BlockingIO is implemented by a FileImpl whose reads and writes may
// block indefinitely on the host (pipes, terminals): these variants give
// up when in is interrupted. Files without it are read and written with
// Read and Write.
type BlockingIO interface {
	ReadInterruptible(f *File, dst []byte, in Interruptible) (int, error)
	WriteInterruptible(f *File, src []byte, in Interruptible) (int, error)
}

// IOContext lets an ioctl copy its argument in and out of application
// memory without vfs importing the kernel.
type IOContext interface {
	CopyIn(addr uintptr, dst []byte) (int, error)
	CopyOut(addr uintptr, src []byte) (int, error)
}
