package ptrace

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The raw calls below exist so that the trap hot path allocates nothing and
// takes no scheduler detour: ptrace requests that do not block use
// RawSyscall6; wait4, which blocks, uses Syscall6 so the Go scheduler can run
// other goroutines on other threads meanwhile.

// ptrace issues one ptrace request. data is passed as is (a signal number or
// an address).
func ptrace(req int, pid int, addr, data uintptr) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, uintptr(req), uintptr(pid), addr, data, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// ptracePtr is ptrace with a pointer argument (registers, siginfo, event
// message).
func ptracePtr(req int, pid int, addr uintptr, data unsafe.Pointer) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, uintptr(req), uintptr(pid), addr, uintptr(data), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// getEventMsg returns PTRACE_GETEVENTMSG for pid (the new child's pid after
// a fork or clone event stop, in the tracer's PID namespace).
func getEventMsg(pid int, msg *uint64) error {
	return ptracePtr(unix.PTRACE_GETEVENTMSG, pid, 0, unsafe.Pointer(msg))
}

// syscallInfoSize is how much of struct ptrace_syscall_info
// getSyscallArch asks for: op, padding, arch.
const syscallInfoSize = 8

// getSyscallArch returns the AUDIT_ARCH_* of the system call pid is
// stopped at (PTRACE_GET_SYSCALL_INFO's arch): AUDIT_ARCH_I386 for an
// int 0x80 from 64-bit code on a host with IA32 emulation.
func getSyscallArch(pid int) (uint32, error) {
	var info [syscallInfoSize]byte
	if err := ptracePtr(unix.PTRACE_GET_SYSCALL_INFO, pid, syscallInfoSize, unsafe.Pointer(&info)); err != nil {
		return 0, err
	}
	return uint32(info[4]) | uint32(info[5])<<8 | uint32(info[6])<<16 | uint32(info[7])<<24, nil
}

// getSiginfo reads the siginfo of the signal pid is stopped for.
func getSiginfo(pid int, si *[siginfoSize]byte) error {
	return ptracePtr(unix.PTRACE_GETSIGINFO, pid, 0, unsafe.Pointer(si))
}

// wait4 waits for pid with __WALL (stub threads are not children that send
// SIGCHLD to the sentry) and stores the status in ws. EINTR is retried.
func wait4(pid int, ws *unix.WaitStatus, options int) (int, error) {
	for {
		r, _, e := unix.Syscall6(unix.SYS_WAIT4, uintptr(pid), uintptr(unsafe.Pointer(ws)), uintptr(options|unix.WALL), 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(r), nil
	}
}

// processVM copies between local and remote memory of pid with one iovec
// each side: process_vm_readv when write is false, process_vm_writev when
// true.
func processVM(pid int, local []byte, remote uintptr, write bool) (int, error) {
	if len(local) == 0 {
		return 0, nil
	}
	liov := unix.Iovec{Base: &local[0], Len: uint64(len(local))}
	riov := unix.RemoteIovec{Base: remote, Len: len(local)}
	nr := uintptr(unix.SYS_PROCESS_VM_READV)
	if write {
		nr = unix.SYS_PROCESS_VM_WRITEV
	}
	r, _, e := unix.Syscall6(nr, uintptr(pid), uintptr(unsafe.Pointer(&liov)), 1, uintptr(unsafe.Pointer(&riov)), 1, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// bytesOf views a plain-data value as bytes (for writing kernel structs
// into a stub's scratch page).
func bytesOf[T any](v *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v))
}
