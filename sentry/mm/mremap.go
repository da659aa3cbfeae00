package mm

import (
	"bytes"
	"fmt"

	"golang.org/x/sys/unix"
)

// mremap(2) flags (linux/mman.h).
const (
	mremapMayMove   = 1
	mremapFixed     = 2
	mremapDontUnmap = 4
)

// copyChunk is how much mremap moves through the sentry at a time.
const copyChunk = 64 << 10

// MRemap implements mremap(2): it shrinks, grows or moves the mapping at
// oldAddr and returns its new address. The platform cannot move pages, so
// a move maps the destination afresh and copies the data across:
// anonymous memory and private file mappings are copied (so written
// private pages survive; all-zero anonymous chunks are skipped, the new
// pages being zero already); shared file mappings are mapped again from
// the file, which keeps them coherent. Growing in place maps the
// extension as a new mapping of the same kind that merges with the old.
//
// Differences from Linux: MREMAP_DONTUNMAP and old_size 0 (duplicating a
// shared mapping) fail with EINVAL, and a moved or grown shared
// anonymous mapping stops sharing with copies made by an earlier fork.
func (m *MemoryManager) MRemap(oldAddr, oldSize, newSize uintptr, flags int, newAddr uintptr) (uintptr, error) {
	if flags&^(mremapMayMove|mremapFixed|mremapDontUnmap) != 0 {
		return 0, unix.EINVAL
	}
	mayMove := flags&mremapMayMove != 0
	fixed := flags&mremapFixed != 0
	if (fixed || flags&mremapDontUnmap != 0) && !mayMove {
		return 0, unix.EINVAL
	}
	if flags&mremapDontUnmap != 0 || oldAddr%PageSize != 0 {
		return 0, unix.EINVAL
	}
	oldLen, ok1 := pageUp(oldSize)
	newLen, ok2 := pageUp(newSize)
	if !ok1 || !ok2 || oldLen == 0 || newLen == 0 {
		return 0, unix.EINVAL
	}
	if fixed {
		if newAddr%PageSize != 0 || newLen > m.maxAddr || newAddr > m.maxAddr-newLen {
			return 0, unix.EINVAL
		}
		if newAddr < oldAddr+oldLen && oldAddr < newAddr+newLen {
			return 0, unix.EINVAL
		}
	}
	if oldLen > m.maxAddr || oldAddr > m.maxAddr-oldLen {
		return 0, unix.EFAULT
	}

	m.mu.Lock()
	defer m.unlock()
	if m.released {
		return 0, unix.EFAULT
	}
	v, ok := m.vmas.lookup(oldAddr)
	if !ok || oldLen > v.end-oldAddr {
		// The old range must lie within one mapping.
		return 0, unix.EFAULT
	}
	src := *v
	if fixed {
		if _, err := m.placeLocked(newAddr, newLen, unix.MAP_FIXED); err != nil {
			return 0, err
		}
		if err := m.moveLocked(src, oldAddr, oldLen, newAddr, newLen); err != nil {
			return 0, err
		}
		return newAddr, nil
	}
	if newLen <= oldLen {
		if err := m.unmapLocked(oldAddr+newLen, oldAddr+oldLen); err != nil {
			return 0, err
		}
		return oldAddr, nil
	}
	// Grow in place when the range ends the vma and the space above it
	// is free.
	end := oldAddr + newLen
	if oldAddr+oldLen == src.end && end <= m.maxAddr && end > oldAddr && m.freeLocked(src.end, end) {
		ext := src
		ext.start, ext.end = src.end, end
		ext.offset = src.fileOffsetAt(src.end)
		fd, err := m.hostFDLocked(&src)
		if err != nil {
			return 0, err
		}
		if err := m.mapLocked(ext, fd); err != nil {
			return 0, err
		}
		return oldAddr, nil
	}
	if !mayMove {
		return 0, unix.ENOMEM
	}
	dst, err := m.placeLocked(0, newLen, 0)
	if err != nil {
		return 0, err
	}
	if err := m.moveLocked(src, oldAddr, oldLen, dst, newLen); err != nil {
		return 0, err
	}
	return dst, nil
}

