// Package mm is the sentry's memory manager: for one application address
// space it keeps the list of mappings (what /proc/self/maps shows), the brk
// heap, and copies data in and out of application memory with the
// permission checks the kernel makes. Policy lives here; the platform's
// AddressSpace carries it out.
package mm

// This file fixes the API the rest of the sentry codes against. The mm
// owner fills in the bodies; the signatures change only together with
// their callers.

import (
	"errors"

	"moat/platform"
)

var errTODO = errors.New("mm: not implemented yet")

// MappedFile is what a file mapping needs from a file: a host descriptor
// the platform can map, and a name for /proc/self/maps.
type MappedFile interface {
	// HostFD returns a host descriptor for the file's data.
	HostFD() int
	// MapName is the path /proc/self/maps shows for the mapping.
	MapName() string
}

// MMapOpts are the arguments of one mmap.
type MMapOpts struct {
	Addr, Length uintptr
	Prot         int        // PROT_*
	Flags        int        // MAP_* (MAP_PRIVATE/MAP_SHARED, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_ANONYMOUS, MAP_STACK, MAP_NORESERVE, MAP_POPULATE, MAP_GROWSDOWN)
	File         MappedFile // nil for anonymous memory
	Offset       int64
	// Name overrides the /proc/self/maps name ("[stack]", "[heap]").
	Name string
}

// MemoryManager is one application address space as the sentry sees it.
type MemoryManager struct {
	as platform.AddressSpace
	p  platform.Platform
}

// New returns an empty memory manager over as.
func New(p platform.Platform, as platform.AddressSpace) *MemoryManager {
	return &MemoryManager{as: as, p: p}
}

// AddressSpace returns the platform address space (for NewContext).
func (m *MemoryManager) AddressSpace() platform.AddressSpace { return m.as }

// MMap maps memory per opts and returns its address. Errors are unix.Errno.
func (m *MemoryManager) MMap(opts MMapOpts) (uintptr, error) { return 0, errTODO }

// MUnmap implements munmap(2).
func (m *MemoryManager) MUnmap(addr, length uintptr) error { return errTODO }

// MProtect implements mprotect(2).
func (m *MemoryManager) MProtect(addr, length uintptr, prot int) error { return errTODO }

// SetBrkStart sets the start of the heap (the end of the loaded program's
// bss, page aligned and possibly randomised) at exec.
func (m *MemoryManager) SetBrkStart(addr uintptr) {}

// Brk implements brk(2): it moves the end of the heap to addr if it can
// and returns the end of the heap afterwards (the old one on failure).
func (m *MemoryManager) Brk(addr uintptr) uintptr { return 0 }

// CopyIn copies len(dst) bytes of application memory at addr into dst,
// failing with EFAULT where the memory is not mapped readable.
func (m *MemoryManager) CopyIn(addr uintptr, dst []byte) (int, error) { return 0, errTODO }

// CopyOut copies src to application memory at addr, failing with EFAULT
// where the memory is not mapped writable.
func (m *MemoryManager) CopyOut(addr uintptr, src []byte) (int, error) { return 0, errTODO }

// CopyInString reads a NUL-terminated string of at most maxLen bytes
// (ENAMETOOLONG beyond) from addr.
func (m *MemoryManager) CopyInString(addr uintptr, maxLen int) (string, error) {
	return "", errTODO
}

// Fork returns a copy-on-write copy of m (fork(2)).
func (m *MemoryManager) Fork() (*MemoryManager, error) { return nil, errTODO }

// Release destroys the address space.
func (m *MemoryManager) Release() {}
