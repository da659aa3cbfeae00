package kernel

import (
	"errors"

	"golang.org/x/sys/unix"

	"moat/sentry/vfs"
)

// Restart codes a handler returns (as unix.Errno) when a signal interrupts
// a blocking call; they never reach the application. Signal delivery
// turns them into EINTR or a restart of the call (linux/errno.h).
const (
	// ERESTARTSYS: restart unless a handler without SA_RESTART runs.
	ERESTARTSYS = unix.Errno(512)
	// ERESTARTNOINTR: always restart.
	ERESTARTNOINTR = unix.Errno(513)
	// ERESTARTNOHAND: restart unless a handler runs.
	ERESTARTNOHAND = unix.Errno(514)
	// ERESTART_RESTARTBLOCK: as ERESTARTNOHAND, but the restart runs
	// restart_syscall with the task's RestartBlock (restart.go).
	ERESTART_RESTARTBLOCK = unix.Errno(516)
)

// errFrameUnsupported is returned by setupSignalFrame on architectures
// without signal frames yet.
var errFrameUnsupported = errors.New("signal frames are not supported on this architecture yet")

// SendSignal queues sig for this thread (tkill/tgkill) from sender (nil:
// the sandbox) and wakes it. An ignored, unblocked signal is discarded.
// sig 0 only checks existence.
func (t *Task) SendSignal(sig unix.Signal, sender *Task) {
	if sig == 0 || !ValidSignal(sig) {
		return
	}
	t.sendSignalInfo(userSigInfo(sig, SI_TKILL, sender))
}

// sendSignalInfo queues info for this thread (tkill, tgkill,
// rt_tgsigqueueinfo) and wakes it.
func (t *Task) sendSignalInfo(info SigInfo) {
	sig := unix.Signal(info.Signo)
	if sig == unix.SIGKILL {
		t.tg.mu.Lock()
		ignored := t.tg.initIgnoresLocked(sig, &info)
		t.tg.mu.Unlock()
		if !ignored {
			t.tg.exitGroup(ExitStatus{Signal: sig})
		}
		return
	}
	tg := t.tg
	tg.mu.Lock()
	if tg.exiting && tg.execer == nil {
		tg.mu.Unlock()
		return
	}
	note := tg.prepareSignalLocked(sig)
	act := tg.actions[sig-1]
	t.sigMu.Lock()
	blocked := t.mask&SigBit(sig) != 0
	if !blocked && tg.initIgnoresLocked(sig, &info) {
		// (A blocked one stays pending for sigtimedwait or a signalfd.)
		t.sigMu.Unlock()
		tg.mu.Unlock()
		tg.notifyParentJobControl(note)
		return
	}
	if (!act.ignored(sig) || blocked) && t.pending&SigBit(sig) == 0 {
		t.pending |= SigBit(sig)
		t.pendingInfo[sig-1] = info
	}
	t.sigMu.Unlock()
	tg.mu.Unlock()
	tg.notifyParentJobControl(note)
	tg.sigQueue.Notify(vfs.EventIn | vfs.EventRdNorm)
	t.kick()
}

// forceSignal delivers a synchronous signal the application's own
// instruction raised (a fault): like the kernel's force_sig, a blocked or
// ignored signal is reset to its default action first, since returning to
// the faulting instruction would only fault again.
func (t *Task) forceSignal(info SigInfo) {
	sig := unix.Signal(info.Signo)
	if !ValidSignal(sig) {
		sig = unix.SIGSEGV
		info = SigInfo{Signo: int32(sig), Code: SI_KERNEL}
	}
	tg := t.tg
	tg.mu.Lock()
	act := &tg.actions[sig-1]
	t.sigMu.Lock()
	if t.mask&SigBit(sig) != 0 || act.Handler == SIG_IGN {
		*act = SigAction{}
		t.mask &^= SigBit(sig)
	}
	info.forced = true
	t.pending |= SigBit(sig)
	t.pendingInfo[sig-1] = info
	t.sigMu.Unlock()
	tg.mu.Unlock()
}

