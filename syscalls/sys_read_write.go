package syscalls

import (
	"sync"

	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

const (
	// maxRWCount is MAX_RW_COUNT: one read or write moves at most
	// INT_MAX rounded down to a page.
	maxRWCount = 0x7ffff000
	// iovMax is IOV_MAX (UIO_MAXIOV).
	iovMax = 1024
	// iovecSize is sizeof(struct iovec) on 64-bit architectures.
	iovecSize = 16
	// ioChunk is how much data one step of a read or write stages in
	// the sentry between the file and application memory.
	ioChunk = 64 << 10
)

// ioBufs recycles staging buffers so steady-state I/O does not allocate.
var ioBufs = sync.Pool{New: func() any { b := make([]byte, ioChunk); return &b }}

// file returns the open file at fd with a reference the caller drops.
func file(t *kernel.Task, fd int32) (*vfs.File, error) { return t.FDTable().Get(fd) }

// readInto reads up to n bytes from f into application memory at addr,
// at off (or the file's offset when off < 0), staging through a pooled
// buffer. Files with host data (regular files) are read until n or a
// short read; streams (pipes, ttys) get one read, as a second could block
// although data was already returned. A fault after some data was read
// returns the count, as Linux does.
func readInto(t *kernel.Task, f *vfs.File, addr uintptr, n int, off int64) (int, error) {
	bp := ioBufs.Get().(*[]byte)
	defer ioBufs.Put(bp)
	buf := *bp
	stream := f.HostFD() < 0
	done := 0
	for done < n {
		chunk := buf[:min(n-done, len(buf))]
		var got int
		var err error
		if off < 0 {
			got, err = f.ReadInterruptible(chunk, t)
		} else {
			got, err = f.PRead(chunk, off+int64(done))
		}
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, interrupted(err)
		}
		if got > 0 {
			if c, err := t.CopyOut(addr+uintptr(done), chunk[:got]); err != nil {
				if done+c > 0 {
					return done + c, nil
				}
				return 0, unix.EFAULT
			}
		}
		done += got
		if got < len(chunk) || stream {
			break
		}
	}
	return done, nil
}

// writeFrom writes n bytes of application memory at addr to f, at off
// (or the file's offset when off < 0).
func writeFrom(t *kernel.Task, f *vfs.File, addr uintptr, n int, off int64) (int, error) {
	bp := ioBufs.Get().(*[]byte)
	defer ioBufs.Put(bp)
	buf := *bp
	done := 0
	for done < n {
		chunk := buf[:min(n-done, len(buf))]
		c, err := t.CopyIn(addr+uintptr(done), chunk)
		if c == 0 && err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, unix.EFAULT
		}
		chunk = chunk[:c]
		var put int
		if off < 0 {
			put, err = f.WriteInterruptible(chunk, t)
		} else {
			put, err = f.PWrite(chunk, off+int64(done))
		}
		done += put
		if err == unix.EPIPE {
			// Writing to a pipe nobody reads raises SIGPIPE, as well
			// as failing with EPIPE.
			t.SendSignal(unix.SIGPIPE, nil)
		}
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, interrupted(err)
		}
		if put < len(chunk) {
			break
		}
	}
	return done, nil
}

// interrupted turns the EINTR of a blocking read or write that a signal
// cut short before any data moved into ERESTARTSYS: the call restarts
// unless a handler without SA_RESTART runs, as on Linux.
func interrupted(err error) error {
	if err == unix.EINTR {
		return kernel.ERESTARTSYS
	}
	return err
}

// rwCount checks a count argument (size_t): it is clamped to
// MAX_RW_COUNT.
func rwCount(v uintptr) int {
	if v > maxRWCount {
		return maxRWCount
	}
	return int(v)
}

