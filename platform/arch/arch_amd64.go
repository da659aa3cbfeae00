package arch

import "golang.org/x/sys/unix"

// Name is the architecture's name as the kernel spells it (uname -m).
const Name = "x86_64"

// Registers is the general-purpose register set of an application thread,
// in the kernel's struct user_regs_struct layout (so ptrace can fill it
// directly).
type Registers struct {
	unix.PtraceRegs
}

// SyscallNo returns the number of the system call the thread made.
func (r *Registers) SyscallNo() uintptr { return uintptr(r.Orig_rax) }

// SyscallArgs returns the system call's arguments.
func (r *Registers) SyscallArgs() SyscallArguments {
	return SyscallArguments{
		uintptr(r.Rdi), uintptr(r.Rsi), uintptr(r.Rdx),
		uintptr(r.R10), uintptr(r.R8), uintptr(r.R9),
	}
}

// SetReturn stores a system call's result (a value, or -errno).
func (r *Registers) SetReturn(v uintptr) { r.Rax = uint64(v) }

// Return returns the result register.
func (r *Registers) Return() uintptr { return uintptr(r.Rax) }

// IP returns the instruction pointer.
func (r *Registers) IP() uintptr { return uintptr(r.Rip) }

// SetIP sets the instruction pointer.
func (r *Registers) SetIP(v uintptr) { r.Rip = uint64(v) }

// SP returns the stack pointer.
func (r *Registers) SP() uintptr { return uintptr(r.Rsp) }

// SetSP sets the stack pointer.
func (r *Registers) SetSP(v uintptr) { r.Rsp = uint64(v) }

// TLS returns the thread pointer (FS base).
func (r *Registers) TLS() uintptr { return uintptr(r.Fs_base) }

// SetTLS sets the thread pointer (FS base).
func (r *Registers) SetTLS(v uintptr) { r.Fs_base = uint64(v) }

// RestartSyscall rewinds the thread so that it executes the same system
// call again when resumed (the syscall instruction is two bytes long).
func (r *Registers) RestartSyscall() {
	r.Rip -= 2
	r.Rax = r.Orig_rax
}

// StartThread clears the registers for a freshly exec'd program: entry is
// the first instruction and sp the initial stack pointer. Segment
// registers are kept, since the host chose them.
func (r *Registers) StartThread(entry, sp uintptr) {
	cs, ss, ds, es, fs, gs := r.Cs, r.Ss, r.Ds, r.Es, r.Fs, r.Gs
	r.PtraceRegs = unix.PtraceRegs{}
	r.Cs, r.Ss, r.Ds, r.Es, r.Fs, r.Gs = cs, ss, ds, es, fs, gs
	r.Rip = uint64(entry)
	r.Rsp = uint64(sp)
	r.Eflags = 0x202 // IF, and the reserved bit 1
}
