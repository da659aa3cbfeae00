//go:build arm64

package kernel

// minSigStackSize is MINSIGSTKSZ on arm64.
const minSigStackSize = 5120

// setupSignalFrame is not written for arm64 yet: the caller falls back to
// the signal's default action.
func (t *Task) setupSignalFrame(info *SigInfo, act *SigAction, oldMask SigSet) error {
	return errFrameUnsupported
}

// SignalReturn implements rt_sigreturn(2); without frames on arm64 there
// is nothing to return from, so it is met with SIGSEGV as a bad frame is.
func (t *Task) SignalReturn() error {
	t.forceSigsegv(0)
	return ErrNoReturn
}
