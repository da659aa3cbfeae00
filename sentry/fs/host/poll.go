package host

import (
	"moat/sentry/vfs"
)

var _ vfs.Waitable = (*file)(nil)

// Readiness implements vfs.Waitable by asking the host: a ppoll of the
// descriptor with a zero timeout.
func (h *file) Readiness(mask vfs.EventMask) vfs.EventMask {
	return FDReadiness(h.fd, mask)
}

// EventRegister implements vfs.Waitable. A descriptor the notifier
// watches notifies e on each host edge; one it could not watch (a
// regular file, /dev/null) is always ready, and false tells the waiter
// to look again instead.
func (h *file) EventRegister(e *vfs.WaitEntry) bool {
	if !h.notified {
		return false
	}
	h.queue.Register(e)
	return true
}

// EventUnregister implements vfs.Waitable.
func (h *file) EventUnregister(e *vfs.WaitEntry) { h.queue.Unregister(e) }
