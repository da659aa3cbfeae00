//go:build amd64

package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"

	"moat/platform"

	"golang.org/x/sys/unix"
)

// The x86-64 rt_sigframe (arch/x86/include/asm/sigframe.h):
//
//	pretcode  u64          return address: sa_restorer
//	uc        ucontext     uc_flags, uc_link, uc_stack, uc_mcontext, uc_sigmask
//	info      siginfo_t
//
// followed, 64-byte aligned and below it in memory, by the FP state that
// uc_mcontext.fpstate points to.
const (
	frameUCOff      = 8
	ucStackOff      = 16 // within ucontext
	ucMcontextOff   = 40
	ucSigmaskOff    = 296
	ucontextSize    = 304
	frameInfoOff    = frameUCOff + ucontextSize
	frameSize       = frameInfoOff + SigInfoSize
	sigcontextSize  = 256
	redZone         = 128
	fpAlign         = 64
	fxsaveSize      = 512
	fpSWBytesOff    = 464 // struct _fpx_sw_bytes in the FXSAVE image
	fpXStateMagic1  = 0x46505853
	fpXStateMagic2  = 0x46505845
	fpXStateMagic2S = 4

	// uc_flags bits (asm/ucontext.h).
	ucFPXState         = 0x1
	ucSigcontextSS     = 0x2
	ucStrictRestoreSS  = 0x4
	eflagsTF           = 0x100
	eflagsDF           = 0x400
	eflagsRF           = 0x10000
	trapPageFault      = 14
	faultErrorUserMode = 4

	// userEflags are the flags sigreturn may take from the frame
	// (FIX_EFLAGS): AC, OF, DF, TF, SF, ZF, AF, PF, CF and RF.
	userEflags = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000
)

// errNoRestorer: x86-64 needs SA_RESTORER (the kernel has no vDSO
// trampoline for 64-bit handlers) and fails the frame otherwise.
var errNoRestorer = errors.New("handler without SA_RESTORER")

// sigcontext register order (struct sigcontext_64).
func sigcontextRegs(t *Task) [18]*uint64 {
	r := &t.regs
	return [18]*uint64{
		&r.R8, &r.R9, &r.R10, &r.R11, &r.R12, &r.R13, &r.R14, &r.R15,
		&r.Rdi, &r.Rsi, &r.Rbp, &r.Rbx, &r.Rdx, &r.Rax, &r.Rcx, &r.Rsp,
		&r.Rip, &r.Eflags,
	}
}

// fpContext returns the task's platform context's FP accessors, or nil.
func (t *Task) fpContext() platform.FPContext {
	fp, _ := t.ctx.(platform.FPContext)
	return fp
}

