package kernel

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"
)

// SI_QUEUE is sigqueue(3)'s si_code (asm-generic/siginfo.h).
const SI_QUEUE = -1

// DequeueSignal takes the lowest-numbered signal of set pending for t
// (thread-directed first, then process-directed), blocked or not, as
// signalfd reads and sigtimedwait do; ok is false when there is none.
func (t *Task) DequeueSignal(set SigSet) (info SigInfo, ok bool) {
	tg := t.tg
	tg.mu.Lock()
	defer tg.mu.Unlock()
	t.sigMu.Lock()
	defer t.sigMu.Unlock()
	if ready := t.pending & set; ready != 0 {
		sig := lowestSignal(ready)
		t.pending &^= SigBit(sig)
		return t.pendingInfo[sig-1], true
	}
	if ready := tg.pending & set; ready != 0 {
		sig := lowestSignal(ready)
		tg.pending &^= SigBit(sig)
		return tg.pendingInfo[sig-1], true
	}
	return SigInfo{}, false
}

// PendingIn reports whether a signal of set is pending for t or its
// process (signalfd's readiness).
func (t *Task) PendingIn(set SigSet) bool {
	tg := t.tg
	tg.mu.Lock()
	defer tg.mu.Unlock()
	t.sigMu.Lock()
	defer t.sigMu.Unlock()
	return (t.pending|tg.pending)&set != 0
}

// SigTimedWait implements rt_sigtimedwait(2): it takes a pending signal
// of set (SIGKILL and SIGSTOP excluded), waiting until one arrives, the
// deadline passes (EAGAIN; the zero time waits forever) or another
// signal the thread does not block interrupts it (EINTR). As Linux does,
// the signals of set are unblocked while it waits, so that a
// process-directed one picks this thread.
func (t *Task) SigTimedWait(set SigSet, deadline time.Time) (SigInfo, error) {
	set &^= unblockable
	if info, ok := t.DequeueSignal(set); ok {
		return info, nil
	}
	if !deadline.IsZero() && !time.Now().Before(deadline) {
		return SigInfo{}, unix.EAGAIN
	}
	t.sigMu.Lock()
	old := t.mask
	t.mask &^= set
	t.sigMu.Unlock()
	defer func() {
		t.sigMu.Lock()
		t.mask = old
		t.sigMu.Unlock()
	}()
	for {
		if info, ok := t.DequeueSignal(set); ok {
			return info, nil
		}
		// Nothing of set is pending: anything deliverable is another
		// signal (or an exit, or a group stop).
		if t.interrupted() {
			return SigInfo{}, unix.EINTR
		}
		if deadline.IsZero() {
			<-t.wake
			continue
		}
		d := time.Until(deadline)
		if d <= 0 {
			return SigInfo{}, unix.EAGAIN
		}
		t.timer.Reset(d)
		select {
		case <-t.wake:
			if !t.timer.Stop() {
				<-t.timer.C
			}
		case <-t.timer.C:
		}
	}
}

// QueueSignalInfo implements rt_sigqueueinfo(2)'s sending: raw is the
// application's siginfo_t (its si_signo is replaced by sig), queued for
// the process. The caller has checked permission and si_code.
func (tg *ThreadGroup) QueueSignalInfo(sig unix.Signal, raw *[SigInfoSize]byte) {
	tg.sendSignal(rawSigInfo(sig, raw))
}

// QueueSignalInfo implements rt_tgsigqueueinfo(2)'s sending to one
// thread, as ThreadGroup.QueueSignalInfo.
func (t *Task) QueueSignalInfo(sig unix.Signal, raw *[SigInfoSize]byte) {
	t.sendSignalInfo(rawSigInfo(sig, raw))
}

// rawSigInfo is the pending siginfo for an application's siginfo_t.
func rawSigInfo(sig unix.Signal, raw *[SigInfoSize]byte) SigInfo {
	le := binary.LittleEndian
	b := *raw
	le.PutUint32(b[0:], uint32(sig))
	return SigInfo{
		Signo: int32(sig),
		Code:  int32(le.Uint32(b[8:])),
		PID:   int32(le.Uint32(b[16:])),
		UID:   le.Uint32(b[20:]),
		raw:   &b,
	}
}
