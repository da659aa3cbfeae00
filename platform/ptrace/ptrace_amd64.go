package ptrace

import (
	"os"

	"golang.org/x/sys/unix"

	"moat/platform/arch"
)

const (
	// stubBase is where the stub's code page is mapped in every stub. It
	// lies below where the kernel may put the randomised stack (at most
	// 16 GiB under the top of the 47-bit address space) and above anything
	// the sentry hands out to applications, which allocate top-down from
	// well below it.
	stubBase = 0x7ff000000000

	// maxUserAddress is one past the highest user address with 4-level
	// paging (TASK_SIZE_MAX).
	maxUserAddress = 0x7ffffffff000

	// elfMachine is EM_X86_64.
	elfMachine = 62

	// auditArch is what seccomp_data.arch holds for native calls.
	auditArch = unix.AUDIT_ARCH_X86_64
)

// stubCode is the machine code placed at stubBase+codeOffset:
//
//	inject: syscall ; int3        (injected calls run here and trap back)
//	entry:  int3 ; jmp entry      (the stub never runs on its own)
var stubCode = []byte{
	0x0f, 0x05, // syscall
	0xcc,                         // int3
	0x90, 0x90, 0x90, 0x90, 0x90, // pad entry to +8
	0xcc,       // entry: int3
	0xeb, 0xfd, // jmp entry
}

const (
	// injectOffset is the offset of "syscall; int3" within stubCode.
	injectOffset = 0
	// injectTrapOffset is where the instruction pointer stands after the
	// int3 that ends an injected call has trapped.
	injectTrapOffset = 3
	// entryOffset is the ELF entry point within stubCode.
	entryOffset = 8
)

// supported reports whether this architecture's ptrace platform works.
const supported = true

// prepareInjection turns r (a copy of the stub's saved registers) into
// registers that execute system call nr with args at the injection point.
func prepareInjection(r *arch.Registers, nr uintptr, args *[6]uintptr) {
	r.Rax = uint64(nr)
	// orig_rax = -1 keeps the kernel from treating the stop the stub sits
	// in as an interrupted system call to restart.
	r.Orig_rax = ^uint64(0)
	r.Rdi = uint64(args[0])
	r.Rsi = uint64(args[1])
	r.Rdx = uint64(args[2])
	r.R10 = uint64(args[3])
	r.R8 = uint64(args[4])
	r.R9 = uint64(args[5])
	r.Rip = uint64(stubBase + codeOffset + injectOffset)
}

// injectionDone reports whether r is the stop after an injected call's int3.
func injectionDone(r *arch.Registers) bool {
	return r.Rip == stubBase+codeOffset+injectTrapOffset
}

// injectionResult returns an injected call's raw result.
func injectionResult(r *arch.Registers) uintptr { return uintptr(r.Rax) }

// fillSegments gives regs the host's segment selectors when the caller left
// them zero (a register set built from scratch): the kernel refuses a null
// CS or SS, and the application must not choose them anyway.
func fillSegments(regs, initial *arch.Registers) {
	if regs.Cs != 0 && regs.Ss != 0 {
		return
	}
	regs.Cs, regs.Ss = initial.Cs, initial.Ss
	regs.Ds, regs.Es, regs.Fs, regs.Gs = initial.Ds, initial.Es, initial.Fs, initial.Gs
}

// Stub system call numbers.
const (
	sysMmap       = unix.SYS_MMAP
	sysMunmap     = unix.SYS_MUNMAP
	sysMprotect   = unix.SYS_MPROTECT
	sysClone      = unix.SYS_CLONE
	sysRecvmsg    = unix.SYS_RECVMSG
	sysClose      = unix.SYS_CLOSE
	sysCloseRange = unix.SYS_CLOSE_RANGE
	sysSigaction  = unix.SYS_RT_SIGACTION
	sysCapset     = unix.SYS_CAPSET
	sysPrctl      = unix.SYS_PRCTL
	sysSeccomp    = unix.SYS_SECCOMP
	sysGetpid     = unix.SYS_GETPID
)

// errUnsupported is never returned on amd64.
var errUnsupported error

