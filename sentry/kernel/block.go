package kernel

import (
	"time"

	"golang.org/x/sys/unix"
)

// Block implements vfs.Blocker: it sleeps until ch receives, deadline
// passes (ETIMEDOUT; the zero time means never), or a signal the task
// does not block arrives or it must exit (EINTR). Pipes, eventfds and
// poll sleep here, so a signal's kick wakes them at once.
func (t *Task) Block(ch <-chan struct{}, deadline time.Time) error {
	// A paused sandbox completes no blocking call: the caller retries
	// only after Resume.
	defer t.k.pause.wait(t)
	forever := deadline.IsZero()
	for {
		if t.interrupted() {
			return unix.EINTR
		}
		if forever {
			select {
			case <-ch:
				return nil
			case <-t.wake:
			}
			continue
		}
		d := time.Until(deadline)
		if d <= 0 {
			return unix.ETIMEDOUT
		}
		t.timer.Reset(d)
		select {
		case <-ch:
			if !t.timer.Stop() {
				<-t.timer.C
			}
			return nil
		case <-t.wake:
			if !t.timer.Stop() {
				<-t.timer.C
			}
		case <-t.timer.C:
		}
	}
}

// SetTemporarySignalMask installs mask for the length of one call that
// takes a signal mask (ppoll, pselect6) and keeps the current one to be
// restored by RestoreSignalMask.
func (t *Task) SetTemporarySignalMask(mask SigSet) {
	t.sigMu.Lock()
	t.savedMask, t.haveSavedMask = t.mask, true
	t.mask = mask &^ unblockable
	t.sigMu.Unlock()
}

// RestoreSignalMask ends SetTemporarySignalMask. When the call was
// interrupted by a signal, the temporary mask stays until the signal is
// delivered: its handler's frame then saves the original mask (as Linux's
// restore_saved_sigmask_unless does), else deliverSignals restores it.
func (t *Task) RestoreSignalMask(interrupted bool) {
	if !t.haveSavedMask || interrupted {
		return
	}
	t.sigMu.Lock()
	t.mask, t.haveSavedMask = t.savedMask, false
	t.sigMu.Unlock()
}
