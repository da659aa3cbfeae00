package mm

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

const (
	// protSem is PROT_SEM (asm-generic/mman-common.h), which x/sys/unix
	// does not name; Linux accepts and ignores it.
	protSem = 0x8
	// protAll is every protection bit mprotect accepts.
	protAll = unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC | protSem
	// mapTypeMask selects MAP_SHARED, MAP_PRIVATE or MAP_SHARED_VALIDATE.
	mapTypeMask = 0x3
	// mapKnown is every flag this implementation understands; with
	// MAP_SHARED_VALIDATE any other bit fails with EOPNOTSUPP.
	mapKnown = mapTypeMask | unix.MAP_FIXED | unix.MAP_ANONYMOUS | unix.MAP_GROWSDOWN |
		unix.MAP_DENYWRITE | unix.MAP_EXECUTABLE | unix.MAP_LOCKED | unix.MAP_NORESERVE |
		unix.MAP_POPULATE | unix.MAP_NONBLOCK | unix.MAP_STACK | unix.MAP_HUGETLB |
		unix.MAP_FIXED_NOREPLACE | mapUninitialized | map32Bit
	// mapUninitialized is MAP_UNINITIALIZED, accepted and ignored.
	mapUninitialized = 0x4000000
)

// pageUp rounds x up to a page boundary; ok is false on overflow.
func pageUp(x uintptr) (uintptr, bool) {
	r := (x + PageSize - 1) &^ (PageSize - 1)
	return r, r >= x
}

// errnoOf returns err itself when it is a unix.Errno, else err wrapped
// with what was being done; platform failures that carry an errno (host
// ENOMEM) reach the application as that errno.
func errnoOf(err error, what string) error {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return fmt.Errorf("mm: %s: %w", what, err)
}

// MMap maps memory per opts and returns its address. Errors are unix.Errno,
// chosen as mmap(2) documents them.
func (m *MemoryManager) MMap(opts MMapOpts) (uintptr, error) {
	flags := opts.Flags
	switch flags & mapTypeMask {
	case unix.MAP_SHARED, unix.MAP_PRIVATE:
	case unix.MAP_SHARED_VALIDATE:
		if flags&^mapKnown != 0 {
			return 0, unix.EOPNOTSUPP
		}
	default:
		return 0, unix.EINVAL
	}
	shared := flags&mapTypeMask != unix.MAP_PRIVATE
	// Linux's mmap ignores protection bits it does not know (only
	// mprotect validates them); the host is the oracle, so do the same.
	prot := opts.Prot & (unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC)
	if opts.Length == 0 {
		return 0, unix.EINVAL
	}
	if uint64(opts.Offset)%PageSize != 0 {
		return 0, unix.EINVAL
	}
	length, ok := pageUp(opts.Length)
	if !ok || length > m.maxAddr {
		return 0, unix.ENOMEM
	}
	fixed := flags&(unix.MAP_FIXED|unix.MAP_FIXED_NOREPLACE) != 0
	if fixed && opts.Addr%PageSize != 0 {
		return 0, unix.EINVAL
	}
	file := opts.File
	if flags&unix.MAP_ANONYMOUS != 0 {
		file = nil
	} else if file == nil {
		return 0, unix.EBADF
	}
	if flags&unix.MAP_HUGETLB != 0 {
		// No huge pages are set aside for sandboxes; Linux with an empty
		// pool says the same, and programs fall back to normal pages.
		return 0, unix.ENOMEM
	}

	v := vma{
		prot:      prot,
		maxProt:   unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC,
		shared:    shared,
		growsDown: flags&unix.MAP_GROWSDOWN != 0,
		name:      opts.Name,
	}
	fd := -1
	anon := false
	if file != nil {
		anon = mapsAnonymous(file)
		if !anon {
			if fd = file.HostFD(); fd < 0 {
				return 0, unix.ENODEV
			}
		}
		// Files end at 2^63 (loff_t): a mapping reaching past that
		// overflows, as Linux's file_mmap_ok says.
		if opts.Offset < 0 || uint64(opts.Offset)+uint64(length) > 1<<63-1 {
			return 0, unix.EOVERFLOW
		}
		of := file.OpenFlags()
		acc := of & unix.O_ACCMODE
		if acc == unix.O_WRONLY {
			// Every file mapping reads the file.
			return 0, unix.EACCES
		}
		if shared && acc != unix.O_RDWR {
			if prot&unix.PROT_WRITE != 0 {
				return 0, unix.EACCES
			}
			v.maxProt &^= unix.PROT_WRITE
		}
		if shared && of&unix.O_APPEND != 0 && prot&unix.PROT_WRITE != 0 {
			return 0, unix.EACCES
		}
		if opts.NoExec {
			// Linux's do_mmap clears VM_MAYEXEC for a file of a noexec
			// mount: mprotect cannot add PROT_EXEC later (EACCES).
			v.maxProt &^= unix.PROT_EXEC
		}
		if anon {
			anonymousFileVMA(&v, file)
		} else {
			v.file = file
			v.offset = opts.Offset
			if id, ok := file.(MappedFileID); ok {
				v.dev, v.ino = id.MapDevIno()
			}
		}
		if v.name == "" && !(anon && shared) {
			v.name = file.MapName()
		}
	}

	m.mu.Lock()
	defer m.unlock()
	if m.released {
		return 0, unix.ENOMEM
	}
	addr, err := m.placeLocked(opts.Addr, length, flags)
	if err != nil {
		return 0, err
	}
	v.start, v.end = addr, addr+length
	if err := m.mapLocked(v, fd); err != nil {
		return 0, err
	}
	return addr, nil
}

