// Package arch holds the per-architecture facts the platform and the sentry
// share: the register set of an application thread and where system-call
// numbers, arguments and results live in it.
package arch

// SyscallArguments are the six argument registers of a system call.
type SyscallArguments [6]uintptr

// Int returns argument i as a signed 32-bit value, the way the kernel reads
// int arguments (the upper half of the register is ignored).
func (a *SyscallArguments) Int(i int) int32 { return int32(a[i]) }

// Uint returns argument i as an unsigned 32-bit value.
func (a *SyscallArguments) Uint(i int) uint32 { return uint32(a[i]) }
