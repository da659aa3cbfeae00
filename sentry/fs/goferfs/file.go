package goferfs

import (
	"os"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// hostFile is an open gofer file: a host descriptor that is its own
// open file description on the host, so the host keeps the offset and
// O_APPEND for us with exactly Linux's semantics (dup'd descriptors share
// the vfs.File, hence the host descriptor, hence the offset).
type hostFile struct {
	// f owns the descriptor; fd is f.Fd(), cached.
	f  *os.File
	fd int
}

func (h *hostFile) Stat(*vfs.File) (unix.Stat_t, error) {
	var st unix.Stat_t
	if err := unix.Fstat(h.fd, &st); err != nil {
		return st, errnoOf(err)
	}
	return st, nil
}

func (h *hostFile) Ioctl(*vfs.File, uintptr, uintptr, vfs.IOContext) (uintptr, error) {
	return 0, unix.ENOTTY
}

func (h *hostFile) SetStatusFlags(flags int) error {
	// O_NONBLOCK on a regular file or directory changes nothing, but
	// keep the host description in step so O_APPEND writes append.
	_, err := unix.FcntlInt(uintptr(h.fd), unix.F_SETFL, flags&(unix.O_APPEND|unix.O_NONBLOCK))
	return errnoOf(err)
}

func (h *hostFile) HostFD() int { return h.fd }

func (h *hostFile) Release() { h.f.Close() }

// errnoOf keeps host errnos and turns anything else into EIO; nil stays
// nil.
func errnoOf(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(unix.Errno); ok {
		return e
	}
	return unix.EIO
}

// regularFile is an open regular file.
type regularFile struct{ hostFile }

func (r *regularFile) Read(_ *vfs.File, dst []byte) (int, error) {
	n, err := unix.Read(r.fd, dst)
	return clamp(n), errnoOf(err)
}

func (r *regularFile) Write(_ *vfs.File, src []byte) (int, error) {
	n, err := unix.Write(r.fd, src)
	return clamp(n), errnoOf(err)
}

func (r *regularFile) PRead(_ *vfs.File, dst []byte, off int64) (int, error) {
	n, err := unix.Pread(r.fd, dst, off)
	return clamp(n), errnoOf(err)
}

func (r *regularFile) PWrite(_ *vfs.File, src []byte, off int64) (int, error) {
	n, err := unix.Pwrite(r.fd, src, off)
	return clamp(n), errnoOf(err)
}

func (r *regularFile) Seek(_ *vfs.File, off int64, whence int) (int64, error) {
	n, err := unix.Seek(r.fd, off, whence)
	return n, errnoOf(err)
}

func (r *regularFile) Getdents(*vfs.File, []byte) (int, error) { return 0, unix.ENOTDIR }

// dirFile is an open directory: getdents64 records come from the host
// directory as they are (d_ino and d_type of the host).
type dirFile struct{ hostFile }

// Read and PRead ask the host, which answers EISDIR, or EINVAL first
// when the directory offset is a hash cookie near the end of the offset
// range (ext4): the application sees what Linux says for this directory.
func (d *dirFile) Read(_ *vfs.File, dst []byte) (int, error) {
	n, err := unix.Read(d.fd, dst)
	return clamp(n), errnoOf(err)
}
func (d *dirFile) Write(*vfs.File, []byte) (int, error) { return 0, unix.EBADF }
func (d *dirFile) PRead(_ *vfs.File, dst []byte, off int64) (int, error) {
	n, err := unix.Pread(d.fd, dst, off)
	return clamp(n), errnoOf(err)
}
func (d *dirFile) PWrite(*vfs.File, []byte, int64) (int, error) {
	return 0, unix.EBADF
}

func (d *dirFile) Seek(_ *vfs.File, off int64, whence int) (int64, error) {
	n, err := unix.Seek(d.fd, off, whence)
	return n, errnoOf(err)
}

func (d *dirFile) Getdents(_ *vfs.File, buf []byte) (int, error) {
	n, err := unix.Getdents(d.fd, buf)
	return clamp(n), errnoOf(err)
}

// clamp turns the -1 a failed host call reports into 0.
func clamp(n int) int {
	if n < 0 {
		return 0
	}
	return n
}
