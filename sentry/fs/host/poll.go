package host

import (
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

var _ vfs.Waitable = (*file)(nil)

// Readiness implements vfs.Waitable by asking the host: a ppoll of the
// descriptor with a zero timeout.
func (h *file) Readiness(mask vfs.EventMask) vfs.EventMask {
	fds := [1]unix.PollFd{{Fd: int32(h.fd), Events: int16(mask)}}
	ts := unix.Timespec{}
	for {
		n, err := unix.Ppoll(fds[:], &ts, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return 0
		}
		return vfs.EventMask(uint16(fds[0].Revents)) & mask
	}
}

// EventRegister implements vfs.Waitable: the host cannot notify the
// sentry, so it returns false and the waiter polls.
func (h *file) EventRegister(*vfs.WaitEntry) bool { return false }

// EventUnregister implements vfs.Waitable.
func (h *file) EventUnregister(*vfs.WaitEntry) {}