// setupSignalFrame pushes an rt_sigframe for info on the application
// stack (or the alternate stack with SA_ONSTACK) and points the registers
// at the handler, as the kernel's x64_setup_rt_frame does.
func (t *Task) setupSignalFrame(info *SigInfo, act *SigAction, oldMask SigSet) error {
	if act.Flags&SA_RESTORER == 0 {
		return errNoRestorer
	}
	le := binary.LittleEndian
	sp := t.regs.Rsp - redZone
	if act.Flags&SA_ONSTACK != 0 && t.altStack.Size != 0 && !t.onAltStackAt(sp) {
		sp = t.altStack.Addr + t.altStack.Size
	}

	// The FP state, with the software-reserved bytes the kernel fills in
	// so a handler (and sigreturn) can tell an XSAVE image from FXSAVE.
	var fp []byte
	stateSize := 0
	if fpc := t.fpContext(); fpc != nil {
		size := fpc.FPStateSize()
		if cap(t.fpBuf) < size+fpXStateMagic2S {
			t.fpBuf = make([]byte, size+fpXStateMagic2S)
		}
		buf := t.fpBuf[:size+fpXStateMagic2S]
		n, err := fpc.FPState(buf)
		if err != nil {
			return fmt.Errorf("read FP state: %w", err)
		}
		stateSize = n
		if n > fxsaveSize {
			sw := buf[fpSWBytesOff:]
			clear(sw[:fxsaveSize-fpSWBytesOff])
			le.PutUint32(sw[0:], fpXStateMagic1)
			le.PutUint32(sw[4:], uint32(n+fpXStateMagic2S))   // extended_size
			le.PutUint64(sw[8:], le.Uint64(buf[fxsaveSize:])) // xfeatures: XSTATE_BV
			le.PutUint32(sw[16:], uint32(n))                  // xstate_size
			le.PutUint32(buf[n:], fpXStateMagic2)
			fp = buf[:n+fpXStateMagic2S]
		} else {
			fp = buf[:n]
		}
	}
	fpAddr := uint64(0)
	if len(fp) > 0 {
		sp = (sp - uint64(len(fp))) &^ (fpAlign - 1)
		fpAddr = sp
	}
	sp -= frameSize
	// (sp + 8) is 16-byte aligned at handler entry, as after a call.
	sp = (sp &^ 15) - 8

	var f [frameSize]byte
	le.PutUint64(f[0:], act.Restorer)
	uc := f[frameUCOff:]
	flags := uint64(ucSigcontextSS | ucStrictRestoreSS)
	if len(fp) > fxsaveSize {
		flags |= ucFPXState
	}
	le.PutUint64(uc[0:], flags)
	le.PutUint64(uc[ucStackOff:], t.altStack.Addr)
	le.PutUint32(uc[ucStackOff+8:], uint32(t.altStackFlags(t.regs.Rsp)))
	le.PutUint64(uc[ucStackOff+16:], t.altStack.Size)
	mc := uc[ucMcontextOff:]
	for i, p := range sigcontextRegs(t) {
		le.PutUint64(mc[i*8:], *p)
	}
	le.PutUint16(mc[144:], uint16(t.regs.Cs))
	le.PutUint16(mc[146:], uint16(t.regs.Gs))
	le.PutUint16(mc[148:], uint16(t.regs.Fs))
	le.PutUint16(mc[150:], uint16(t.regs.Ss))
	if info.Code > 0 && (info.Signo == int32(unix.SIGSEGV) || info.Signo == int32(unix.SIGBUS)) {
		le.PutUint64(mc[152:], faultErrorUserMode)
		le.PutUint64(mc[160:], trapPageFault)
		le.PutUint64(mc[176:], info.Addr)
	}
	le.PutUint64(mc[168:], uint64(oldMask))
	le.PutUint64(mc[184:], fpAddr)
	le.PutUint64(uc[ucSigmaskOff:], uint64(oldMask))
	info.Encode(f[frameInfoOff:])

	if len(fp) > 0 {
		if n, err := t.mm.CopyOut(uintptr(fpAddr), fp); err != nil || n != len(fp) {
			return fmt.Errorf("write FP state at %#x: %w", fpAddr, unix.EFAULT)
		}
	}
	if n, err := t.mm.CopyOut(uintptr(sp), f[:]); err != nil || n != len(f) {
		return fmt.Errorf("write signal frame at %#x: %w", sp, unix.EFAULT)
	}
	if len(fp) > 0 {
		// The handler starts with a clean FP state (default rounding,
		// masked exceptions), as the kernel gives it.
		if err := t.fpContext().SetFPState(t.initFPState(stateSize)); err != nil {
			return fmt.Errorf("reset FP state: %w", err)
		}
	}
	if uint32(t.altStack.Flags)&SS_AUTODISARM != 0 {
		t.altStack = SignalStack{}
	}

	r := &t.regs
	r.Rdi = uint64(info.Signo)
	r.Rsi = sp + frameInfoOff
	r.Rdx = sp + frameUCOff
	r.Rax = 0
	r.Rsp = sp
	r.Rip = act.Handler
	r.Eflags &^= eflagsDF | eflagsRF | eflagsTF
	return nil
}

