package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/kernel/pipe"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// SPLICE_F_* flags (linux/splice.h). MOVE and GIFT are hints (pages are
// always copied here); MORE only matters to sockets.
const (
	spliceFNonblock = 0x2
	spliceFAll      = 0xf
)

// Splice data moves through the sentry: pipes live in it, so there is
// no page to move. The waiting rules follow fs/splice.c: a pipe source
// waits for data (or EOF) once, then moves what is there; a pipe
// destination waits for room once, then takes what fits.

// sysSplice implements splice(2). Linux's order: 0 for a zero length,
// EINVAL for unknown flags, EBADF, ESPIPE for an offset on a pipe,
// EFAULT for the offsets, EBADF for the access modes, then per case.
func sysSplice(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	offInAddr, offOutAddr, length, flags := a[1], a[3], a[4], a.Uint(5)
	if length == 0 {
		return 0, nil
	}
	if flags&^spliceFAll != 0 {
		return 0, unix.EINVAL
	}
	in, err := dataFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer in.DecRef()
	out, err := dataFile(t, a.Int(2))
	if err != nil {
		return 0, err
	}
	defer out.DecRef()
	ipipe, opipe := pipe.PipeOf(in), pipe.PipeOf(out)
	if ipipe != nil && offInAddr != 0 || opipe != nil && offOutAddr != 0 {
		return 0, unix.ESPIPE
	}
	var offOut, offIn int64
	if offOutAddr != 0 {
		v, err := copyInU64(t, offOutAddr)
		if err != nil {
			return 0, err
		}
		offOut = int64(v)
	}
	if offInAddr != 0 {
		v, err := copyInU64(t, offInAddr)
		if err != nil {
			return 0, err
		}
		offIn = int64(v)
	}
	if !in.Readable() || !out.Writable() {
		return 0, unix.EBADF
	}
	n := rwCount(length)
	nonblock := flags&spliceFNonblock != 0
	switch {
	case ipipe != nil && opipe != nil:
		if ipipe == opipe {
			return 0, unix.EINVAL
		}
		nonblock = nonblock || (in.Flags()|out.Flags())&unix.O_NONBLOCK != 0
		return pipeToPipe(t, ipipe, opipe, n, nonblock, true)
	case ipipe != nil:
		return spliceFromPipe(t, ipipe, out, offOutAddr, offOut, n, nonblock || in.Flags()&unix.O_NONBLOCK != 0)
	case opipe != nil:
		return spliceToPipe(t, in, offInAddr, offIn, opipe, n, nonblock || out.Flags()&unix.O_NONBLOCK != 0)
	}
	return 0, unix.EINVAL
}

// sysTee implements tee(2): it copies up to len bytes from one pipe to
// another without consuming them. EINVAL for unknown flags, 0 for a zero
// length, EBADF, EBADF for the access modes, EINVAL unless both are
// distinct pipes.
func sysTee(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	length, flags := a[2], a.Uint(3)
	if flags&^spliceFAll != 0 {
		return 0, unix.EINVAL
	}
	if length == 0 {
		return 0, nil
	}
	in, err := dataFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer in.DecRef()
	out, err := dataFile(t, a.Int(1))
	if err != nil {
		return 0, err
	}
	defer out.DecRef()
	if !in.Readable() || !out.Writable() {
		return 0, unix.EBADF
	}
	ipipe, opipe := pipe.PipeOf(in), pipe.PipeOf(out)
	if ipipe == nil || opipe == nil || ipipe == opipe {
		return 0, unix.EINVAL
	}
	nonblock := flags&spliceFNonblock != 0 || (in.Flags()|out.Flags())&unix.O_NONBLOCK != 0
	return pipeToPipe(t, ipipe, opipe, rwCount(length), nonblock, false)
}

// pipeToPipe is splice between two pipes (consume) and tee (not): wait
// for input, then for room, then move what there is. A splice that lost a
// race with another reader or writer waits again; tee returns 0 then, as
// Linux's link_pipe does.
func pipeToPipe(t *kernel.Task, src, dst *pipe.Pipe, n int, nonblock, consume bool) (uintptr, error) {
	for {
		if err := src.WaitReadable(nonblock, t); err != nil {
			return 0, interrupted(err)
		}
		if err := dst.WaitWritable(nonblock, t); err != nil {
			return 0, pipeErr(t, err)
		}
		moved, err := pipe.Transfer(src, dst, n, consume)
		if err != nil {
			return 0, pipeErr(t, err)
		}
		if moved > 0 || !consume || src.AtEOF() {
			// Moved something, a tee, or EOF on the source.
			return uintptr(moved), nil
		}
		if nonblock {
			return 0, unix.EAGAIN
		}
	}
}

