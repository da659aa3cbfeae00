package mm

import (
	"reflect"
	"slices"

	"moat/platform"
)

// vma is one application mapping [start, end). Both ends are page aligned
// and start < end.
type vma struct {
	start, end uintptr
	// prot is the current protection (PROT_READ|PROT_WRITE|PROT_EXEC);
	// maxProt bounds what mprotect may grant (a shared mapping of a file
	// opened read-only never becomes writable).
	prot, maxProt int
	shared        bool
	growsDown     bool
	// file is nil for anonymous memory; offset is the file offset of start.
	file   MappedFile
	offset int64
	// dev and ino are what /proc/self/maps shows for file.
	dev, ino uint64
	name     string
}

// fileOffsetAt returns the file offset that backs addr in v.
func (v *vma) fileOffsetAt(addr uintptr) int64 {
	if v.file == nil {
		return 0
	}
	return v.offset + int64(addr-v.start)
}

// sameFile reports whether a and b are the same file object. Interface
// values of non-comparable dynamic types would panic under ==, so they
// compare equal only to themselves by identity of kind and are never
// merged.
func sameFile(a, b MappedFile) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ta != tb || !ta.Comparable() {
		return false
	}
	return a == b
}

// canMerge reports whether b can be joined onto the end of a.
func canMerge(a, b *vma) bool {
	if a.end != b.start || a.prot != b.prot || a.maxProt != b.maxProt ||
		a.shared != b.shared || a.growsDown != b.growsDown || a.name != b.name {
		return false
	}
	if !sameFile(a.file, b.file) {
		return false
	}
	return a.file == nil || a.offset+int64(a.end-a.start) == b.offset
}

// vmaSet is a slice of vmas sorted by start, none overlapping. A sorted
// slice keeps lookups at O(log n) and the copy path allocation-free;
// inserts cost a copy of the tail, cheap next to the host call that
// accompanies every change.
type vmaSet []vma

// find returns the index of the first vma whose end is above addr (the
// vma containing addr, or the next one above it); len(s) if none.
func (s vmaSet) find(addr uintptr) int {
	lo, hi := 0, len(s)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s[mid].end <= addr {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// lookup returns the vma containing addr.
func (s vmaSet) lookup(addr uintptr) (*vma, bool) {
	i := s.find(addr)
	if i < len(s) && s[i].start <= addr {
		return &s[i], true
	}
	return nil, false
}

// overlaps reports whether any vma intersects [start, end).
func (s vmaSet) overlaps(start, end uintptr) bool {
	i := s.find(start)
	return i < len(s) && s[i].start < end
}

// covered reports whether [start, end) is entirely mapped, without holes.
func (s vmaSet) covered(start, end uintptr) bool {
	for i := s.find(start); start < end; i++ {
		if i >= len(s) || s[i].start > start {
			return false
		}
		start = s[i].end
	}
	return true
}

// split makes addr a vma boundary if it falls inside a vma.
func (s *vmaSet) split(addr uintptr) {
	i := s.find(addr)
	if i >= len(*s) || (*s)[i].start >= addr {
		return
	}
	lo := (*s)[i]
	hi := lo
	lo.end = addr
	hi.start = addr
	hi.offset = lo.fileOffsetAt(addr)
	// Each vma holds its own reference on its file.
	incFile(hi.file)
	(*s)[i] = lo
	*s = slices.Insert(*s, i+1, hi)
}

// remove deletes [start, end) from the set, splitting vmas that straddle
// the ends, and appends the removed pieces to removed; the caller owns
// their file references (MemoryManager.dropLocked).
func (s *vmaSet) remove(start, end uintptr, removed []vma) []vma {
	s.split(start)
	s.split(end)
	i := s.find(start)
	j := i
	for j < len(*s) && (*s)[j].start < end {
		j++
	}
	removed = append(removed, (*s)[i:j]...)
	*s = slices.Delete(*s, i, j)
	return removed
}

// insert adds v, which must not overlap any vma and whose file reference
// the set takes over, and merges it with its neighbours when they are
// compatible.
func (s *vmaSet) insert(v vma) {
	i := s.find(v.start)
	*s = slices.Insert(*s, i, v)
	s.mergeAround(i)
}

// mergeAround merges the vma at i with its neighbours where possible.
// The reference a merged-away vma held on its file is dropped at once:
// the vma it joined holds another on the same file, so this cannot be the
// last one.
func (s *vmaSet) mergeAround(i int) {
	if i+1 < len(*s) && canMerge(&(*s)[i], &(*s)[i+1]) {
		decFile((*s)[i+1].file)
		(*s)[i].end = (*s)[i+1].end
		*s = slices.Delete(*s, i+1, i+2)
	}
	if i > 0 && canMerge(&(*s)[i-1], &(*s)[i]) {
		decFile((*s)[i].file)
		(*s)[i-1].end = (*s)[i].end
		*s = slices.Delete(*s, i, i+1)
	}
}

// sortedRanges returns a sorted copy of rs with empty ranges dropped.
func sortedRanges(rs []platform.Range) []platform.Range {
	out := make([]platform.Range, 0, len(rs))
	for _, r := range rs {
		if r.End > r.Start {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b platform.Range) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return 0
	})
	return out
}

// hitsReserved returns the highest-starting reserved range intersecting
// [start, end).
func hitsReserved(rs []platform.Range, start, end uintptr) (platform.Range, bool) {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Start < end && rs[i].End > start {
			return rs[i], true
		}
	}
	return platform.Range{}, false
}
