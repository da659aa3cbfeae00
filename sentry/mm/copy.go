package mm

import (
	"bytes"
	"fmt"

	"golang.org/x/sys/unix"
)

// accessibleLocked returns how many of the length bytes at addr lie in
// contiguous vmas whose protection has a bit of want, counting from addr.
//
// Preconditions: m.mu is locked.
func (m *MemoryManager) accessibleLocked(addr uintptr, length int, want int) int {
	end := addr + uintptr(length)
	if end < addr {
		end = ^uintptr(0)
	}
	cur := addr
	for i := m.vmas.find(addr); cur < end && i < len(m.vmas); i++ {
		v := &m.vmas[i]
		if v.start > cur || v.prot&want == 0 {
			break
		}
		cur = v.end
	}
	return int(min(cur, end) - addr)
}

// copyErr turns a platform copy failure into what the application sees.
func copyErr(err error, addr uintptr) error {
	if err == nil {
		return unix.EFAULT
	}
	return errnoOf(err, fmt.Sprintf("copy at %#x", addr))
}

// CopyIn copies len(dst) bytes of application memory at addr into dst,
// failing with EFAULT where the memory is not mapped readable. It returns
// how many bytes were copied; a short count comes with EFAULT.
func (m *MemoryManager) CopyIn(addr uintptr, dst []byte) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	n := m.accessibleLocked(addr, len(dst), readableProt)
	if n > 0 {
		if c, err := m.as.ReadAt(dst[:n], addr); c < n || err != nil {
			return c, copyErr(err, addr)
		}
	}
	if n < len(dst) {
		return n, unix.EFAULT
	}
	return n, nil
}

// CopyOut copies src to application memory at addr, failing with EFAULT
// where the memory is not mapped writable. It returns how many bytes were
// copied; a short count comes with EFAULT.
func (m *MemoryManager) CopyOut(addr uintptr, src []byte) (int, error) {
	if len(src) == 0 {
		return 0, nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	n := m.accessibleLocked(addr, len(src), unix.PROT_WRITE)
	if n > 0 {
		if c, err := m.as.WriteAt(src[:n], addr); c < n || err != nil {
			return c, copyErr(err, addr)
		}
	}
	if n < len(src) {
		return n, unix.EFAULT
	}
	return n, nil
}

// CopyInString reads a NUL-terminated string from addr. The NUL must lie
// within the first maxLen bytes (so maxLen = PATH_MAX gives the kernel's
// path rule): otherwise it fails with ENAMETOOLONG. It reads page by page,
// so a string that ends just before unmapped memory is read without
// touching it, and EFAULT comes only if the NUL is not found first.
func (m *MemoryManager) CopyInString(addr uintptr, maxLen int) (string, error) {
	if maxLen <= 0 {
		return "", unix.ENAMETOOLONG
	}
	var stack [256]byte
	buf := stack[:0]
	m.mu.RLock()
	defer m.mu.RUnlock()
	for len(buf) < maxLen {
		cur := addr + uintptr(len(buf))
		if cur < addr {
			return "", unix.EFAULT
		}
		chunk := min(int(PageSize-cur%PageSize), maxLen-len(buf))
		if room := cap(buf) - len(buf); room > 0 {
			// Short strings fit the stack buffer: no allocation but
			// the result.
			chunk = min(chunk, room)
		}
		if m.accessibleLocked(cur, chunk, readableProt) < chunk {
			return "", unix.EFAULT
		}
		buf = append(buf, make([]byte, chunk)...)
		part := buf[len(buf)-chunk:]
		if c, err := m.as.ReadAt(part, cur); c < chunk || err != nil {
			return "", copyErr(err, cur)
		}
		if i := bytes.IndexByte(part, 0); i >= 0 {
			return string(buf[:len(buf)-chunk+i]), nil
		}
	}
	return "", unix.ENAMETOOLONG
}

// Fork returns a copy-on-write copy of m (fork(2)): the platform copies
// the memory, and the child starts with the same mappings, heap and
// layout.
func (m *MemoryManager) Fork() (*MemoryManager, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.released {
		return nil, fmt.Errorf("mm: fork of a released address space")
	}
	as, err := m.as.Fork()
	if err != nil {
		return nil, fmt.Errorf("mm: fork address space: %w", err)
	}
	for i := range m.vmas {
		incFile(m.vmas[i].file)
	}
	return &MemoryManager{
		as:        as,
		p:         m.p,
		reserved:  m.reserved,
		maxAddr:   m.maxAddr,
		vmas:      append(vmaSet(nil), m.vmas...),
		layout:    m.layout,
		brkStart:  m.brkStart,
		brk:       m.brk,
		dataLimit: m.dataLimit,
	}, nil
}

// Release destroys the address space. Later mappings fail with ENOMEM and
// copies with EFAULT.
func (m *MemoryManager) Release() {
	m.mu.Lock()
	defer m.unlock()
	if m.released {
		return
	}
	m.released = true
	m.dropLocked(m.vmas)
	m.vmas = nil
	m.as.Release()
}