// placeLocked chooses where a mapping of length bytes goes.
//
// Preconditions: m.mu is locked for writing.
func (m *MemoryManager) placeLocked(addr, length uintptr, flags int) (uintptr, error) {
	if flags&(unix.MAP_FIXED|unix.MAP_FIXED_NOREPLACE) != 0 {
		if addr < MinAddr {
			// mmap_min_addr protects page zero; Linux refuses with EPERM.
			return 0, unix.EPERM
		}
		if addr > m.maxAddr-length {
			return 0, unix.ENOMEM
		}
		if _, hit := hitsReserved(m.reserved, addr, addr+length); hit {
			// The platform's own pages (stub code, vDSO) cannot be
			// replaced without losing control of the address space.
			return 0, unix.ENOMEM
		}
		if flags&unix.MAP_FIXED == 0 && m.vmas.overlaps(addr, addr+length) {
			return 0, unix.EEXIST
		}
		if len(m.vmas) >= maxMapCount {
			return 0, unix.ENOMEM
		}
		return addr, nil
	}
	if len(m.vmas) >= maxMapCount {
		return 0, unix.ENOMEM
	}
	floor, ceiling := uintptr(MinAddr), m.layout.MmapBase
	if flags&map32Bit != 0 {
		// MAP_32BIT: Linux takes the range [1 GiB, 2 GiB).
		floor, ceiling = 1<<30, 2<<30
	} else if hint := alignHint(addr); hint >= MinAddr && length <= m.maxAddr && hint <= m.maxAddr-length && m.freeLocked(hint, hint+length) {
		return hint, nil
	}
	if a, ok := m.topDownLocked(length, floor, ceiling); ok {
		return a, nil
	}
	if flags&map32Bit == 0 {
		// Like Linux, fall back to whatever is above the mmap base.
		if a, ok := m.topDownLocked(length, ceiling, m.maxAddr); ok {
			return a, nil
		}
	}
	return 0, unix.ENOMEM
}

// freeLocked reports whether [start, end) holds no mapping and no
// reserved range.
//
// Preconditions: m.mu is locked.
func (m *MemoryManager) freeLocked(start, end uintptr) bool {
	if m.vmas.overlaps(start, end) {
		return false
	}
	_, hit := hitsReserved(m.reserved, start, end)
	return !hit
}

// topDownLocked finds the highest free range of length bytes in
// [floor, ceiling).
//
// Preconditions: m.mu is locked.
func (m *MemoryManager) topDownLocked(length, floor, ceiling uintptr) (uintptr, bool) {
	end := ceiling
	for end >= floor && end-floor >= length {
		start := end - length
		// Move below the highest obstacle in the candidate range.
		obstacle, hit := uintptr(0), false
		i := m.vmas.find(start)
		for ; i < len(m.vmas) && m.vmas[i].start < end; i++ {
			obstacle, hit = m.vmas[i].start, true
		}
		if r, ok := hitsReserved(m.reserved, start, end); ok && (!hit || r.Start > obstacle) {
			obstacle, hit = r.Start, true
		}
		if !hit {
			return start, true
		}
		end = obstacle &^ (PageSize - 1)
	}
	return 0, false
}