// hostFDLocked returns the host descriptor of v's file, or -1 for an
// anonymous vma.
//
// Preconditions: m.mu is locked; v is in the set, so mm holds a reference
// on its file.
func (m *MemoryManager) hostFDLocked(v *vma) (int, error) {
	if v.file == nil {
		return -1, nil
	}
	fd := v.file.HostFD()
	if fd < 0 {
		return -1, fmt.Errorf("mm: %s: mapped file has no host descriptor any more: %w", v.name, unix.ENODEV)
	}
	return fd, nil
}

// moveLocked moves [oldAddr, oldAddr+oldLen), which lies in the vma src,
// to [dst, dst+newLen), replacing whatever is there, and unmaps the old
// range. Up to min(oldLen, newLen) bytes of content move with it.
//
// Preconditions: m.mu is locked for writing; dst is placed and does not
// overlap the old range.
func (m *MemoryManager) moveLocked(src vma, oldAddr, oldLen, dst, newLen uintptr) error {
	fd, err := m.hostFDLocked(&src)
	if err != nil {
		return err
	}
	nv := src
	nv.start, nv.end = dst, dst+newLen
	nv.offset = src.fileOffsetAt(oldAddr)
	copyData := src.file == nil || !src.shared
	if copyData {
		// Write the copy through a writable, readable mapping, then
		// give it its real protection.
		nv.prot = unix.PROT_READ | unix.PROT_WRITE
	}
	if err := m.mapLocked(nv, fd); err != nil {
		return err
	}
	if copyData {
		if err := m.copyRangeLocked(oldAddr, dst, min(oldLen, newLen), src.prot, src.file == nil); err != nil {
			m.unmapLocked(dst, dst+newLen)
			return err
		}
		if src.prot != nv.prot {
			if err := m.protectLocked(dst, dst+newLen, src.prot); err != nil {
				m.unmapLocked(dst, dst+newLen)
				return err
			}
		}
	}
	return m.unmapLocked(oldAddr, oldAddr+oldLen)
}

// copyRangeLocked copies n bytes of application memory from src to dst
// through the platform. A source the platform cannot read as it is
// (PROT_NONE) is made readable first; it is about to be unmapped. When
// skipZero is set, all-zero chunks are not written: dst is fresh
// anonymous memory that reads as zero already.
//
// Preconditions: m.mu is locked for writing.
func (m *MemoryManager) copyRangeLocked(src, dst, n uintptr, prot int, skipZero bool) error {
	if prot&readableProt == 0 {
		if err := m.as.Protect(src, n, unix.PROT_READ); err != nil {
			return errnoOf(err, fmt.Sprintf("protect %#x-%#x for mremap", src, src+n))
		}
	}
	buf := make([]byte, min(n, copyChunk))
	var zero [PageSize]byte
	for done := uintptr(0); done < n; {
		c := buf[:min(n-done, uintptr(len(buf)))]
		if _, err := m.as.ReadAt(c, src+done); err != nil {
			return errnoOf(err, fmt.Sprintf("mremap read at %#x", src+done))
		}
		for p := 0; p < len(c); p += PageSize {
			page := c[p:min(p+PageSize, len(c))]
			if skipZero && bytes.Equal(page, zero[:len(page)]) {
				continue
			}
			if _, err := m.as.WriteAt(page, dst+done+uintptr(p)); err != nil {
				return errnoOf(err, fmt.Sprintf("mremap write at %#x", dst+done+uintptr(p)))
			}
		}
		done += uintptr(len(c))
	}
	return nil
}

// protectLocked sets the protection of [start, end), which is mapped,
// on the platform and in the vmas.
//
// Preconditions: m.mu is locked for writing.
func (m *MemoryManager) protectLocked(start, end uintptr, prot int) error {
	if err := m.as.Protect(start, end-start, prot); err != nil {
		return errnoOf(err, fmt.Sprintf("protect %#x-%#x", start, end))
	}
	m.vmas.split(start)
	m.vmas.split(end)
	first := m.vmas.find(start)
	last := first
	for ; last < len(m.vmas) && m.vmas[last].start < end; last++ {
		m.vmas[last].prot = prot
	}
	// Merge from the top down so indexes below stay valid.
	for i := min(last, len(m.vmas)-1); i >= first && i >= 0; i-- {
		m.vmas.mergeAround(i)
	}
	return nil
}