// forceSigsegv is the kernel's force_sigsegv: a signal frame could not be
// built or undone. If that signal was SIGSEGV itself, its handler is
// dropped so the next SIGSEGV kills.
func (t *Task) forceSigsegv(sig unix.Signal) {
	if sig == unix.SIGSEGV {
		t.tg.mu.Lock()
		t.tg.actions[unix.SIGSEGV-1] = SigAction{}
		t.tg.mu.Unlock()
	}
	t.forceSignal(SigInfo{Signo: int32(unix.SIGSEGV), Code: SI_KERNEL})
}

// takeForHandler dequeues a deliverable signal like takeSignal and, for
// a caught one, applies SA_RESETHAND atomically with the take.
func (t *Task) takeForHandler() (SigInfo, SigAction) {
	info, act := t.tg.takeSignal(t)
	if info.Signo == 0 || act.Handler == SIG_DFL || act.Handler == SIG_IGN || act.Flags&SA_RESETHAND == 0 {
		return info, act
	}
	tg := t.tg
	tg.mu.Lock()
	a := &tg.actions[info.Signo-1]
	if a.Handler == act.Handler {
		a.Handler = SIG_DFL
	}
	tg.mu.Unlock()
	return info, act
}

// deliverSignals takes every deliverable pending signal and acts on it:
// discard if ignored, end the process for a fatal default, and push a
// signal frame for a handler. A system call that a signal interrupted is
// restarted or fails with EINTR here, per its restart code and the
// handler's SA_RESTART.
func (t *Task) deliverSignals() {
	restartable := t.sysReturn
	t.sysReturn = false
	for {
		// A group stop parks the thread before it takes anything else.
		t.doGroupStop()
		info, act := t.takeForHandler()
		if info.Signo == 0 {
			break
		}
		sig := unix.Signal(info.Signo)
		if sig == unix.SIGKILL {
			t.tg.exitGroup(ExitStatus{Signal: sig})
			return
		}
		if act.ignored(sig) {
			continue
		}
		if act.Handler == SIG_DFL && !info.forced && t.tg.initIgnores(sig, &info) {
			// Queued while blocked; init still ignores its default.
			// A fault is forced, as Linux's force_sig clears
			// SIGNAL_UNKILLABLE: going back to the faulting
			// instruction would only fault again, for ever.
			continue
		}
		if act.Handler == SIG_DFL {
			switch defaultActionOf(sig) {
			case actTerminate, actCore:
				t.tg.exitGroup(ExitStatus{Signal: sig})
				return
			case actStop:
				// Terminal stops are discarded in an orphaned process
				// group (nobody could continue it), SIGSTOP never.
				if sig != unix.SIGSTOP && t.currentPgrpOrphaned() {
					continue
				}
				t.startGroupStop(sig)
			}
			continue
		}
		if restartable {
			t.restartOrEINTR(&act)
			restartable = false
		}
		oldMask := t.SignalMask()
		if t.haveSavedMask {
			// sigsuspend's temporary mask gives way to the saved one,
			// which the frame restores when the handler returns.
			oldMask, t.haveSavedMask = t.savedMask, false
		}
		err := t.setupSignalFrame(&info, &act, oldMask)
		if err == errFrameUnsupported {
			t.k.warnOnce("signal handlers are not supported on this architecture; the signal gets its default action",
				"signal", sig.String())
			if d := defaultActionOf(sig); d == actTerminate || d == actCore {
				t.tg.exitGroup(ExitStatus{Signal: sig})
				return
			}
			continue
		}
		if err != nil {
			t.k.log.Debug("signal frame could not be written", "pid", t.tg.pid, "tid", t.tid, "signal", sig.String(), "err", err)
			t.forceSigsegv(sig)
			continue
		}
		// The handler runs with sa_mask, and its own signal unless
		// SA_NODEFER, blocked on top of the old mask.
		block := act.Mask
		if act.Flags&SA_NODEFER == 0 {
			block |= SigBit(sig)
		}
		t.sigMu.Lock()
		t.mask = (oldMask | block) &^ unblockable
		t.sigMu.Unlock()
	}
	if restartable {
		t.restartOrEINTR(nil)
	}
	if t.haveSavedMask && !t.tg.hasDeliverable(t) {
		// No handler ran: sigsuspend restarts (or was not interrupted)
		// and the caller's mask comes back.
		t.haveSavedMask = false
		t.sigMu.Lock()
		t.mask = t.savedMask
		t.sigMu.Unlock()
	}
}