// The legacy vsyscall page (x86-64): old binaries call gettimeofday, time
// and getcpu at fixed addresses in it. The host kernel emulates such a
// call when the page faults (vsyscall=xonly) and runs the caller's seccomp
// filters on it, which for a stub means the stub's filter would see a host
// system call and kill the process. The stub filter instead answers
// SECCOMP_RET_TRAP for any call whose instruction pointer is in the page:
// the kernel then emulates the ret to the caller (the return address is
// popped), raises SIGSYS (si_code SYS_SECCOMP, si_syscall the number) and
// runs nothing; Switch turns that stop into an ordinary system-call trap,
// so the sentry answers it like the same call made with syscall (the C
// ABI's first three argument registers are the system call's). With
// vsyscall=none the page does not exist and the call faults, natively and
// here alike.
const (
	vsyscallPage = 0xffffffffff600000
	vsyscallMask = 0xfffff000
)

// vsyscallTrap is the stub filter's prefix that traps vsyscall-page calls.
func vsyscallTrap() []unix.SockFilter {
	return []unix.SockFilter{
		{Code: bpfLdWAbs, K: seccompDataIPHigh},
		{Code: bpfJeqK, Jt: 0, Jf: 4, K: vsyscallPage >> 32},
		{Code: bpfLdWAbs, K: seccompDataIPLow},
		{Code: unix.BPF_ALU | unix.BPF_AND | unix.BPF_K, K: vsyscallMask},
		{Code: bpfJeqK, Jt: 0, Jf: 1, K: vsyscallPage & 0xffffffff},
		{Code: bpfRetK, K: unix.SECCOMP_RET_TRAP},
	}
}

// isVsyscall reports whether addr, a seccomp SIGSYS's si_call_addr, is in
// the vsyscall page.
func isVsyscall(addr uint64) bool { return addr&^0xfff == vsyscallPage }

// vsyscallRegs makes r, stopped after a trapped vsyscall, look like a
// system-call trap for call nr: the kernel has already emulated the
// return, and left orig_rax at -1.
func vsyscallRegs(r *arch.Registers, nr int32) { r.Orig_rax = uint64(nr) }

// clearSyscallNo sets orig_rax to -1 before the thread resumes from the
// signal stop a vsyscall trap was, so the kernel does not take the result
// in rax for an interrupted system call to restart.
func clearSyscallNo(r *arch.Registers) { r.Orig_rax = ^uint64(0) }

// int 0x80 from 64-bit code: on a host with IA32 emulation it enters the
// i386 system-call table, and under PTRACE_SYSEMU it stops like any
// system call, with the i386 number in orig_rax and its arguments in
// rbx, rcx, rdx... The sandbox has no i386 table. It behaves as a kernel
// without CONFIG_IA32_EMULATION (or booted with ia32_emulation=0) does,
// where vector 0x80 has no gate: the instruction raises #GP and the
// thread gets SIGSEGV (si_code SI_KERNEL, si_addr 0) with the
// instruction pointer on the int. That is also what happens by itself
// when the host lacks IA32 emulation (the stub faults), so moat answers
// the same whatever the host.

// hostIA32 reports whether the host kernel has IA32 emulation built in
// (/proc/sys/abi/vsyscall32 exists only then). It may still be disabled
// at boot; the check per system call is then wasted but harmless.
func hostIA32() bool {
	_, err := os.Stat("/proc/sys/abi/vsyscall32")
	return err == nil
}

// maybeI386 reports whether the system-call stop in r may come from an
// int 0x80 rather than the syscall instruction, which is worth a
// PTRACE_GET_SYSCALL_INFO to tell. The syscall instruction always
// leaves rcx = the next instruction (the stop's rip) and r11 = rflags
// (saved as the stop's eflags); int 0x80 leaves both as the program had
// them. So a mismatch means int 0x80, and a match is a syscall unless a
// program set rcx and r11 to exactly those values before an int 0x80;
// such a call then runs as the 64-bit call its registers spell, which it
// could have made with syscall anyway (the application's seccomp filters
// see that 64-bit call). This keeps the extra host call off the hot path.
func maybeI386(r *arch.Registers) bool { return r.Rcx != r.Rip || r.R11 != r.Eflags }

// auditArchI386 is AUDIT_ARCH_I386.
const auditArchI386 = unix.AUDIT_ARCH_I386

// int80Len is the length of the int 0x80 instruction (cd 80).
const int80Len = 2

// siKernel is SI_KERNEL, the si_code of a #GP's SIGSEGV.
const siKernel = 0x80

// int80Fault turns r, stopped at an i386 system call, into the state of
// the #GP the int instruction raises on a kernel without IA32 emulation:
// the instruction pointer back on the instruction, rax as it was, and no
// system call for the kernel to restart.
func int80Fault(r *arch.Registers) {
	r.Rip -= int80Len
	r.Rax = r.Orig_rax
	r.Orig_rax = ^uint64(0)
}