// sysRead implements read(2).
func sysRead(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, err := file(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if !f.Readable() {
		return 0, unix.EBADF
	}
	n, err := readInto(t, f, a[1], rwCount(a[2]), -1)
	return uintptr(n), err
}

// sysWrite implements write(2).
func sysWrite(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, err := file(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if !f.Writable() {
		return 0, unix.EBADF
	}
	n, err := writeFrom(t, f, a[1], rwCount(a[2]), -1)
	return uintptr(n), err
}

// sysPread64 implements pread64(2): EINVAL for a negative offset, ESPIPE on
// files that cannot seek.
func sysPread64(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, err := file(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	off := int64(a[3])
	if !f.Readable() {
		return 0, unix.EBADF
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	n, err := readInto(t, f, a[1], rwCount(a[2]), off)
	return uintptr(n), err
}

// sysPwrite64 implements pwrite64(2).
func sysPwrite64(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, err := file(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	off := int64(a[3])
	if !f.Writable() {
		return 0, unix.EBADF
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	n, err := writeFrom(t, f, a[1], rwCount(a[2]), off)
	return uintptr(n), err
}

// iovecs is a validated struct iovec array, still in its raw form so
// that small arrays need no allocation.
type iovecs struct {
	raw []byte
	// total is the sum of the lengths, clamped to MAX_RW_COUNT.
	total int
}

func (v iovecs) n() int { return len(v.raw) / iovecSize }

// at returns entry i.
func (v iovecs) at(i int) (base uintptr, length int) {
	return uintptr(le.Uint64(v.raw[i*iovecSize:])), int(le.Uint64(v.raw[i*iovecSize+8:]))
}

// copyInIovecs reads and checks an iovec array: EINVAL for more than
// IOV_MAX entries, a negative length or a total that overflows ssize_t.
// Arrays that fit use the task's scratch buffer.
func copyInIovecs(t *kernel.Task, addr uintptr, cnt int32) (iovecs, error) {
	if cnt < 0 || cnt > iovMax {
		return iovecs{}, unix.EINVAL
	}
	size := int(cnt) * iovecSize
	var raw []byte
	if s := t.Scratch(); size <= len(s) {
		raw = s[:size]
	} else {
		raw = make([]byte, size)
	}
	if err := copyInAll(t, addr, raw); err != nil {
		return iovecs{}, err
	}
	v := iovecs{raw: raw}
	var total uint64
	for i := range v.n() {
		l := le.Uint64(raw[i*iovecSize+8:])
		if int64(l) < 0 {
			return iovecs{}, unix.EINVAL
		}
		total += l
		if total > 1<<63-1 {
			return iovecs{}, unix.EINVAL
		}
	}
	v.total = int(min(total, maxRWCount))
	return v, nil
}

// rwv is readv and writev: it moves data for each iovec in turn, at most
// MAX_RW_COUNT in all, stopping at the first short transfer.
func rwv(t *kernel.Task, a arch.SyscallArguments, write bool) (uintptr, error) {
	f, err := file(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if write && !f.Writable() || !write && !f.Readable() {
		return 0, unix.EBADF
	}
	iovs, err := copyInIovecs(t, a[1], a.Int(2))
	if err != nil {
		return 0, err
	}
	total := 0
	for i := range iovs.n() {
		base, length := iovs.at(i)
		length = min(length, iovs.total-total)
		if length == 0 {
			continue
		}
		var n int
		if write {
			n, err = writeFrom(t, f, base, length, -1)
		} else {
			n, err = readInto(t, f, base, length, -1)
		}
		total += n
		if err != nil {
			if total > 0 {
				return uintptr(total), nil
			}
			return 0, err
		}
		if n < length {
			break
		}
	}
	return uintptr(total), nil
}

// sysReadv implements readv(2).
func sysReadv(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) { return rwv(t, a, false) }

// sysWritev implements writev(2).
func sysWritev(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) { return rwv(t, a, true) }

// sysLseek implements lseek(2): EINVAL for a bad whence or a negative
// result, ESPIPE on pipes and terminals, EOVERFLOW from the file system.
func sysLseek(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, err := file(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	off, err := f.Seek(int64(a[1]), int(a.Uint(2)))
	if err != nil {
		return 0, err
	}
	return uintptr(off), nil
}

// sysGetdents64 implements getdents64(2): ENOTDIR on a non-directory,
// EINVAL when the buffer cannot hold one record.
func sysGetdents64(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, err := file(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	bp := ioBufs.Get().(*[]byte)
	defer ioBufs.Put(bp)
	buf := (*bp)[:min(int(a.Uint(2)), ioChunk)]
	n, err := f.Getdents(buf)
	if err != nil {
		return 0, err
	}
	if c, err := t.CopyOut(a[1], buf[:n]); err != nil || c != n {
		return 0, unix.EFAULT
	}
	return uintptr(n), nil
}
