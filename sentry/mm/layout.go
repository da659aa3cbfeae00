package mm

import (
	"crypto/rand"
	"encoding/binary"

	"moat/platform"
)

const (
	// DefaultStackLimit is RLIMIT_STACK's usual soft value, 8 MiB.
	DefaultStackLimit = 8 << 20
	// minMmapGap and stackRandom follow Linux on x86-64: the mmap area
	// starts at least 128 MiB below the stack top, and the stack top
	// moves by up to 16 GiB.
	minMmapGap  = 128 << 20
	stackRandom = 16 << 30
	// mmapRandom is how far the mmap base moves (Linux: 28 bits of pages,
	// 1 TiB).
	mmapRandom = 1 << 40
	// MinAddr is the lowest address a mapping may use (vm.mmap_min_addr's
	// usual value): page zero and its neighbours stay unmapped so that NULL
	// dereferences fault.
	MinAddr = 0x10000
	// maxMapCount is vm.max_map_count's default: more vmas than this and
	// mmap fails with ENOMEM.
	maxMapCount = 65530
)

// Layout is where an address space puts its stack and its top-down mmap
// area. Linux's arch_pick_mmap_layout does the same, with the same bounds.
type Layout struct {
	// StackTop is one past the highest byte of the initial stack.
	StackTop uintptr
	// MmapBase is the top of the area non-fixed mappings are taken from,
	// growing down.
	MmapBase uintptr
}

// NewLayout picks a layout for an address space whose mappable addresses
// end at maxAddr and whose platform holds reserved (sorted). The stack top
// sits below any reserved range in the top quarter of the address space
// (where hosts put the vDSO), less a random amount when randomize is set;
// the mmap base sits at least max(stackLimit, 128 MiB) below it, less
// another random amount.
func NewLayout(maxAddr uintptr, reserved []platform.Range, stackLimit uint64, randomize bool) Layout {
	ceiling := maxAddr
	for _, r := range reserved {
		if r.Start >= maxAddr/4*3 && r.Start < ceiling {
			ceiling = r.Start
		}
	}
	// One guard page between the stack and whatever is above it.
	top := (ceiling &^ (PageSize - 1)) - PageSize
	if randomize {
		top -= randomPages(min(stackRandom, uint64(top)/16))
	}
	gap := max(stackLimit, minMmapGap)
	if limit := uint64(top) / 6 * 5; gap > limit {
		gap = limit
	}
	base := top - uintptr(gap)
	if randomize {
		base -= randomPages(min(mmapRandom, uint64(base)/16))
	}
	return Layout{StackTop: top, MmapBase: base &^ (PageSize - 1)}
}

// randomPages returns a random page-aligned amount below limit.
func randomPages(limit uint64) uintptr {
	pages := limit / PageSize
	if pages == 0 {
		return 0
	}
	var b [8]byte
	rand.Read(b[:]) // crypto/rand.Read never fails on Linux.
	return uintptr(binary.LittleEndian.Uint64(b[:])%pages) * PageSize
}

// Layout returns the address space's layout.
func (m *MemoryManager) Layout() Layout {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.layout
}

// SetLayout replaces the layout, for an exec that must honour
// ADDR_NO_RANDOMIZE or a different RLIMIT_STACK. It affects only mappings
// made afterwards.
func (m *MemoryManager) SetLayout(l Layout) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.layout = l
}

// MaxAddr returns one past the highest address an application may map.
func (m *MemoryManager) MaxAddr() uintptr { return m.maxAddr }

// ResetLayout picks a new layout for an exec: with the program's
// RLIMIT_STACK (0 for the default), randomised unless the personality
// asks for ADDR_NO_RANDOMIZE.
func (m *MemoryManager) ResetLayout(stackLimit uint64, randomize bool) Layout {
	if stackLimit == 0 {
		stackLimit = DefaultStackLimit
	}
	l := NewLayout(m.maxAddr, m.reserved, stackLimit, randomize)
	m.SetLayout(l)
	return l
}

// VDSO returns the address of the platform's vDSO in this address space
// (for AT_SYSINFO_EHDR), or 0.
func (m *MemoryManager) VDSO() uintptr { return m.p.VDSO() }
