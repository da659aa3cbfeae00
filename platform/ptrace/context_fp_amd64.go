//go:build amd64

package ptrace

import (
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"moat/platform"
)

// Register sets for PTRACE_GETREGSET (linux/elf.h).
const (
	ntPRFPREG   = 2     // struct user_fpregs_struct: the FXSAVE image
	ntX86XState = 0x202 // the XSAVE area
	// fxsaveSize is the size of the legacy FXSAVE image.
	fxsaveSize = 512
	// maxXStateSize bounds the XSAVE area (AMX makes it about 11 KiB).
	maxXStateSize = 16 << 10
)

var _ platform.FPContext = (*Context)(nil)

// xstate records what the host supports, probed once: the XSAVE area's
// size, or fxsaveSize when NT_X86_XSTATE is unavailable.
var xstate struct {
	once sync.Once
	size int
	note uintptr
}

// regset issues PTRACE_GETREGSET or PTRACE_SETREGSET on tid with b and
// returns the length the kernel used.
func regset(req int, tid int, note uintptr, b []byte) (int, error) {
	iov := unix.Iovec{Base: &b[0]}
	iov.SetLen(len(b))
	if err := ptracePtr(req, tid, note, unsafe.Pointer(&iov)); err != nil {
		return 0, err
	}
	return int(iov.Len), nil
}

// probe fills xstate from c's thread.
func (c *Context) probe() {
	xstate.once.Do(func() {
		buf := make([]byte, maxXStateSize)
		if n, err := regset(unix.PTRACE_GETREGSET, c.tid, ntX86XState, buf); err == nil && n >= fxsaveSize {
			xstate.size, xstate.note = n, ntX86XState
			return
		}
		xstate.size, xstate.note = fxsaveSize, ntPRFPREG
	})
}

// FPStateSize implements platform.FPContext.
func (c *Context) FPStateSize() int {
	c.probe()
	return xstate.size
}

// FPState implements platform.FPContext.
func (c *Context) FPState(dst []byte) (int, error) {
	c.probe()
	if len(dst) < xstate.size {
		return 0, unix.EINVAL
	}
	n, err := regset(unix.PTRACE_GETREGSET, c.tid, xstate.note, dst[:xstate.size])
	if err != nil {
		return 0, c.fail("get FP state", err)
	}
	return n, nil
}

// SetFPState implements platform.FPContext. The host kernel validates the
// image (reserved MXCSR bits, the XSAVE header) and refuses a bad one.
func (c *Context) SetFPState(src []byte) error {
	c.probe()
	if len(src) < fxsaveSize {
		return unix.EINVAL
	}
	if len(src) > xstate.size {
		src = src[:xstate.size]
	}
	if _, err := regset(unix.PTRACE_SETREGSET, c.tid, xstate.note, src); err != nil {
		return c.fail("set FP state", err)
	}
	return nil
}
