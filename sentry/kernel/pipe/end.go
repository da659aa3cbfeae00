package pipe

import (
	"encoding/binary"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// fionread is FIONREAD (asm-generic/ioctls.h).
const fionread = 0x541B

// End is the vfs.FileImpl of one open end of a pipe or FIFO. A FIFO opened
// O_RDWR is both a reader and a writer.
type End struct {
	p              *Pipe
	reader, writer bool
	packet         bool
	// wSeen is the pipe's writer count of opens when this end was
	// opened: a reader reports POLLHUP only once a writer came after it.
	wSeen uint64
	// stat, for a FIFO, is the inode's stat (nil for pipe(2) ends).
	stat func() (unix.Stat_t, error)
}

var (
	_ vfs.FileImpl   = (*End)(nil)
	_ vfs.BlockingIO = (*End)(nil)
	_ vfs.Waitable   = (*End)(nil)
)

// Pipe returns the pipe the end belongs to (F_GETPIPE_SZ, /proc fd links).
func (e *End) Pipe() *Pipe { return e.p }

// ProcLinkName is what /proc/[pid]/fd shows for a pipe(2) end
// (proc.LinkNamer); a FIFO's end has a path, which proc shows instead.
func (e *End) ProcLinkName() string { return e.p.Name() }

// PipeOf returns the pipe behind f, or nil if f is no pipe or FIFO.
func PipeOf(f *vfs.File) *Pipe {
	if e, ok := f.Impl().(*End); ok {
		return e.p
	}
	return nil
}

// Read reads without a task to interrupt it (sentry-internal callers).
func (e *End) Read(f *vfs.File, dst []byte) (int, error) { return e.ReadInterruptible(f, dst, nil) }

// Write writes without a task to interrupt it.
func (e *End) Write(f *vfs.File, src []byte) (int, error) {
	return e.WriteInterruptible(f, src, nil)
}

// ReadInterruptible implements read(2) on the end: data that is there at
// once, EOF without writers, EAGAIN under O_NONBLOCK, else it blocks
// until data comes (EINTR if in is interrupted first).
func (e *End) ReadInterruptible(f *vfs.File, dst []byte, in vfs.Interruptible) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	n, err := e.p.read(dst, e.packet)
	if err != unix.EAGAIN || f.Flags()&unix.O_NONBLOCK != 0 {
		return n, err
	}
	err = e.p.wait(vfs.EventIn|vfs.EventHUp, in, func() bool {
		n, err = e.p.read(dst, e.packet)
		return err != unix.EAGAIN
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// WriteInterruptible implements write(2) on the end. A blocking write
// returns only once all of src is in the pipe, or with the count written
// so far when interrupted or when the readers go (EPIPE if none was).
func (e *End) WriteInterruptible(f *vfs.File, src []byte, in vfs.Interruptible) (int, error) {
	if len(src) == 0 {
		return 0, nil
	}
	packet := e.packet || f.Flags()&unix.O_DIRECT != 0
	done := 0
	for {
		n, err := e.p.write(src[done:], packet)
		done += n
		if done == len(src) {
			return done, nil
		}
		if err != nil && err != unix.EAGAIN {
			return done, err
		}
		if f.Flags()&unix.O_NONBLOCK != 0 {
			if done > 0 {
				return done, nil
			}
			return 0, unix.EAGAIN
		}
		rest := src[done:]
		werr := e.p.wait(vfs.EventOut|vfs.EventErr, in, func() bool {
			e.p.mu.Lock()
			defer e.p.mu.Unlock()
			room := e.p.capacity - e.p.queuedLocked()
			return e.p.readers == 0 || room >= len(rest) || len(rest) > Buf && room > 0
		})
		if werr != nil {
			return done, werr
		}
	}
}

// PRead fails: a pipe has no offsets.
func (e *End) PRead(*vfs.File, []byte, int64) (int, error) { return 0, unix.ESPIPE }

// PWrite fails: a pipe has no offsets.
func (e *End) PWrite(*vfs.File, []byte, int64) (int, error) { return 0, unix.ESPIPE }

// Seek fails: a pipe has no offsets.
func (e *End) Seek(*vfs.File, int64, int) (int64, error) { return 0, unix.ESPIPE }

// Stat reports a FIFO's inode, or for pipe(2) a pipefs inode: S_IFIFO
// 0600, owned by the creator.
func (e *End) Stat(*vfs.File) (unix.Stat_t, error) {
	if e.stat != nil {
		return e.stat()
	}
	p := e.p
	return unix.Stat_t{
		Ino: p.ino, Mode: unix.S_IFIFO | 0o600, Nlink: 1, Uid: p.uid, Gid: p.gid,
		Blksize: PageSize, Atim: p.ctime, Mtim: p.ctime, Ctim: p.ctime,
	}, nil
}

// Getdents fails: a pipe is no directory.
func (e *End) Getdents(*vfs.File, []byte) (int, error) { return 0, unix.ENOTDIR }

// Ioctl answers FIONREAD (bytes waiting, as an int); others ENOTTY.
func (e *End) Ioctl(_ *vfs.File, req, arg uintptr, io vfs.IOContext) (uintptr, error) {
	if req != fionread {
		return 0, unix.ENOTTY
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(e.p.Queued()))
	if n, err := io.CopyOut(arg, b[:]); err != nil || n != len(b) {
		return 0, unix.EFAULT
	}
	return 0, nil
}

// HostFD returns -1: the data lives in the sentry.
func (e *End) HostFD() int { return -1 }

// Release closes the end.
func (e *End) Release() { e.p.release(e) }

// Readiness implements vfs.Waitable.
func (e *End) Readiness(mask vfs.EventMask) vfs.EventMask { return e.p.readiness(e, mask) }

// EventRegister implements vfs.Waitable.
func (e *End) EventRegister(w *vfs.WaitEntry) bool { e.p.queue.Register(w); return true }

// EventUnregister implements vfs.Waitable.
func (e *End) EventUnregister(w *vfs.WaitEntry) { e.p.queue.Unregister(w) }
