package mq

import (
	"moat/sentry/fs/fsutil"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// File is an open queue description: what mq_open returns, and what
// open(2) of a file in /dev/mqueue gives. read(2) returns the queue's
// status line; the messages go through mq_timedsend/mq_timedreceive.
type File struct {
	q *Queue
}

var (
	_ vfs.FileImpl = (*File)(nil)
	_ vfs.Waitable = (*File)(nil)
)

// NewFile returns an open description of q.
func NewFile(q *Queue) *File { return &File{q: q} }

// Queue returns the queue the file is open on.
func (f *File) Queue() *Queue { return f.q }

// Read implements read(2): the status line, from the file's offset.
// The mqueue file has no offset of its own worth keeping: Linux reads
// the line with simple_read_from_buffer at the file position.
func (f *File) Read(vf *vfs.File, dst []byte) (int, error) { return f.PRead(vf, dst, 0) }

// PRead implements pread(2) on the status line.
func (f *File) PRead(_ *vfs.File, dst []byte, off int64) (int, error) {
	s := f.q.Info()
	if off < 0 {
		return 0, unix.EINVAL
	}
	if off >= int64(len(s)) {
		return 0, nil
	}
	return copy(dst, s[off:]), nil
}

// Write implements write(2): the mqueue file takes no writes.
func (f *File) Write(*vfs.File, []byte) (int, error) { return 0, unix.EINVAL }

// PWrite implements pwrite(2).
func (f *File) PWrite(*vfs.File, []byte, int64) (int, error) { return 0, unix.EINVAL }

// Seek implements lseek(2).
func (f *File) Seek(_ *vfs.File, off int64, whence int) (int64, error) {
	return fsutil.Seek(0, off, whence)
}

// Stat implements fstat(2).
func (f *File) Stat(*vfs.File) (unix.Stat_t, error) { return f.q.Stat(), nil }

// Getdents implements getdents64(2).
func (f *File) Getdents(*vfs.File, []byte) (int, error) { return 0, unix.ENOTDIR }

// Ioctl implements ioctl(2).
func (f *File) Ioctl(*vfs.File, uintptr, uintptr, vfs.IOContext) (uintptr, error) {
	return 0, unix.ENOTTY
}

// HostFD implements vfs.FileImpl: no host descriptor.
func (f *File) HostFD() int { return -1 }

// Release implements vfs.FileImpl.
func (f *File) Release() {}

// Readiness implements vfs.Waitable: readable with messages queued,
// writable while there is room.
func (f *File) Readiness(mask vfs.EventMask) vfs.EventMask { return f.q.readiness(mask) }

// EventRegister implements vfs.Waitable.
func (f *File) EventRegister(e *vfs.WaitEntry) bool { f.q.queue.Register(e); return true }

// EventUnregister implements vfs.Waitable.
func (f *File) EventUnregister(e *vfs.WaitEntry) { f.q.queue.Unregister(e) }

// ProcLinkName names the descriptor in /proc/[pid]/fd, as Linux does
// from the queue's place in its internal mqueue mount.
func (f *File) ProcLinkName() string { return f.q.linkName() }
