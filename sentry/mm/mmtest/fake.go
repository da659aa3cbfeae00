// Package mmtest provides a platform kept in Go memory, for tests of the
// memory manager and of what builds on it (the loader). An address space
// is a map of pages, each with its protection, so tests can check what the
// sentry asked the platform for without starting stubs.
package mmtest

import (
	"fmt"
	"maps"
	"sync"

	"moat/platform"

	"golang.org/x/sys/unix"
)

// PageSize is the fake's page size.
const PageSize = 4096

// Platform is a fake platform.Platform.
type Platform struct {
	// Max is MaxUserAddress; Res and VDSOAddr are what Reserved and VDSO
	// return.
	Max      uintptr
	Res      []platform.Range
	VDSOAddr uintptr
}

// NewPlatform returns a fake platform with a 47-bit address space, as on
// x86-64, and the given reserved ranges.
func NewPlatform(reserved ...platform.Range) *Platform {
	return &Platform{Max: 0x7ffffffff000, Res: reserved}
}

// NewAddressSpace returns an empty *AddressSpace.
func (p *Platform) NewAddressSpace() (platform.AddressSpace, error) {
	return &AddressSpace{pages: map[uintptr]*page{}}, nil
}

// Reserved returns p.Res.
func (p *Platform) Reserved() []platform.Range { return p.Res }

// VDSO returns p.VDSOAddr.
func (p *Platform) VDSO() uintptr { return p.VDSOAddr }

// MaxUserAddress returns p.Max.
func (p *Platform) MaxUserAddress() uintptr { return p.Max }

// Close does nothing.
func (p *Platform) Close() error { return nil }

type page struct {
	data   [PageSize]byte
	prot   int
	shared bool
}

// AddressSpace is a fake platform.AddressSpace. Like the real ones it
// copies regardless of page protection; unmapped pages fault (EFAULT).
type AddressSpace struct {
	mu    sync.Mutex
	pages map[uintptr]*page
}

// MapAnon maps zeroed pages.
func (a *AddressSpace) MapAnon(addr, length uintptr, prot int, shared bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for p := addr; p < addr+length; p += PageSize {
		a.pages[p] = &page{prot: prot, shared: shared}
	}
	return nil
}

// MapFile maps pages filled from fd with pread, zeros past its end.
func (a *AddressSpace) MapFile(addr, length uintptr, prot int, fd int, offset int64, shared bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for p := addr; p < addr+length; p += PageSize {
		pg := &page{prot: prot, shared: shared}
		if _, err := unix.Pread(fd, pg.data[:], offset+int64(p-addr)); err != nil {
			return fmt.Errorf("fake MapFile: pread fd %d: %w", fd, err)
		}
		a.pages[p] = pg
	}
	return nil
}

// Unmap removes pages.
func (a *AddressSpace) Unmap(addr, length uintptr) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for p := addr; p < addr+length; p += PageSize {
		delete(a.pages, p)
	}
	return nil
}

// Protect changes the protection of mapped pages; ENOMEM on a hole.
func (a *AddressSpace) Protect(addr, length uintptr, prot int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for p := addr; p < addr+length; p += PageSize {
		pg, ok := a.pages[p]
		if !ok {
			return unix.ENOMEM
		}
		pg.prot = prot
	}
	return nil
}

func (a *AddressSpace) copy(p []byte, addr uintptr, write bool) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for n < len(p) {
		cur := addr + uintptr(n)
		pg, ok := a.pages[cur&^(PageSize-1)]
		if !ok {
			return n, unix.EFAULT
		}
		off := cur % PageSize
		if write {
			n += copy(pg.data[off:], p[n:])
		} else {
			n += copy(p[n:], pg.data[off:])
		}
	}
	return n, nil
}

// ReadAt copies from mapped pages.
func (a *AddressSpace) ReadAt(p []byte, addr uintptr) (int, error) { return a.copy(p, addr, false) }

// WriteAt copies to mapped pages.
func (a *AddressSpace) WriteAt(p []byte, addr uintptr) (int, error) { return a.copy(p, addr, true) }

// Fork copies private pages and shares shared ones.
func (a *AddressSpace) Fork() (platform.AddressSpace, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := &AddressSpace{pages: maps.Clone(a.pages)}
	for addr, pg := range c.pages {
		if !pg.shared {
			cp := *pg
			c.pages[addr] = &cp
		}
	}
	return c, nil
}

// NewContext fails: the fake cannot run code.
func (a *AddressSpace) NewContext() (platform.Context, error) {
	return nil, fmt.Errorf("mmtest: fake address space cannot run code: %w", unix.ENOSYS)
}

// Release does nothing.
func (a *AddressSpace) Release() {}

// Prot returns the protection of the page at addr, and whether it is
// mapped.
func (a *AddressSpace) Prot(addr uintptr) (int, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	pg, ok := a.pages[addr&^(PageSize-1)]
	if !ok {
		return 0, false
	}
	return pg.prot, true
}

// NumPages returns how many pages are mapped.
func (a *AddressSpace) NumPages() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.pages)
}
