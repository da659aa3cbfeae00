// Package mm is the sentry's memory manager: for one application address
// space it keeps the list of mappings (what /proc/self/maps shows), the brk
// heap, and copies data in and out of application memory with the
// permission checks the kernel makes. Policy lives here; the platform's
// AddressSpace carries it out.
package mm

// This file fixes the API the rest of the sentry codes against. The
// bodies live in files named by concern: mmap.go (mmap, munmap,
// mprotect, address allocation), brk.go, copy.go, layout.go (ASLR),
// maps.go (/proc/self/maps), vma.go (the ordered set of mappings).

import (
	"sync"

	"moat/platform"
)

// PageSize is the size of an application page. Both supported
// architectures run with 4 KiB pages.
const PageSize = 4096

// MappedFile is what a file mapping needs from a file: a host descriptor
// the platform can map, a name for /proc/self/maps, and the open mode the
// mapping's protection is checked against.
type MappedFile interface {
	// HostFD returns a host descriptor for the file's data, or -1 when the
	// file cannot be mapped (mmap then fails with ENODEV).
	HostFD() int
	// MapName is the path /proc/self/maps shows for the mapping.
	MapName() string
	// OpenFlags returns the open file description's flags; mm looks at the
	// access mode (O_RDONLY, O_WRONLY, O_RDWR) and O_APPEND, as mmap(2)
	// does to choose between success and EACCES.
	OpenFlags() int
}

// MappedFileID is optionally implemented by a MappedFile that knows the
// device and inode /proc/self/maps shows for it. Without it both are 0.
type MappedFileID interface {
	MapDevIno() (dev, ino uint64)
}

// MMapOpts are the arguments of one mmap.
type MMapOpts struct {
	Addr, Length uintptr
	Prot         int        // PROT_*
	Flags        int        // MAP_* (MAP_PRIVATE/MAP_SHARED, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_ANONYMOUS, MAP_STACK, MAP_NORESERVE, MAP_POPULATE, MAP_GROWSDOWN)
	File         MappedFile // nil for anonymous memory
	Offset       int64
	// NoExec says File is on a noexec mount: the mapping may never
	// become executable (the caller refuses PROT_EXEC at mmap itself
	// with EPERM, as Linux does before it reaches the memory manager).
	NoExec bool
	// Name overrides the /proc/self/maps name ("[stack]", "[heap]").
	Name string
}

// MemoryManager is one application address space as the sentry sees it.
//
// Lock order (see README.md): mm.mu is taken before any lock inside the
// platform's AddressSpace; nothing in mm calls back into the kernel while
// holding it.
type MemoryManager struct {
	as platform.AddressSpace
	p  platform.Platform

	// reserved are the platform's own ranges, sorted; never mapped over.
	// Fixed at New.
	reserved []platform.Range
	// maxAddr is one past the highest mappable address. Fixed at New.
	maxAddr uintptr

	// mu guards everything below, and serialises changes to the platform
	// address space so that vmas and the host mappings agree.
	mu sync.RWMutex
	// vmas is the ordered, non-overlapping set of application mappings.
	vmas vmaSet
	// layout is where the stack and the mmap area go.
	layout Layout
	// brkStart is the start of the heap, brk its current (unaligned) end.
	brkStart, brk uintptr
	// dataLimit is RLIMIT_DATA in bytes (^uint64(0) when unlimited).
	dataLimit uint64
	// released is set by Release; later calls fail.
	released bool
	// unref are files whose vmas left the set while mu was held; unlock
	// drops their references after unlocking (fileref.go).
	unref []MappedFile
}

// New returns an empty memory manager over as, with a randomised layout
// (see NewLayout) below the platform's reserved ranges.
func New(p platform.Platform, as platform.AddressSpace) *MemoryManager {
	m := &MemoryManager{
		as:        as,
		p:         p,
		maxAddr:   p.MaxUserAddress() &^ (PageSize - 1),
		dataLimit: ^uint64(0),
	}
	m.reserved = sortedRanges(p.Reserved())
	m.layout = NewLayout(m.maxAddr, m.reserved, DefaultStackLimit, true)
	return m
}

// AddressSpace returns the platform address space (for NewContext).
func (m *MemoryManager) AddressSpace() platform.AddressSpace { return m.as }
