package host

import (
	"time"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// pollInterval bounds how late a task blocked on a host descriptor
// notices a signal or its exit: the wait is a ppoll of this length,
// repeated. (Waking on the task's own notification would need an eventfd
// per task; this is the simple first version.)
const pollInterval = 50 * time.Millisecond

// wait blocks until fd is ready for events or in is interrupted (EINTR).
// Readiness is checked first, so data already there is returned even
// with a signal pending, as Linux does.
func (h *file) wait(events int16, in vfs.Interruptible) error {
	fds := [1]unix.PollFd{{Fd: int32(h.fd), Events: events}}
	ts := unix.NsecToTimespec(int64(pollInterval))
	for {
		n, err := unix.Ppoll(fds[:], &ts, nil)
		if err != nil && err != unix.EINTR {
			return errnoOf(err)
		}
		if n > 0 {
			return nil
		}
		if in.Interrupted() {
			return unix.EINTR
		}
	}
}

// ReadInterruptible reads like Read, but blocks in an interruptible wait
// rather than in read(2). The host descriptor may itself be non-blocking
// (it is shared with whoever started moat): EAGAIN then means "wait
// again" unless the application asked for O_NONBLOCK.
func (h *file) ReadInterruptible(f *vfs.File, dst []byte, in vfs.Interruptible) (int, error) {
	if f.Flags()&unix.O_NONBLOCK != 0 || len(dst) == 0 {
		return h.Read(f, dst)
	}
	for {
		if err := h.wait(unix.POLLIN, in); err != nil {
			return 0, err
		}
		n, err := h.Read(f, dst)
		if err != unix.EAGAIN {
			return n, err
		}
	}
}

// WriteInterruptible writes like Write, waiting interruptibly for room.
func (h *file) WriteInterruptible(f *vfs.File, src []byte, in vfs.Interruptible) (int, error) {
	if f.Flags()&unix.O_NONBLOCK != 0 || len(src) == 0 {
		return h.Write(f, src)
	}
	for {
		if err := h.wait(unix.POLLOUT, in); err != nil {
			return 0, err
		}
		n, err := h.Write(f, src)
		if err != unix.EAGAIN {
			return n, err
		}
	}
}