// SigSuspend implements rt_sigsuspend(2): it installs mask until a signal
// is delivered, then returns ERESTARTNOHAND, which becomes EINTR when a
// handler runs (the handler's frame restores the old mask).
func (t *Task) SigSuspend(mask SigSet) error {
	t.sigMu.Lock()
	t.savedMask, t.haveSavedMask = t.mask, true
	t.mask = mask &^ unblockable
	t.sigMu.Unlock()
	for !t.interrupted() {
		<-t.wake
	}
	return ERESTARTNOHAND
}

// Pause implements pause(2): sleep until a signal is delivered.
func (t *Task) Pause() error {
	for !t.interrupted() {
		<-t.wake
	}
	return ERESTARTNOHAND
}

// PendingSignals implements rt_sigpending(2): the pending signals the
// thread blocks.
func (t *Task) PendingSignals() SigSet {
	tg := t.tg
	tg.mu.Lock()
	defer tg.mu.Unlock()
	t.sigMu.Lock()
	defer t.sigMu.Unlock()
	return (t.pending | tg.pending) & t.mask
}

// restartOrEINTR resolves a restart code left in the result register by
// an interrupted call: act is the handler about to run, or nil when none
// runs (the signal was ignored or took its non-fatal default).
func (t *Task) restartOrEINTR(act *SigAction) {
	ret := int64(t.regs.Return())
	if ret >= 0 || ret < -4095 {
		return
	}
	switch unix.Errno(-ret) {
	case ERESTART_RESTARTBLOCK:
		if act != nil {
			t.restart = nil
			t.regs.SetReturn(negErrno(unix.EINTR))
			return
		}
		t.rewindToRestartSyscall()
		return
	case ERESTARTNOHAND:
		if act != nil {
			t.regs.SetReturn(negErrno(unix.EINTR))
			return
		}
	case ERESTARTSYS:
		if act != nil && act.Flags&SA_RESTART == 0 {
			t.regs.SetReturn(negErrno(unix.EINTR))
			return
		}
	case ERESTARTNOINTR:
	default:
		return
	}
	t.regs.RestartSyscall()
}

// SetAltStackChecked implements sigaltstack(2)'s change of the stack:
// EPERM while running on it, ENOMEM below minSize, EINVAL for bad flags.
func (t *Task) SetAltStackChecked(ns SignalStack, minSize uint64) error {
	if t.OnAltStack() {
		return unix.EPERM
	}
	mode := uint32(ns.Flags) &^ SS_AUTODISARM
	if mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK {
		return unix.EINVAL
	}
	if mode == SS_DISABLE {
		t.altStack = SignalStack{}
		return nil
	}
	if ns.Size < minSize {
		return unix.ENOMEM
	}
	ns.Flags &^= SS_ONSTACK
	t.altStack = ns
	return nil
}

// sigaltstack flags (stack_t.ss_flags).
const (
	SS_ONSTACK    = 1
	SS_DISABLE    = 2
	SS_AUTODISARM = 1 << 31
)

// altStackFlags returns ss_flags as sigaltstack and uc_stack report them
// for a stack pointer sp.
func (t *Task) altStackFlags(sp uint64) int32 {
	s := t.altStack
	if s.Size == 0 {
		return SS_DISABLE
	}
	if t.onAltStackAt(sp) {
		return SS_ONSTACK | s.Flags
	}
	return s.Flags
}

// onAltStackAt reports whether sp lies on the alternate signal stack.
func (t *Task) onAltStackAt(sp uint64) bool {
	s := t.altStack
	return s.Size != 0 && sp > s.Addr && sp-s.Addr <= s.Size
}

// negErrno is -errno as a result register holds it.
func negErrno(e unix.Errno) uintptr { return uintptr(-int64(e)) }
