package vfs

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// settableFlags are the status flags F_SETFL may change. Others
// (O_ASYNC, O_DIRECT, O_NOATIME) are accepted by Linux but not supported
// here; F_SETFL ignores them like the access mode and creation flags.
const settableFlags = unix.O_APPEND | unix.O_NONBLOCK

// File is an open file description (struct file): shared by dup'd file
// descriptors and across fork, reference counted.
type File struct {
	refs atomic.Int64
	impl FileImpl
	// loc is where the file was opened; invalid for files that have no
	// path (the sandbox's stdio).
	loc Location
	// flags are the access mode and status flags (O_APPEND, O_NONBLOCK,
	// O_PATH, O_DIRECTORY ...). Only the settableFlags bits change, by
	// F_SETFL.
	flags atomic.Int32
	// onRelease runs when the last reference goes (waiter_epoll.go).
	onRelease releaseHooks
	// owner and sig are F_SETOWN(_EX)'s owner and F_SETSIG's signal
	// (file_owner.go).
	owner atomic.Pointer[IOOwner]
	sig   atomic.Int32
}

// NewFile makes an open file description with one reference from a file
// system's impl. flags are the open(2) flags it was opened with; loc is
// its place in the tree, or the zero Location.
func NewFile(impl FileImpl, flags int, loc Location) *File {
	return newFile(impl, flags, loc)
}

func newFile(impl FileImpl, flags int, loc Location) *File {
	f := &File{impl: impl, loc: loc}
	f.refs.Store(1)
	f.flags.Store(int32(flags))
	return f
}

// IncRef takes a reference on f.
func (f *File) IncRef() { f.refs.Add(1) }

// DecRef drops a reference; the last one releases the file.
func (f *File) DecRef() {
	if f.refs.Add(-1) == 0 {
		f.runReleaseHooks()
		f.releaseLocks()
		f.impl.Release()
	}
}

// Impl returns the file system's side of f.
func (f *File) Impl() FileImpl { return f.impl }

// Location returns where f was opened (invalid for a host stdio file).
func (f *File) Location() Location { return f.loc }

// Flags returns the access mode and status flags, as F_GETFL reports
// them.
func (f *File) Flags() int { return int(f.flags.Load()) }

// SetFlags implements F_SETFL: only O_APPEND and O_NONBLOCK change.
func (f *File) SetFlags(flags int) error {
	if f.isPath() {
		return unix.EBADF
	}
	old := f.Flags()
	nf := old&^settableFlags | flags&settableFlags
	if s, ok := f.impl.(StatusFlagsSetter); ok && nf != old {
		if err := s.SetStatusFlags(nf); err != nil {
			return err
		}
	}
	f.flags.Store(int32(nf))
	return nil
}

func (f *File) isPath() bool { return f.Flags()&unix.O_PATH != 0 }

// Readable reports whether f was opened for reading.
func (f *File) Readable() bool {
	acc := f.Flags() & unix.O_ACCMODE
	return !f.isPath() && (acc == unix.O_RDONLY || acc == unix.O_RDWR)
}

// Writable reports whether f was opened for writing.
func (f *File) Writable() bool {
	acc := f.Flags() & unix.O_ACCMODE
	return !f.isPath() && (acc == unix.O_WRONLY || acc == unix.O_RDWR)
}

// Read reads at the file's offset (EBADF if not open for reading).
func (f *File) Read(dst []byte) (int, error) {
	if !f.Readable() {
		return 0, unix.EBADF
	}
	return f.impl.Read(f, dst)
}

// Write writes at the file's offset, or its end with O_APPEND (EBADF if
// not open for writing).
func (f *File) Write(src []byte) (int, error) {
	if !f.Writable() {
		return 0, unix.EBADF
	}
	return f.impl.Write(f, src)
}

// ReadInterruptible is Read for a task that must be able to give up a
// blocking read (EINTR) when a signal comes.
func (f *File) ReadInterruptible(dst []byte, in Interruptible) (int, error) {
	if !f.Readable() {
		return 0, unix.EBADF
	}
	if b, ok := f.impl.(BlockingIO); ok {
		return b.ReadInterruptible(f, dst, in)
	}
	return f.impl.Read(f, dst)
}

// WriteInterruptible is Write for a task that must be able to give up a
// blocking write (EINTR) when a signal comes.
func (f *File) WriteInterruptible(src []byte, in Interruptible) (int, error) {
	if !f.Writable() {
		return 0, unix.EBADF
	}
	if b, ok := f.impl.(BlockingIO); ok {
		return b.WriteInterruptible(f, src, in)
	}
	return f.impl.Write(f, src)
}

// PRead reads at off without moving the offset.
func (f *File) PRead(dst []byte, off int64) (int, error) {
	if !f.Readable() {
		return 0, unix.EBADF
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	return f.impl.PRead(f, dst, off)
}

// PWrite writes at off without moving the offset.
func (f *File) PWrite(src []byte, off int64) (int, error) {
	if !f.Writable() {
		return 0, unix.EBADF
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	return f.impl.PWrite(f, src, off)
}

// Seek implements lseek.
func (f *File) Seek(off int64, whence int) (int64, error) {
	if f.isPath() {
		return 0, unix.EBADF
	}
	switch whence {
	case unix.SEEK_SET, unix.SEEK_CUR, unix.SEEK_END, unix.SEEK_DATA, unix.SEEK_HOLE:
	default:
		return 0, unix.EINVAL
	}
	return f.impl.Seek(f, off, whence)
}

// Stat implements fstat (O_PATH files included).
func (f *File) Stat() (unix.Stat_t, error) { return f.impl.Stat(f) }

// Getdents implements getdents64.
func (f *File) Getdents(buf []byte) (int, error) {
	if f.isPath() {
		return 0, unix.EBADF
	}
	return f.impl.Getdents(f, buf)
}

// Ioctl implements ioctl for requests the fd table does not handle.
func (f *File) Ioctl(req, arg uintptr, io IOContext) (uintptr, error) {
	if f.isPath() {
		return 0, unix.EBADF
	}
	return f.impl.Ioctl(f, req, arg, io)
}

// HostFD returns the host descriptor holding the file's data, or -1.
func (f *File) HostFD() int {
	if f.isPath() {
		return -1
	}
	return f.impl.HostFD()
}

// pathFile is the FileImpl of an O_PATH descriptor: it names a file
// without opening it, so only fstat (and use as a dirfd) works.
type pathFile struct {
	loc Location
}

func (p pathFile) Read(*File, []byte) (int, error)                           { return 0, unix.EBADF }
func (p pathFile) Write(*File, []byte) (int, error)                          { return 0, unix.EBADF }
func (p pathFile) PRead(*File, []byte, int64) (int, error)                   { return 0, unix.EBADF }
func (p pathFile) PWrite(*File, []byte, int64) (int, error)                  { return 0, unix.EBADF }
func (p pathFile) Seek(*File, int64, int) (int64, error)                     { return 0, unix.EBADF }
func (p pathFile) Stat(*File) (unix.Stat_t, error)                           { return p.loc.d.inode.Stat() }
func (p pathFile) Getdents(*File, []byte) (int, error)                       { return 0, unix.EBADF }
func (p pathFile) Ioctl(*File, uintptr, uintptr, IOContext) (uintptr, error) { return 0, unix.EBADF }
func (p pathFile) HostFD() int                                               { return -1 }
func (p pathFile) Release()                                                  {}
