package mm

import (
	"fmt"

	"moat/platform"
	"moat/sentry/mm/mmtest"
)

// newFake returns a memory manager over a fake address space with a
// 47-bit user address space, as on x86-64.
func newFake(reserved ...platform.Range) (*MemoryManager, *mmtest.AddressSpace) {
	p := mmtest.NewPlatform(reserved...)
	as, _ := p.NewAddressSpace()
	m := New(p, as)
	return m, as.(*mmtest.AddressSpace)
}

// checkConsistent verifies that the fake platform holds exactly the pages
// the vmas describe, with their protections, and that the vma set is
// sorted, non-overlapping and fully merged.
func checkConsistent(m *MemoryManager, as *mmtest.AddressSpace) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	pages := 0
	for i, v := range m.vmas {
		if v.start >= v.end || v.start%PageSize != 0 || v.end%PageSize != 0 {
			return fmt.Errorf("vma %d: bad range %#x-%#x", i, v.start, v.end)
		}
		if i > 0 {
			prev := m.vmas[i-1]
			if prev.end > v.start {
				return fmt.Errorf("vma %d overlaps its predecessor", i)
			}
			if canMerge(&prev, &v) {
				return fmt.Errorf("vmas %d and %d should have been merged", i-1, i)
			}
		}
		for p := v.start; p < v.end; p += PageSize {
			prot, ok := as.Prot(p)
			if !ok {
				return fmt.Errorf("page %#x of vma %d not mapped on the platform", p, i)
			}
			if prot != v.prot {
				return fmt.Errorf("page %#x: platform prot %d, vma prot %d", p, prot, v.prot)
			}
			pages++
		}
	}
	if n := as.NumPages(); pages != n {
		return fmt.Errorf("platform has %d pages, vmas cover %d", n, pages)
	}
	return nil
}
