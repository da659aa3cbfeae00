package tmpfs

import (
	"sync"

	"moat/sentry/fs/fsutil"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// maxFileSize is the largest size a tmpfs file may have (MAX_LFS_FILESIZE).
const maxFileSize = 1<<63 - 1

// dataFD returns the memfd holding i's data, making it on first use.
//
// Preconditions: fs.mu is locked; i is a regular file.
func (i *Inode) dataFDLocked() (int, error) {
	if i.memfd >= 0 {
		return i.memfd, nil
	}
	fd, err := unix.MemfdCreate("moat-tmpfs", unix.MFD_CLOEXEC)
	if err != nil {
		// The sandbox is out of host memory or descriptors.
		return -1, unix.ENOSPC
	}
	if i.size > 0 {
		if err := unix.Ftruncate(fd, i.size); err != nil {
			unix.Close(fd)
			return -1, unix.ENOSPC
		}
	}
	i.memfd = fd
	return fd, nil
}

// recharge brings the bytes charged for i in line with what its memfd
// holds after a write, truncate or fallocate.
//
// Preconditions: fs.mu is locked.
func (i *Inode) rechargeLocked() {
	held := i.hostBlocksLocked() * 512
	i.fs.charge(held - i.charged)
	i.charged = held
}

// write writes src at off (or at the end with appendMode) and returns
// the bytes written and the offset after them. Near the size limit it
// writes what fits and fails with ENOSPC only when nothing does, as
// Linux's write does.
func (i *Inode) write(src []byte, off int64, appendMode bool) (int, int64, error) {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if appendMode {
		off = i.size
	}
	if len(src) == 0 {
		return 0, off, nil
	}
	if off > maxFileSize-int64(len(src)) {
		return 0, off, unix.EFBIG
	}
	if i.seals&(sealWrite|sealFutureWrite|sealGrow) != 0 {
		n, err := i.writeSealedLocked(off, len(src))
		if err != nil {
			return 0, off, err
		}
		src = src[:n]
	}
	// Charge the worst case (every byte in a new page) up front; the
	// exact figure replaces it after the write.
	need := roundUp(off+int64(len(src))) - roundDown(off)
	if room := i.fs.room(); need > room {
		fit := roundDown(off+room) - off
		if fit <= 0 {
			return 0, off, unix.ENOSPC
		}
		src = src[:min(int64(len(src)), fit)]
		need = roundUp(off+int64(len(src))) - roundDown(off)
	}
	fd, err := i.dataFDLocked()
	if err != nil {
		return 0, off, err
	}
	i.fs.charge(need)
	i.charged += need
	n, err := unix.Pwrite(fd, src, off)
	if n < 0 {
		n = 0
	}
	if end := off + int64(n); end > i.size {
		i.size = end
	}
	i.rechargeLocked()
	if n > 0 {
		now := fsutil.Now()
		i.mtime, i.ctime = now, now
		// Linux clears set-user-ID (and group-executable set-group-ID)
		// on a write; the writer's privilege is not known here, so do
		// it always, as for an unprivileged writer.
		i.mode &^= unix.S_ISUID
		if i.mode&0o010 != 0 {
			i.mode &^= unix.S_ISGID
		}
	}
	if err != nil && n == 0 {
		return 0, off, unix.ENOSPC
	}
	return n, off + int64(n), nil
}

// read reads at off.
func (i *Inode) read(dst []byte, off int64) (int, error) {
	i.fs.mu.Lock()
	fd, size := i.memfd, i.size
	i.fs.mu.Unlock()
	if off >= size || len(dst) == 0 {
		return 0, nil
	}
	if fd < 0 {
		// A file extended by truncate alone reads as zeros.
		n := min(int64(len(dst)), size-off)
		clear(dst[:n])
		return int(n), nil
	}
	n, err := unix.Pread(fd, dst, off)
	if err != nil {
		return 0, unix.EIO
	}
	return n, nil
}

// truncate sets i's size (truncate, ftruncate, O_TRUNC).
func (i *Inode) truncate(size int64) error {
	if size < 0 {
		return unix.EINVAL
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if err := i.resizeSealedLocked(size); err != nil {
		return err
	}
	if size == i.size {
		// Linux still updates the times of an O_TRUNC on an empty file.
		now := fsutil.Now()
		i.mtime, i.ctime = now, now
		return nil
	}
	if i.memfd >= 0 {
		if err := unix.Ftruncate(i.memfd, size); err != nil {
			return unix.EIO
		}
		i.rechargeLocked()
	}
	i.size = size
	now := fsutil.Now()
	i.mtime, i.ctime = now, now
	return nil
}

// Truncate sets i's size, as truncate(2) and O_TRUNC do.
func (i *Inode) Truncate(size int64) error {
	if i.fmt() != unix.S_IFREG {
		return unix.EINVAL
	}
	return i.truncate(size)
}

// Allocate implements fallocate(2) modes 0 and FALLOC_FL_KEEP_SIZE.
func (i *Inode) Allocate(mode uint32, off, length int64) error {
	if i.fmt() != unix.S_IFREG {
		return unix.ENODEV
	}
	if off < 0 || length <= 0 {
		return unix.EINVAL
	}
	if mode&^unix.FALLOC_FL_KEEP_SIZE != 0 {
		return unix.EOPNOTSUPP
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if i.seals&sealGrow != 0 && off+length > i.size {
		return unix.EPERM
	}
	if need := roundUp(off+length) - roundDown(off); need > i.fs.room() {
		return unix.ENOSPC
	}
	fd, err := i.dataFDLocked()
	if err != nil {
		return err
	}
	if err := unix.Fallocate(fd, mode, off, length); err != nil {
		return unix.ENOSPC
	}
	if mode&unix.FALLOC_FL_KEEP_SIZE == 0 && off+length > i.size {
		i.size = off + length
	}
	i.rechargeLocked()
	i.ctime = fsutil.Now()
	return nil
}

func roundUp(n int64) int64   { return (n + pageSize - 1) &^ (pageSize - 1) }
func roundDown(n int64) int64 { return n &^ (pageSize - 1) }

// regularFile is an open regular file; its offset is its own.
type regularFile struct {
	i *Inode
	// mu guards off.
	mu  sync.Mutex
	off int64
}

func (r *regularFile) Read(_ *vfs.File, dst []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.i.read(dst, r.off)
	r.off += int64(n)
	return n, err
}

func (r *regularFile) Write(f *vfs.File, src []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, end, err := r.i.write(src, r.off, f.Flags()&unix.O_APPEND != 0)
	if n > 0 || err == nil {
		r.off = end
	}
	return n, err
}

func (r *regularFile) PRead(_ *vfs.File, dst []byte, off int64) (int, error) {
	return r.i.read(dst, off)
}

// PWrite writes at off; on an O_APPEND file Linux appends anyway.
func (r *regularFile) PWrite(f *vfs.File, src []byte, off int64) (int, error) {
	n, _, err := r.i.write(src, off, f.Flags()&unix.O_APPEND != 0)
	return n, err
}

func (r *regularFile) Seek(_ *vfs.File, off int64, whence int) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.i.fs.mu.Lock()
	size, fd := r.i.size, r.i.memfd
	r.i.fs.mu.Unlock()
	var n int64
	switch whence {
	case unix.SEEK_SET:
		n = off
	case unix.SEEK_CUR:
		n = r.off + off
	case unix.SEEK_END:
		n = size + off
	case unix.SEEK_DATA, unix.SEEK_HOLE:
		if off < 0 {
			return 0, unix.ENXIO
		}
		if off >= size {
			return 0, unix.ENXIO
		}
		if fd < 0 {
			if whence == unix.SEEK_DATA {
				return 0, unix.ENXIO
			}
			n = off
			break
		}
		m, err := unix.Seek(fd, off, whence)
		if err != nil {
			return 0, err.(unix.Errno)
		}
		n = m
	default:
		return 0, unix.EINVAL
	}
	if n < 0 {
		return 0, unix.EINVAL
	}
	r.off = n
	return n, nil
}

func (r *regularFile) Stat(*vfs.File) (unix.Stat_t, error) { return r.i.Stat() }

func (r *regularFile) Getdents(*vfs.File, []byte) (int, error) { return 0, unix.ENOTDIR }

func (r *regularFile) Ioctl(*vfs.File, uintptr, uintptr, vfs.IOContext) (uintptr, error) {
	return 0, unix.ENOTTY
}

// HostFD returns the memfd, made now if the file had none, so the file
// can be mapped.
func (r *regularFile) HostFD() int {
	r.i.fs.mu.Lock()
	defer r.i.fs.mu.Unlock()
	fd, err := r.i.dataFDLocked()
	if err != nil {
		return -1
	}
	return fd
}

// Inode returns the file's inode (ftruncate, fallocate, fchmod ...).
func (r *regularFile) Inode() *Inode { return r.i }

func (r *regularFile) Release() {
	r.i.fs.mu.Lock()
	defer r.i.fs.mu.Unlock()
	r.i.opens--
	r.i.maybeFreeLocked()
}

// dirFile is an open directory. Its offset is a cookie: 0 is ".", 1
// "..", and each child keeps the cookie it was added with, so entries
// added or removed during a listing never make it skip or repeat others.
type dirFile struct {
	fsutil.DirFile
	i *Inode
	// mu guards off.
	mu  sync.Mutex
	off int64
}

func (d *dirFile) Seek(_ *vfs.File, off int64, whence int) (int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	off, err := fsutil.Seek(d.off, off, whence)
	if err != nil {
		return 0, err
	}
	d.off = off
	return off, nil
}

func (d *dirFile) Getdents(_ *vfs.File, buf []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fs := d.i.fs
	fs.mu.Lock()
	self, parent := d.i.ino, d.i.parent.ino
	ents := d.i.entriesLocked(max(d.off, firstCookie))
	fs.mu.Unlock()
	n := 0
	put := func(de fsutil.Dirent) bool {
		m := fsutil.PutDirent(buf[n:], de)
		if m == 0 {
			return false
		}
		n += m
		d.off = de.Off
		return true
	}
	if d.off == 0 && !put(fsutil.Dirent{Ino: self, Off: 1, Type: unix.DT_DIR, Name: "."}) {
		return 0, unix.EINVAL
	}
	if d.off == 1 && !put(fsutil.Dirent{Ino: parent, Off: firstCookie, Type: unix.DT_DIR, Name: ".."}) {
		return n, nilOrEINVAL(n)
	}
	for _, e := range ents {
		if e.Inode.whiteout {
			continue
		}
		de := fsutil.Dirent{Ino: e.Inode.ino, Off: e.Cookie + 1, Type: fsutil.DirentType(e.Inode.typ), Name: e.Name}
		if !put(de) {
			return n, nilOrEINVAL(n)
		}
	}
	return n, nil
}

// nilOrEINVAL is getdents' result when the next record does not fit:
// fine if some did, EINVAL if the buffer holds not even one.
func nilOrEINVAL(n int) error {
	if n == 0 {
		return unix.EINVAL
	}
	return nil
}

func (d *dirFile) Stat(*vfs.File) (unix.Stat_t, error) { return d.i.Stat() }

// Inode returns the directory's inode.
func (d *dirFile) Inode() *Inode { return d.i }

// Truncate implements vfs.DataFile (ftruncate).
func (r *regularFile) Truncate(_ *vfs.File, size int64) error { return r.i.truncate(size) }

// Allocate implements vfs.DataFile (fallocate).
func (r *regularFile) Allocate(_ *vfs.File, mode uint32, off, length int64) error {
	return r.i.Allocate(mode, off, length)
}

// Sync implements vfs.DataFile: memory is as stable as tmpfs gets.
func (r *regularFile) Sync(*vfs.File, bool) error { return nil }

// Sync implements vfs.DataFile for fsync of a directory.
func (d *dirFile) Sync(*vfs.File, bool) error { return nil }

// Truncate implements vfs.DataFile: a directory has no size to set.
func (d *dirFile) Truncate(*vfs.File, int64) error { return unix.EINVAL }

// Allocate implements vfs.DataFile.
func (d *dirFile) Allocate(*vfs.File, uint32, int64, int64) error { return unix.EISDIR }

var (
	_ vfs.DataFile = (*regularFile)(nil)
	_ vfs.DataFile = (*dirFile)(nil)
)
