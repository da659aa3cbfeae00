package kernel

import "golang.org/x/sys/unix"

// SendSignal queues sig for this thread (tkill/tgkill) and wakes it. An
// ignored, unblocked signal is discarded. sig 0 only checks existence.
func (t *Task) SendSignal(sig unix.Signal) {
	if sig == 0 {
		return
	}
	tg := t.tg
	tg.mu.Lock()
	if tg.exiting {
		tg.mu.Unlock()
		return
	}
	act := tg.actions[sig-1]
	t.sigMu.Lock()
	blocked := t.mask&SigBit(sig) != 0
	if !act.ignored(sig) || blocked {
		t.pending |= SigBit(sig)
	}
	t.sigMu.Unlock()
	tg.mu.Unlock()
	t.kick()
}

// forceSignal delivers a synchronous signal the application's own
// instruction raised (a fault): like the kernel's force_sig, a blocked or
// ignored signal is reset to its default action first, since returning to
// the faulting instruction would only fault again.
func (t *Task) forceSignal(sig unix.Signal) {
	if !ValidSignal(sig) {
		sig = unix.SIGSEGV
	}
	tg := t.tg
	tg.mu.Lock()
	act := &tg.actions[sig-1]
	t.sigMu.Lock()
	if t.mask&SigBit(sig) != 0 || act.Handler == SIG_IGN {
		*act = SigAction{}
		t.mask &^= SigBit(sig)
	}
	t.pending |= SigBit(sig)
	t.sigMu.Unlock()
	tg.mu.Unlock()
}

// deliverSignals takes every deliverable pending signal and acts on it:
// discard if ignored, end the process for a fatal default, and run the
// handler otherwise.
//
// Handlers are not run yet: building the signal frame is not
// implemented, so a signal with a handler installed gets its default
// action instead (fatal ones end the process, SIGCHLD/SIGWINCH/SIGURG and
// the stop signals are dropped); see README.md.
func (t *Task) deliverSignals() {
	for {
		sig, act := t.tg.takeSignal(t)
		if sig == 0 {
			return
		}
		if sig == unix.SIGKILL {
			t.tg.exitGroup(ExitStatus{Signal: sig})
			return
		}
		if act.ignored(sig) {
			continue
		}
		d := defaultActionOf(sig)
		if act.Handler != SIG_DFL {
			t.k.warnOnce("signal handlers are not supported yet; the signal gets its default action",
				"signal", sig.String())
		}
		switch d {
		case actTerminate, actCore:
			t.tg.exitGroup(ExitStatus{Signal: sig})
			return
		}
	}
}
