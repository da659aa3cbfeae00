package ptrace

import (
	"errors"

	"golang.org/x/sys/unix"

	"moat/platform/arch"
)

// The arm64 port is not written yet: the constants below let the portable
// code compile, and New refuses to start.

const (
	stubBase         = 0x7ff000000000
	maxUserAddress   = 0x1000000000000
	elfMachine       = 183 // EM_AARCH64
	auditArch        = unix.AUDIT_ARCH_AARCH64
	injectOffset     = 0
	injectTrapOffset = 4
	entryOffset      = 8
	supported        = false
)

var stubCode = []byte{}

// errUnsupported is what New returns on arm64.
var errUnsupported = errors.New("ptrace platform: arm64 is not supported yet")

func prepareInjection(r *arch.Registers, nr uintptr, args *[6]uintptr) {}

func injectionDone(r *arch.Registers) bool { return false }

func injectionResult(r *arch.Registers) uintptr { return 0 }

func fillSegments(regs, initial *arch.Registers) {}

func getRegs(tid int, r *arch.Registers) error { return errUnsupported }

func setRegs(tid int, r *arch.Registers) error { return errUnsupported }

// Stub system call numbers (arm64 has no fork; clone serves on both).
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

// arm64 has no vsyscall page.
func vsyscallTrap() []unix.SockFilter { return nil }

func isVsyscall(addr uint64) bool { return false }

func vsyscallRegs(r *arch.Registers, nr int32) {}

func clearSyscallNo(r *arch.Registers) {}

// arm64 has no int 0x80.
func hostIA32() bool { return false }

const (
	auditArchI386 = 0
	siKernel      = 0x80
)

func int80Fault(r *arch.Registers) {}

func maybeI386(r *arch.Registers) bool { return false }
