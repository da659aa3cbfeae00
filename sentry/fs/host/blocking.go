package host

import (
	"time"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// unwatchedInterval bounds how late a task blocked on a host descriptor
// the notifier could not watch notices a signal. Such descriptors
// (regular files, /dev/null) are always ready, so the loop below only
// runs for a descriptor whose epoll registration failed for some other
// reason.
const unwatchedInterval = 50 * time.Millisecond

// wait blocks until the descriptor is ready for events or in is
// interrupted (EINTR). Readiness is checked first, so data already there
// is returned even with a signal pending, as Linux does.
func (h *file) wait(events vfs.EventMask, in vfs.Interruptible) error {
	if h.notified {
		return WaitFD(h.fd, &h.queue, events, in, time.Time{})
	}
	for {
		if FDReadiness(h.fd, events) != 0 {
			return nil
		}
		err := vfs.Block(in, nil, time.Now().Add(unwatchedInterval))
		if err != nil && err != unix.ETIMEDOUT {
			return err
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
		if err := h.wait(vfs.EventIn, in); err != nil {
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
		if err := h.wait(vfs.EventOut, in); err != nil {
			return 0, err
		}
		n, err := h.Write(f, src)
		if err != unix.EAGAIN {
			return n, err
		}
	}
}
