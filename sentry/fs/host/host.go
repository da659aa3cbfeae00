// Package host wraps host descriptors the sentry was given (the
// container's standard streams) as open files that read and write them
// directly, and owns the sentry's one watcher of host descriptor
// readiness (notify.go), which host sockets use too.
package host

import (
	"fmt"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// file is a host descriptor used as an open file. The sentry owns fd.
type file struct {
	fd int
	// seekable is whether the host lets the descriptor seek (a regular
	// file or block device redirected to the container); pipes, ttys
	// and sockets are not, and pread/pwrite/lseek fail with ESPIPE.
	seekable bool
	// notified is whether the notifier watches fd (AddFD succeeded):
	// then queue is woken on each host readiness edge.
	notified bool
	queue    vfs.WaitQueue
}

// NewFile wraps fd as an open file description with the given open(2)
// flags (only the access mode and O_APPEND/O_NONBLOCK matter). The file
// owns fd: releasing the last reference closes it. Pass the flags the
// host reports (F_GETFL) to keep the view consistent; use Flags for that.
func NewFile(fd int, flags int) (*vfs.File, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("host: fstat of fd %d: %w", fd, err)
	}
	_, err := unix.Seek(fd, 0, unix.SEEK_CUR)
	h := &file{fd: fd, seekable: err == nil}
	// A descriptor the host cannot poll (EPERM: regular files, /dev/null)
	// is always ready; anything else failing only costs promptness.
	h.notified = AddFD(fd, &h.queue) == nil
	if isTerminal(fd) {
		return vfs.NewFile(&ttyFile{file: h, jobs: terminalJobs(st.Rdev)}, flags, vfs.Location{}), nil
	}
	return vfs.NewFile(h, flags, vfs.Location{}), nil
}

// Flags returns the access mode and status flags of host descriptor fd.
func Flags(fd int) (int, error) {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return 0, fmt.Errorf("host: F_GETFL of fd %d: %w", fd, err)
	}
	return fl &^ (unix.O_LARGEFILE | unix.O_CLOEXEC), nil
}

// errnoOf keeps host errnos and turns anything else into EIO.
func errnoOf(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(unix.Errno); ok {
		return e
	}
	return unix.EIO
}

func clamp(n int) int {
	if n < 0 {
		return 0
	}
	return n
}

func (h *file) Read(_ *vfs.File, dst []byte) (int, error) {
	n, err := unix.Read(h.fd, dst)
	return clamp(n), errnoOf(err)
}

func (h *file) Write(_ *vfs.File, src []byte) (int, error) {
	n, err := unix.Write(h.fd, src)
	return clamp(n), errnoOf(err)
}

func (h *file) PRead(_ *vfs.File, dst []byte, off int64) (int, error) {
	if !h.seekable {
		return 0, unix.ESPIPE
	}
	n, err := unix.Pread(h.fd, dst, off)
	return clamp(n), errnoOf(err)
}

func (h *file) PWrite(_ *vfs.File, src []byte, off int64) (int, error) {
	if !h.seekable {
		return 0, unix.ESPIPE
	}
	n, err := unix.Pwrite(h.fd, src, off)
	return clamp(n), errnoOf(err)
}

func (h *file) Seek(_ *vfs.File, off int64, whence int) (int64, error) {
	if !h.seekable {
		return 0, unix.ESPIPE
	}
	n, err := unix.Seek(h.fd, off, whence)
	return n, errnoOf(err)
}

func (h *file) Stat(*vfs.File) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstat(h.fd, &st)
	return st, errnoOf(err)
}

func (h *file) Getdents(*vfs.File, []byte) (int, error) { return 0, unix.ENOTDIR }

// Ioctl forwards only the two terminal queries programs make to decide
// whether they talk to a terminal, with the argument copied through a
// buffer of the exact kernel struct size; anything else is ENOTTY.
func (h *file) Ioctl(_ *vfs.File, req, arg uintptr, io vfs.IOContext) (uintptr, error) {
	switch req {
	case unix.TCGETS:
		t, err := unix.IoctlGetTermios(h.fd, unix.TCGETS)
		if err != nil {
			return 0, errnoOf(err)
		}
		return 0, copyOutTermios(io, arg, t)
	case unix.TIOCGWINSZ:
		w, err := unix.IoctlGetWinsize(h.fd, unix.TIOCGWINSZ)
		if err != nil {
			return 0, errnoOf(err)
		}
		return 0, copyOutWinsize(io, arg, w)
	}
	return 0, unix.ENOTTY
}

func (h *file) SetStatusFlags(flags int) error {
	_, err := unix.FcntlInt(uintptr(h.fd), unix.F_SETFL, flags&(unix.O_APPEND|unix.O_NONBLOCK))
	return errnoOf(err)
}

func (h *file) HostFD() int { return -1 }

func (h *file) Release() {
	if h.notified {
		RemoveFD(h.fd)
	}
	unix.Close(h.fd)
}
