//go:build amd64

package ptrace

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"moat/platform/arch"
)

// getRegs reads tid's general-purpose registers (PTRACE_GETREGS fills
// struct user_regs_struct, which arch.Registers is on amd64).
func getRegs(tid int, r *arch.Registers) error {
	return ptracePtr(unix.PTRACE_GETREGS, tid, 0, unsafe.Pointer(&r.PtraceRegs))
}

// setRegs writes tid's general-purpose registers, FS and GS base included.
func setRegs(tid int, r *arch.Registers) error {
	return ptracePtr(unix.PTRACE_SETREGS, tid, 0, unsafe.Pointer(&r.PtraceRegs))
}
