package main

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// setDefaultAction gives sig its default action (SIG_DFL) directly with
// rt_sigaction, behind the Go runtime's back: the runtime has no way to
// say "the kernel's default" (signal.Reset restores the runtime's own
// handler).
func setDefaultAction(sig unix.Signal) {
	// struct sigaction all zero: SIG_DFL, no flags, empty mask. Four
	// words cover amd64's layout (with sa_restorer) and arm64's.
	var act [4]uint64
	unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
}
