package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/kernel/pipe"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// RWF_* flags of preadv2/pwritev2 (linux/fs.h).
const (
	rwfHIPRI    = 0x1
	rwfDSYNC    = 0x2
	rwfSYNC     = 0x4
	rwfNOAPPEND = 0x20
	// rwfAccepted are the flags served: HIPRI (polling) means nothing
	// without a polled device, DSYNC and SYNC sync after a write,
	// NOAPPEND writes at the offset given (which pwrite does here).
	// NOWAIT, APPEND, ATOMIC, DONTCACHE and unknown flags fail with
	// EOPNOTSUPP, as for a file that does not support them.
	rwfAccepted = rwfHIPRI | rwfDSYNC | rwfSYNC | rwfNOAPPEND
)

// rwvAt moves data between f and the buffers of iovs at off (the file's
// position when off is -1), stopping at the first short transfer, as
// readv and writev do.
func rwvAt(t *kernel.Task, f *vfs.File, iovs iovecs, off int64, write bool) (int, error) {
	total := 0
	for i := range iovs.n() {
		base, length := iovs.at(i)
		length = min(length, iovs.total-total)
		if length == 0 {
			continue
		}
		at := int64(-1)
		if off >= 0 {
			at = off + int64(total)
		}
		var n int
		var err error
		if write {
			n, err = writeFrom(t, f, base, length, at)
		} else {
			n, err = readInto(t, f, base, length, at)
		}
		total += n
		if err != nil {
			if total > 0 {
				return total, nil
			}
			return 0, err
		}
		if n < length {
			break
		}
	}
	return total, nil
}

// preadwritev is preadv, pwritev, preadv2 and pwritev2. On 64-bit
// architectures the offset is the fourth argument whole (pos_h is
// ignored). Linux's order: EINVAL for a negative offset (except -1 for
// the v2 calls: the file's position), EBADF, ESPIPE on unseekable files
// for an explicit offset, EBADF for the access mode, the iovec checks,
// then the flags (EOPNOTSUPP) unless nothing is to move.
func preadwritev(t *kernel.Task, a arch.SyscallArguments, write, v2 bool) (uintptr, error) {
	off := int64(a[3])
	var flags uint32
	if v2 {
		flags = a.Uint(5)
	}
	current := v2 && off == -1
	if off < 0 && !current {
		return 0, unix.EINVAL
	}
	f, err := dataFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if !current {
		if _, err := f.Seek(0, unix.SEEK_CUR); err == unix.ESPIPE {
			return 0, unix.ESPIPE
		}
	}
	if write && !f.Writable() || !write && !f.Readable() {
		return 0, unix.EBADF
	}
	iovs, err := copyInIovecs(t, a[1], a.Int(2))
	if err != nil {
		return 0, err
	}
	if iovs.total == 0 {
		return 0, nil
	}
	if flags&^rwfAccepted != 0 {
		return 0, unix.EOPNOTSUPP
	}
	if current {
		off = -1
	}
	n, err := rwvAt(t, f, iovs, off, write)
	if err != nil {
		return 0, err
	}
	if write && n > 0 && flags&(rwfDSYNC|rwfSYNC) != 0 {
		if err := f.Sync(flags&rwfSYNC == 0); err != nil && err != unix.EINVAL {
			return 0, err
		}
	}
	return uintptr(n), nil
}

// sysPreadv implements preadv(2).
func sysPreadv(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return preadwritev(t, a, false, false)
}

// sysPwritev implements pwritev(2).
func sysPwritev(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return preadwritev(t, a, true, false)
}

// sysPreadv2 implements preadv2(2).
func sysPreadv2(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return preadwritev(t, a, false, true)
}

// sysPwritev2 implements pwritev2(2).
func sysPwritev2(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return preadwritev(t, a, true, true)
}

// sysSendfile implements sendfile(2) (sendfile64): data moves through a
// sentry buffer from in_fd (a regular file: anything else is EINVAL, as
// for a file without splice_read) at *offset or its position, to out_fd
// at its position (a pipe, socket or file; EINVAL for an O_APPEND file).
// At most MAX_RW_COUNT bytes move; *offset or in_fd's position advances by
// what was written.
func sysSendfile(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	offAddr, count := a[2], a[3]
	in, err := dataFile(t, a.Int(1))
	if err != nil {
		return 0, err
	}
	defer in.DecRef()
	if !in.Readable() {
		return 0, unix.EBADF
	}
	var pos int64
	if offAddr != 0 {
		v, err := copyInU64(t, offAddr)
		if err != nil {
			return 0, err
		}
		pos = int64(v)
		if _, err := in.Seek(0, unix.SEEK_CUR); err == unix.ESPIPE {
			return 0, unix.ESPIPE
		}
	} else if p, err := in.Seek(0, unix.SEEK_CUR); err == nil {
		pos = p
	}
	if pos < 0 || int64(count) < 0 || pos+int64(count) < 0 {
		return 0, unix.EINVAL
	}
	n := rwCount(count)
	out, err := dataFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer out.DecRef()
	if !out.Writable() {
		return 0, unix.EBADF
	}
	inType, err := fileType(in)
	if err != nil {
		return 0, err
	}
	outType, err := fileType(out)
	if err != nil {
		return 0, err
	}
	if inType != unix.S_IFREG || outType != unix.S_IFIFO && out.Flags()&unix.O_APPEND != 0 {
		return 0, unix.EINVAL
	}
	if op := pipe.PipeOf(out); op != nil {
		// Into a pipe, sendfile is a splice: wait (interruptibly) for
		// room once, then move what fits.
		return spliceToPipe(t, in, offAddr, pos, op, n, out.Flags()&unix.O_NONBLOCK != 0)
	}
	done, err := copyData(t, in, pos, out, -1, n)
	if err != nil {
		return 0, err
	}
	if offAddr != 0 {
		if err := copyOutU64(t, offAddr, uint64(pos+int64(done))); err != nil {
			return 0, err
		}
	} else if _, err := in.Seek(pos+int64(done), unix.SEEK_SET); err != nil {
		return 0, err
	}
	return uintptr(done), nil
}