// SignalReturn implements rt_sigreturn(2): it restores the registers,
// the signal mask, the alternate stack and the FP state saved in the
// frame the handler's return popped. Values from application memory are
// checked: only the user-changeable flags are taken, the segment
// registers stay the user ones. A frame that cannot be read or an FP
// image the host refuses is met with SIGSEGV, as in the kernel.
func (t *Task) SignalReturn() error {
	frame := uintptr(t.regs.Rsp) - 8
	var uc [ucontextSize]byte
	if n, err := t.mm.CopyIn(frame+frameUCOff, uc[:]); err != nil || n != len(uc) {
		t.forceSigsegv(0)
		return ErrNoReturn
	}
	le := binary.LittleEndian
	mc := uc[ucMcontextOff:]
	fpAddr := le.Uint64(mc[184:])
	if err := t.restoreFPState(uintptr(fpAddr)); err != nil {
		t.k.log.Debug("rt_sigreturn: bad FP state", "pid", t.tg.pid, "tid", t.tid, "err", err)
		t.forceSigsegv(0)
		return ErrNoReturn
	}
	oldFlags := t.regs.Eflags
	for i, p := range sigcontextRegs(t) {
		*p = le.Uint64(mc[i*8:])
	}
	t.regs.Eflags = oldFlags&^userEflags | t.regs.Eflags&userEflags
	// No system call to restart after a sigreturn.
	t.regs.Orig_rax = ^uint64(0)

	mask := SigSet(le.Uint64(uc[ucSigmaskOff:])) &^ unblockable
	t.sigMu.Lock()
	t.mask = mask
	t.sigMu.Unlock()

	// restore_altstack: errors are ignored, as sigaltstack's would be.
	ss := SignalStack{
		Addr:  le.Uint64(uc[ucStackOff:]),
		Flags: int32(le.Uint32(uc[ucStackOff+8:])),
		Size:  le.Uint64(uc[ucStackOff+16:]),
	}
	ss.Flags &^= SS_ONSTACK
	_ = t.SetAltStackChecked(ss, minSigStackSize)
	return ErrNoReturn
}

// minSigStackSize is MINSIGSTKSZ on x86-64.
const minSigStackSize = 2048

// restoreFPState loads the FP state saved at addr (0: none saved, the
// state is left alone). An XSAVE image is recognised by the magic numbers
// setupSignalFrame wrote; otherwise only the FXSAVE part is taken.
func (t *Task) restoreFPState(addr uintptr) error {
	fpc := t.fpContext()
	if addr == 0 || fpc == nil {
		return nil
	}
	size := fpc.FPStateSize()
	if cap(t.fpBuf) < size+fpXStateMagic2S {
		t.fpBuf = make([]byte, size+fpXStateMagic2S)
	}
	buf := t.fpBuf[:size]
	if addr%fpAlign != 0 {
		return unix.EFAULT
	}
	if _, err := fpc.FPState(buf); err != nil {
		return err
	}
	var fx [fxsaveSize]byte
	if n, err := t.mm.CopyIn(addr, fx[:]); err != nil || n != len(fx) {
		return unix.EFAULT
	}
	le := binary.LittleEndian
	sw := fx[fpSWBytesOff:]
	xsize := int(le.Uint32(sw[16:]))
	if size > fxsaveSize && le.Uint32(sw[0:]) == fpXStateMagic1 && xsize == size &&
		int(le.Uint32(sw[4:])) == size+fpXStateMagic2S {
		var m2 [4]byte
		if n, err := t.mm.CopyIn(addr+uintptr(size), m2[:]); err == nil && n == 4 && le.Uint32(m2[:]) == fpXStateMagic2 {
			if n, err := t.mm.CopyIn(addr, buf); err != nil || n != size {
				return unix.EFAULT
			}
			// The software bytes are not part of the hardware state.
			clear(buf[fpSWBytesOff:fxsaveSize])
			return fpc.SetFPState(buf)
		}
	}
	copy(buf, fx[:])
	clear(buf[fpSWBytesOff:fxsaveSize])
	return fpc.SetFPState(buf)
}

// initFPState returns the FP image of a fresh thread, size bytes: x87
// control word 0x37f, MXCSR 0x1f80, every XSAVE component in its initial
// state (XSTATE_BV 0). It is built once per task.
func (t *Task) initFPState(size int) []byte {
	if len(t.fpInit) != size {
		b := make([]byte, size)
		binary.LittleEndian.PutUint16(b[0:], 0x37f)
		binary.LittleEndian.PutUint32(b[24:], 0x1f80)
		t.fpInit = b
	}
	return t.fpInit
}
