package arch

import "golang.org/x/sys/unix"

// Name is the architecture's name as the kernel spells it (uname -m).
const Name = "aarch64"

// Registers is the general-purpose register set of an application thread,
// in the kernel's struct user_pt_regs layout, plus the syscall number and
// thread pointer, which arm64 ptrace exposes through separate regsets.
type Registers struct {
	unix.PtraceRegs
	// Sysno is the system call number (NT_ARM_SYSTEM_CALL; x8 on entry).
	Sysno uint64
	// OrigX0 is x0 as it was at system call entry, since the result
	// overwrites x0.
	OrigX0 uint64
	// TPIDR is the thread pointer (NT_ARM_TLS).
	TPIDR uint64
}

// SyscallNo returns the number of the system call the thread made.
func (r *Registers) SyscallNo() uintptr { return uintptr(r.Sysno) }

// SyscallArgs returns the system call's arguments.
func (r *Registers) SyscallArgs() SyscallArguments {
	return SyscallArguments{
		uintptr(r.OrigX0), uintptr(r.Regs[1]), uintptr(r.Regs[2]),
		uintptr(r.Regs[3]), uintptr(r.Regs[4]), uintptr(r.Regs[5]),
	}
}

// SetReturn stores a system call's result (a value, or -errno).
func (r *Registers) SetReturn(v uintptr) { r.Regs[0] = uint64(v) }

// Return returns the result register.
func (r *Registers) Return() uintptr { return uintptr(r.Regs[0]) }

// IP returns the instruction pointer.
func (r *Registers) IP() uintptr { return uintptr(r.Pc) }

// SetIP sets the instruction pointer.
func (r *Registers) SetIP(v uintptr) { r.Pc = uint64(v) }

// SP returns the stack pointer.
func (r *Registers) SP() uintptr { return uintptr(r.Sp) }

// SetSP sets the stack pointer.
func (r *Registers) SetSP(v uintptr) { r.Sp = uint64(v) }

// TLS returns the thread pointer (TPIDR_EL0).
func (r *Registers) TLS() uintptr { return uintptr(r.TPIDR) }

// SetTLS sets the thread pointer (TPIDR_EL0).
func (r *Registers) SetTLS(v uintptr) { r.TPIDR = uint64(v) }

// RestartSyscall rewinds the thread so that it executes the same system
// call again when resumed (svc #0 is four bytes long).
func (r *Registers) RestartSyscall() {
	r.Pc -= 4
	r.Regs[0] = r.OrigX0
}

// StartThread clears the registers for a freshly exec'd program.
func (r *Registers) StartThread(entry, sp uintptr) {
	*r = Registers{}
	r.Pc = uint64(entry)
	r.Sp = uint64(sp)
}
