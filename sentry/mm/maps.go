package mm

import (
	"fmt"
	"strings"

	"moat/platform"

	"golang.org/x/sys/unix"
)

// MapEntry is one line of /proc/self/maps.
type MapEntry struct {
	Start, End uintptr
	// Perms is "rwxp" style: read, write, execute, then p(rivate) or
	// s(hared).
	Perms  string
	Offset uint64
	// Dev is the device number of the mapped file, Inode its inode.
	Dev, Inode uint64
	Name       string
}

// String formats e the way Linux's /proc/self/maps does.
func (e MapEntry) String() string {
	s := fmt.Sprintf("%08x-%08x %s %08x %02x:%02x %d ",
		e.Start, e.End, e.Perms, e.Offset, unix.Major(e.Dev), unix.Minor(e.Dev), e.Inode)
	if e.Name == "" {
		return strings.TrimRight(s, " ")
	}
	// Linux pads the name to column 74 (on 64-bit: 25 + 48 + 1).
	if pad := 73 - len(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s + e.Name
}

// permString renders prot and sharing as /proc does.
func permString(prot int, shared bool) string {
	b := []byte("---p")
	if prot&unix.PROT_READ != 0 {
		b[0] = 'r'
	}
	if prot&unix.PROT_WRITE != 0 {
		b[1] = 'w'
	}
	if prot&unix.PROT_EXEC != 0 {
		b[2] = 'x'
	}
	if shared {
		b[3] = 's'
	}
	return string(b)
}

// Maps lists the address space's mappings in address order, the
// platform's reserved ranges ("[vdso]") included, for /proc/self/maps.
func (m *MemoryManager) Maps() []MapEntry {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]MapEntry, 0, len(m.vmas)+len(m.reserved))
	ri := 0
	for i := range m.vmas {
		v := &m.vmas[i]
		for ri < len(m.reserved) && m.reserved[ri].Start < v.start {
			out = append(out, reservedEntry(m.reserved[ri]))
			ri++
		}
		e := MapEntry{Start: v.start, End: v.end, Perms: permString(v.prot, v.shared), Name: v.name}
		if v.file != nil {
			e.Offset, e.Dev, e.Inode = uint64(v.offset), v.dev, v.ino
		}
		out = append(out, e)
	}
	for ; ri < len(m.reserved); ri++ {
		out = append(out, reservedEntry(m.reserved[ri]))
	}
	return out
}

// reservedEntry describes a platform range. Its real protection is the
// platform's business; the vDSO is shown as Linux shows it.
func reservedEntry(r platform.Range) MapEntry {
	perms := "r-xp"
	if strings.HasPrefix(r.Name, "[vvar") {
		perms = "r--p"
	}
	return MapEntry{Start: r.Start, End: r.End, Perms: perms, Name: r.Name}
}
