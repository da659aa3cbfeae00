// Package platform defines how application code runs and traps: a Platform
// makes address spaces, an AddressSpace holds an application's memory, and a
// Context runs one application thread until it makes a system call, faults or
// is interrupted.
//
// The sentry decides policy (which mapping goes where); the platform carries
// out mechanism (the host calls that make it so). Implementations register
// themselves by name with Register at init time.
package platform

import (
	"fmt"
	"sort"
	"sync"

	"moat/platform/arch"
)

// TrapKind says why Context.Switch returned.
type TrapKind int

const (
	// TrapSyscall: the application executed a system call. The registers
	// hold its number and arguments; the host did not execute it.
	TrapSyscall TrapKind = iota
	// TrapFault: the application touched memory it may not (SIGSEGV or
	// SIGBUS); Trap.Addr is the faulting address.
	TrapFault
	// TrapSignal: another synchronous signal (SIGILL, SIGFPE, SIGTRAP...)
	// raised by the application's own instructions.
	TrapSignal
	// TrapInterrupted: Interrupt was called while the context ran.
	TrapInterrupted
)

// String names the trap kind for logs.
func (k TrapKind) String() string {
	switch k {
	case TrapSyscall:
		return "syscall"
	case TrapFault:
		return "fault"
	case TrapSignal:
		return "signal"
	case TrapInterrupted:
		return "interrupted"
	}
	return fmt.Sprintf("TrapKind(%d)", int(k))
}

// Trap describes one return from Context.Switch.
type Trap struct {
	Kind TrapKind
	// Signo is the host signal number for TrapFault and TrapSignal.
	Signo int
	// Code is the signal's si_code.
	Code int32
	// Addr is the fault address (si_addr) for TrapFault.
	Addr uintptr
}

// Range is a half-open range of application virtual addresses [Start, End).
type Range struct {
	Start, End uintptr
	// Name is what /proc/self/maps shows for the range ("[vdso]").
	Name string
}

// Platform makes address spaces.
type Platform interface {
	// NewAddressSpace returns an empty address space: nothing mapped but
	// the platform's own Reserved ranges.
	NewAddressSpace() (AddressSpace, error)
	// Reserved lists the ranges every address space of this platform
	// holds for itself (stub code, the host vDSO and vvar). The sentry must
	// never map over them.
	Reserved() []Range
	// VDSO returns the address of the host vDSO image mapped in every
	// address space (for AT_SYSINFO_EHDR), or 0 if there is none.
	VDSO() uintptr
	// MaxUserAddress is one past the highest address an application may
	// map.
	MaxUserAddress() uintptr
	// Close releases the platform and kills every process it started.
	Close() error
}

// AddressSpace is one application address space. Its methods may be called
// from any goroutine; the implementation serialises what must be.
type AddressSpace interface {
	// MapAnon maps zero-filled anonymous memory at exactly addr (MAP_FIXED
	// semantics: whatever was there is replaced). prot is PROT_* bits.
	// shared selects MAP_SHARED (kept across Fork) over MAP_PRIVATE.
	MapAnon(addr, length uintptr, prot int, shared bool) error
	// MapFile maps length bytes of the host file fd from offset at exactly
	// addr. The platform duplicates what it needs; the caller keeps fd.
	MapFile(addr, length uintptr, prot int, fd int, offset int64, shared bool) error
	// Unmap removes every mapping in [addr, addr+length).
	Unmap(addr, length uintptr) error
	// Protect changes the protection of [addr, addr+length).
	Protect(addr, length uintptr, prot int) error
	// ReadAt copies application memory at addr into p. It returns the
	// number of bytes copied; a short count comes with an error (EFAULT).
	ReadAt(p []byte, addr uintptr) (int, error)
	// WriteAt copies p into application memory at addr, like ReadAt.
	// It ignores page protection the way the kernel's own copy-out does not:
	// callers check protection in the sentry's memory map first.
	WriteAt(p []byte, addr uintptr) (int, error)
	// Fork returns a copy-on-write copy of this address space.
	Fork() (AddressSpace, error)
	// NewContext returns a new thread that runs in this address space.
	// The context is bound to the calling goroutine's OS thread: the
	// caller must have called runtime.LockOSThread and must call Switch
	// only from that thread.
	NewContext() (Context, error)
	// Release destroys the address space. Contexts still bound to it
	// become unusable.
	Release()
}

// Context runs one application thread.
type Context interface {
	// Switch loads regs, runs the thread until it traps, and stores the
	// thread's registers back into regs.
	//
	// Preconditions: called on the OS thread that created the context.
	Switch(regs *arch.Registers) (Trap, error)
	// Interrupt makes a running or the next Switch return TrapInterrupted
	// soon. It may be called from any goroutine.
	Interrupt()
	// Release destroys the thread.
	Release()
}

// Constructor makes a platform. It runs before the sentry installs its
// seccomp filter, so it may start processes.
type Constructor func() (Platform, error)

var (
	registryMu sync.Mutex
	registry   = map[string]Constructor{}
)

// Register makes a platform available by name. It is called from init
// functions; registering a name twice panics.
func Register(name string, c Constructor) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, ok := registry[name]; ok {
		panic("platform: " + name + " registered twice")
	}
	registry[name] = c
}

// New makes the platform registered under name.
func New(name string) (Platform, error) {
	registryMu.Lock()
	c, ok := registry[name]
	registryMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("platform %q: unknown (have %v)", name, Names())
	}
	return c()
}

// Names lists the registered platforms, sorted.
func Names() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// FPContext is implemented by a Context that can read and write the
// thread's floating-point and vector state (signal frames need it). The
// state is in the architecture's native save format: on amd64 the XSAVE
// area (its first 512 bytes are the FXSAVE image).
//
// Preconditions for every method: called on the OS thread that created
// the context, while Switch is not running.
type FPContext interface {
	// FPState copies the state into dst and returns its length.
	FPState(dst []byte) (int, error)
	// SetFPState loads the state from src (as FPState returned it).
	SetFPState(src []byte) error
	// FPStateSize returns the size FPState needs.
	FPStateSize() int
}
