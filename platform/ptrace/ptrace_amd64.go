package ptrace

import (
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
