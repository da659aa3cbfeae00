package mm

import "golang.org/x/sys/unix"

// SetBrkStart sets the start of the heap (the end of the loaded program's
// bss, page aligned and possibly randomised) at exec. The heap is empty
// until the first Brk that grows it.
func (m *MemoryManager) SetBrkStart(addr uintptr) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.brkStart, m.brk = addr, addr
}

// SetDataLimit sets RLIMIT_DATA (bytes; ^uint64(0) for none), which bounds
// how far Brk may move the end of the heap past its start.
func (m *MemoryManager) SetDataLimit(limit uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dataLimit = limit
}

// BrkRange returns the heap's start and current end, for /proc.
func (m *MemoryManager) BrkRange() (start, end uintptr) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.brkStart, m.brk
}

// Brk implements brk(2): it moves the end of the heap to addr if it can
// and returns the end of the heap afterwards (the old one on failure).
// It fails below the heap's start, past RLIMIT_DATA, or when the new heap
// would run into another mapping or come within a page of it.
func (m *MemoryManager) Brk(addr uintptr) uintptr {
	m.mu.Lock()
	defer m.unlock()
	if m.released || addr < m.brkStart || addr > m.maxAddr {
		return m.brk
	}
	if m.dataLimit != ^uint64(0) && uint64(addr-m.brkStart) > m.dataLimit {
		return m.brk
	}
	oldEnd, _ := pageUp(m.brk)
	newEnd, ok := pageUp(addr)
	if !ok {
		return m.brk
	}
	switch {
	case newEnd == oldEnd:
	case newEnd < oldEnd:
		if err := m.unmapLocked(newEnd, oldEnd); err != nil {
			return m.brk
		}
	default:
		// Linux keeps a free page above the heap; so do we.
		guard := min(newEnd+PageSize, m.maxAddr)
		if !m.freeLocked(oldEnd, guard) {
			return m.brk
		}
		v := vma{
			start:   oldEnd,
			end:     newEnd,
			prot:    unix.PROT_READ | unix.PROT_WRITE,
			maxProt: unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC,
			name:    "[heap]",
		}
		if err := m.mapLocked(v, -1); err != nil {
			return m.brk
		}
	}
	m.brk = addr
	return addr
}
