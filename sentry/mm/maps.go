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

// mapsNameColumn is where Linux's show_map_vma starts the name: it pads
// the line to 25 + 6*sizeof(void *) - 1 = 72 bytes on 64-bit, then
// writes one more space.
const mapsNameColumn = 72

// String formats e as a line of /proc/self/maps without its newline.
func (e MapEntry) String() string { return string(e.appendTo(nil)) }

// appendTo appends e's line (without newline) to b exactly as Linux
// prints it: "%08lx-%08lx %s %08llx %02x:%02x %lu " then, when there is a
// name, padding to column 72, a space and the name (newlines in it
// escaped as \012). A line without a name keeps its trailing space.
func (e MapEntry) appendTo(b []byte) []byte {
	lineStart := len(b)
	b = fmt.Appendf(b, "%08x-%08x %s %08x %02x:%02x %d ",
		e.Start, e.End, e.Perms, e.Offset, unix.Major(e.Dev), unix.Minor(e.Dev), e.Inode)
	if e.Name == "" {
		return b
	}
	for len(b)-lineStart < mapsNameColumn {
		b = append(b, ' ')
	}
	b = append(b, ' ')
	return append(b, strings.ReplaceAll(e.Name, "\n", "\\012")...)
}

// FormatMaps returns the content of /proc/self/maps for m.
func (m *MemoryManager) FormatMaps() []byte {
	entries := m.Maps()
	b := make([]byte, 0, len(entries)*100)
	for _, e := range entries {
		b = e.appendTo(b)
		b = append(b, '\n')
	}
	return b
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
		switch {
		case v.file != nil || v.ino != 0:
			// A private /dev/zero mapping (anonymous memory, no file)
			// still shows the device's inode, as on Linux.
			e.Offset, e.Dev, e.Inode = uint64(v.offset), v.dev, v.ino
		case v.shared && e.Name == "":
			// Linux backs shared anonymous memory with an unlinked
			// shmem file and shows it so (on the internal shm mount,
			// device 00:01).
			e.Dev, e.Name = unix.Mkdev(0, 1), "/dev/zero (deleted)"
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