// pipeErr raises SIGPIPE for EPIPE and turns EINTR into a restart.
func pipeErr(t *kernel.Task, err error) error {
	if err == unix.EPIPE {
		t.SendSignal(unix.SIGPIPE, nil)
	}
	return interrupted(err)
}

// seekable reports whether f has a position (FMODE_PREAD/PWRITE).
func seekable(f *vfs.File) bool {
	_, err := f.Seek(0, unix.SEEK_CUR)
	return err != unix.ESPIPE
}

// spliceFromPipe moves up to n bytes from src to out, at *offOutAddr
// (offOut) if given, else at out's position. It waits for data once;
// bytes out does not take stay in the pipe.
func spliceFromPipe(t *kernel.Task, src *pipe.Pipe, out *vfs.File, offOutAddr uintptr, offOut int64, n int, nonblock bool) (uintptr, error) {
	if offOutAddr != 0 && !seekable(out) || out.Flags()&unix.O_APPEND != 0 {
		return 0, unix.EINVAL
	}
	if offOutAddr != 0 && offOut < 0 {
		return 0, unix.EINVAL
	}
	if err := src.WaitReadable(nonblock, t); err != nil {
		return 0, interrupted(err)
	}
	bp := ioBufs.Get().(*[]byte)
	defer ioBufs.Put(bp)
	buf := *bp
	done := 0
	var werr error
	for done < n {
		chunk := buf[:src.Take(buf[:min(n-done, len(buf))])]
		if len(chunk) == 0 {
			break
		}
		var put int
		if offOutAddr != 0 {
			put, werr = out.PWrite(chunk, offOut+int64(done))
		} else {
			put, werr = out.WriteInterruptible(chunk, t)
		}
		put = max(put, 0)
		done += put
		src.Unread(chunk[put:])
		if werr != nil || put < len(chunk) {
			break
		}
	}
	if werr != nil && done == 0 {
		return 0, pipeErr(t, werr)
	}
	if offOutAddr != 0 {
		if err := copyOutU64(t, offOutAddr, uint64(offOut+int64(done))); err != nil {
			return 0, err
		}
	}
	return uintptr(done), nil
}

// spliceToPipe moves up to n bytes from in, at *offInAddr (offIn) if
// given, else at in's position (or its stream), into dst: it waits for
// room once and reads no more than fits.
func spliceToPipe(t *kernel.Task, in *vfs.File, offInAddr uintptr, offIn int64, dst *pipe.Pipe, n int, nonblock bool) (uintptr, error) {
	typ, err := fileType(in)
	if err != nil {
		return 0, err
	}
	canSeek := seekable(in)
	if typ == unix.S_IFDIR || offInAddr != 0 && !canSeek {
		return 0, unix.EINVAL
	}
	pos := offIn
	if offInAddr == 0 && canSeek {
		if pos, err = in.Seek(0, unix.SEEK_CUR); err != nil {
			return 0, err
		}
	}
	if pos < 0 {
		return 0, unix.EINVAL
	}
	if err := dst.WaitWritable(nonblock, t); err != nil {
		return 0, pipeErr(t, err)
	}
	bp := ioBufs.Get().(*[]byte)
	defer ioBufs.Put(bp)
	buf := *bp
	done := 0
	for done < n {
		chunk := buf[:min(n-done, len(buf), dst.Room())]
		if len(chunk) == 0 {
			break
		}
		var got int
		var err error
		if canSeek {
			got, err = in.PRead(chunk, pos+int64(done))
		} else {
			got, err = in.ReadInterruptible(chunk, t)
		}
		if err != nil {
			if done > 0 {
				break
			}
			return 0, interrupted(err)
		}
		if got == 0 {
			break
		}
		put, err := dst.Put(chunk[:got])
		done += put
		if err != nil || put < got {
			// A writer raced in (or the readers left); what a stream
			// gave that does not fit is lost, which Linux avoids by
			// reserving the pipe's slots first.
			break
		}
		if !canSeek {
			// One read of a stream: a second could block.
			break
		}
	}
	if offInAddr != 0 {
		if err := copyOutU64(t, offInAddr, uint64(pos+int64(done))); err != nil {
			return 0, err
		}
	} else if canSeek && done > 0 {
		if _, err := in.Seek(pos+int64(done), unix.SEEK_SET); err != nil {
			return 0, err
		}
	}
	return uintptr(done), nil
}