// mapLocked carries out v on the platform, replacing whatever v covers,
// and records it. fd is the host descriptor of v.file, taken before m.mu
// so that no file method runs under it.
//
// Preconditions: m.mu is locked for writing (and released with m.unlock);
// v is validated and placed.
func (m *MemoryManager) mapLocked(v vma, fd int) error {
	length := v.end - v.start
	var err error
	if v.file != nil {
		err = m.as.MapFile(v.start, length, v.prot, fd, v.offset, v.shared)
	} else {
		err = m.as.MapAnon(v.start, length, v.prot, v.shared)
	}
	// The host's MAP_FIXED drops the old pages even when the new mapping
	// fails, so the old vmas go either way.
	var buf [4]vma
	m.dropLocked(m.vmas.remove(v.start, v.end, buf[:0]))
	if err != nil {
		m.as.Unmap(v.start, length)
		return errnoOf(err, fmt.Sprintf("map %#x-%#x", v.start, v.end))
	}
	incFile(v.file)
	m.vmas.insert(v)
	return nil
}

// MUnmap implements munmap(2).
func (m *MemoryManager) MUnmap(addr, length uintptr) error {
	if addr%PageSize != 0 || length == 0 || addr > m.maxAddr || length > m.maxAddr-addr {
		return unix.EINVAL
	}
	end, ok := pageUp(addr + length)
	if !ok || end > m.maxAddr {
		return unix.EINVAL
	}
	m.mu.Lock()
	defer m.unlock()
	return m.unmapLocked(addr, end)
}

// unmapLocked removes the application's mappings in [start, end). Only
// the vmas' own ranges are unmapped on the platform, never the reserved
// ranges between them.
//
// Preconditions: m.mu is locked for writing (and released with
// m.unlock); start and end are aligned.
func (m *MemoryManager) unmapLocked(start, end uintptr) error {
	if !m.vmas.overlaps(start, end) {
		return nil
	}
	var buf [4]vma
	removed := m.vmas.remove(start, end, buf[:0])
	m.dropLocked(removed)
	for _, v := range removed {
		if err := m.as.Unmap(v.start, v.end-v.start); err != nil {
			return errnoOf(err, fmt.Sprintf("unmap %#x-%#x", v.start, v.end))
		}
	}
	return nil
}

// MProtect implements mprotect(2). Unlike Linux, which changes the vmas it
// meets until it finds a hole, a range with a hole is refused (ENOMEM)
// before anything changes.
func (m *MemoryManager) MProtect(addr, length uintptr, prot int) error {
	if addr%PageSize != 0 {
		return unix.EINVAL
	}
	growsDown := prot&unix.PROT_GROWSDOWN != 0
	if growsDown && prot&unix.PROT_GROWSUP != 0 {
		return unix.EINVAL
	}
	if length == 0 {
		return nil
	}
	end, ok := pageUp(addr + length)
	if !ok || addr+length < addr {
		return unix.ENOMEM
	}
	if prot&unix.PROT_GROWSUP != 0 || prot&^(protAll|unix.PROT_GROWSDOWN) != 0 {
		// No architecture moat runs on has upward-growing stacks, so
		// PROT_GROWSUP never names a vma it could apply to.
		return unix.EINVAL
	}
	prot &^= unix.PROT_GROWSDOWN | protSem
	m.mu.Lock()
	defer m.mu.Unlock()
	if growsDown {
		v, ok := m.vmas.lookup(addr)
		if !ok {
			return unix.ENOMEM
		}
		if !v.growsDown {
			return unix.EINVAL
		}
		addr = v.start
	}
	if end > m.maxAddr || !m.vmas.covered(addr, end) {
		return unix.ENOMEM
	}
	for i := m.vmas.find(addr); i < len(m.vmas) && m.vmas[i].start < end; i++ {
		if prot&^m.vmas[i].maxProt != 0 {
			return unix.EACCES
		}
	}
	return m.protectLocked(addr, end, prot)
}