// copyData copies up to n bytes from in at inOff to out at outOff (its
// position when outOff is -1) through a pooled buffer. It stops at the
// end of in or a short write; an error after some data moved returns the
// count.
func copyData(t *kernel.Task, in *vfs.File, inOff int64, out *vfs.File, outOff int64, n int) (int, error) {
	bp := ioBufs.Get().(*[]byte)
	defer ioBufs.Put(bp)
	buf := *bp
	done := 0
	for done < n {
		chunk := buf[:min(n-done, len(buf))]
		got, err := in.PRead(chunk, inOff+int64(done))
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		if got == 0 {
			break
		}
		var put int
		if outOff < 0 {
			put, err = out.WriteInterruptible(chunk[:got], t)
		} else {
			put, err = out.PWrite(chunk[:got], outOff+int64(done))
		}
		done += put
		if err == unix.EPIPE {
			t.SendSignal(unix.SIGPIPE, nil)
		}
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, interrupted(err)
		}
		if put < got {
			break
		}
	}
	return done, nil
}

// sysCopyFileRange implements copy_file_range(2) with the checks of
// Linux 6.x: EBADF, EFAULT for the offsets, EINVAL for flags, EISDIR for
// a directory, EINVAL for anything else that is not a regular file,
// EBADF for the access modes or an O_APPEND output, EOVERFLOW when an
// offset would wrap, the length cut at the end of the input, EINVAL for
// overlapping ranges of one file, EINVAL for a negative offset, 0 if
// nothing is left to copy, and EXDEV between different file systems.
func sysCopyFileRange(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	inOffAddr, outOffAddr, flags := a[1], a[3], a.Uint(5)
	count := uint64(a[4])
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
	inPos, err := filePos(t, in, inOffAddr)
	if err != nil {
		return 0, err
	}
	outPos, err := filePos(t, out, outOffAddr)
	if err != nil {
		return 0, err
	}
	if flags != 0 {
		return 0, unix.EINVAL
	}
	inSt, err := in.Stat()
	if err != nil {
		return 0, err
	}
	outSt, err := out.Stat()
	if err != nil {
		return 0, err
	}
	inType, outType := inSt.Mode&unix.S_IFMT, outSt.Mode&unix.S_IFMT
	if inType == unix.S_IFDIR || outType == unix.S_IFDIR {
		return 0, unix.EISDIR
	}
	if inType != unix.S_IFREG || outType != unix.S_IFREG {
		return 0, unix.EINVAL
	}
	if !in.Readable() || !out.Writable() || out.Flags()&unix.O_APPEND != 0 {
		return 0, unix.EBADF
	}
	if uint64(inPos)+count < uint64(inPos) || uint64(outPos)+count < uint64(outPos) {
		return 0, unix.EOVERFLOW
	}
	if inPos >= inSt.Size {
		count = 0
	} else {
		count = min(count, uint64(inSt.Size-inPos))
	}
	sameFile := inSt.Dev == outSt.Dev && inSt.Ino == outSt.Ino
	if sameFile && uint64(outPos)+count > uint64(inPos) && uint64(outPos) < uint64(inPos)+count {
		return 0, unix.EINVAL
	}
	if inPos < 0 || outPos < 0 || int64(count) < 0 {
		return 0, unix.EINVAL
	}
	if count == 0 {
		return 0, nil
	}
	if inSt.Dev != outSt.Dev {
		return 0, unix.EXDEV
	}
	done, err := copyData(t, in, inPos, out, outPos, rwCount(uintptr(count)))
	if err != nil {
		return 0, err
	}
	if done == 0 {
		return 0, nil
	}
	if err := setFilePos(t, in, inOffAddr, inPos+int64(done)); err != nil {
		return 0, err
	}
	if err := setFilePos(t, out, outOffAddr, outPos+int64(done)); err != nil {
		return 0, err
	}
	return uintptr(done), nil
}

// filePos reads the offset at addr, or f's position when addr is 0.
func filePos(t *kernel.Task, f *vfs.File, addr uintptr) (int64, error) {
	if addr != 0 {
		v, err := copyInU64(t, addr)
		return int64(v), err
	}
	p, err := f.Seek(0, unix.SEEK_CUR)
	if err != nil {
		// Unseekable files (pipes) have position 0; they are refused
		// later by type.
		return 0, nil
	}
	return p, nil
}

// setFilePos stores pos at addr, or as f's position when addr is 0.
func setFilePos(t *kernel.Task, f *vfs.File, addr uintptr, pos int64) error {
	if addr != 0 {
		return copyOutU64(t, addr, uint64(pos))
	}
	_, err := f.Seek(pos, unix.SEEK_SET)
	return err
}