// sysVmsplice implements vmsplice(2): a pipe's write end takes the
// user buffers (copied: SPLICE_F_GIFT gives no pages away here), a read
// end fills them. EINVAL for unknown flags, EBADF, the iovec checks,
// 0 for nothing to move, EBADF for a file that is no pipe. Only
// SPLICE_F_NONBLOCK makes it nonblocking, not O_NONBLOCK.
func sysVmsplice(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	flags := a.Uint(3)
	if flags&^spliceFAll != 0 {
		return 0, unix.EINVAL
	}
	f, err := dataFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	write := f.Writable()
	if !write && !f.Readable() {
		return 0, unix.EBADF
	}
	if a[2] > iovMax {
		return 0, unix.EINVAL
	}
	iovs, err := copyInIovecs(t, a[1], int32(a[2]))
	if err != nil {
		return 0, err
	}
	if iovs.total == 0 {
		return 0, nil
	}
	p := pipe.PipeOf(f)
	if p == nil {
		return 0, unix.EBADF
	}
	// Only the flag counts: Linux's vmsplice ignores O_NONBLOCK.
	nonblock := flags&spliceFNonblock != 0
	if write {
		if err := p.WaitWritable(nonblock, t); err != nil {
			return 0, pipeErr(t, err)
		}
		return vmspliceIn(t, p, iovs)
	}
	if err := p.WaitReadable(nonblock, t); err != nil {
		return 0, interrupted(err)
	}
	return vmspliceOut(t, p, iovs)
}

// vmspliceIn copies the buffers of iovs into p, as much as fits.
func vmspliceIn(t *kernel.Task, p *pipe.Pipe, iovs iovecs) (uintptr, error) {
	bp := ioBufs.Get().(*[]byte)
	defer ioBufs.Put(bp)
	buf := *bp
	done := 0
	for i := range iovs.n() {
		base, length := iovs.at(i)
		length = min(length, iovs.total-done)
		for off := 0; off < length; {
			chunk := buf[:min(length-off, len(buf), p.Room())]
			if len(chunk) == 0 {
				return uintptr(done), nil
			}
			c, cerr := t.CopyIn(base+uintptr(off), chunk)
			put, err := p.Put(chunk[:c])
			done += put
			off += put
			if err != nil || put < c {
				return doneOr(t, done, err)
			}
			if cerr != nil || c < len(chunk) {
				return doneOr(t, done, unix.EFAULT)
			}
		}
	}
	return uintptr(done), nil
}

// vmspliceOut moves what p holds into the buffers of iovs; bytes that
// cannot be copied out stay in the pipe.
func vmspliceOut(t *kernel.Task, p *pipe.Pipe, iovs iovecs) (uintptr, error) {
	bp := ioBufs.Get().(*[]byte)
	defer ioBufs.Put(bp)
	buf := *bp
	done := 0
	for i := range iovs.n() {
		base, length := iovs.at(i)
		length = min(length, iovs.total-done)
		for off := 0; off < length; {
			chunk := buf[:p.Take(buf[:min(length-off, len(buf))])]
			if len(chunk) == 0 {
				return uintptr(done), nil
			}
			c, err := t.CopyOut(base+uintptr(off), chunk)
			c = max(c, 0)
			done += c
			off += c
			p.Unread(chunk[c:])
			if err != nil || c < len(chunk) {
				return doneOr(t, done, unix.EFAULT)
			}
		}
	}
	return uintptr(done), nil
}

// doneOr returns done if some data moved, else err (SIGPIPE for EPIPE).
func doneOr(t *kernel.Task, done int, err error) (uintptr, error) {
	if done > 0 {
		return uintptr(done), nil
	}
	return 0, pipeErr(t, err)
}
