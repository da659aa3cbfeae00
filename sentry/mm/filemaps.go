package mm

// FileMapping is one mapping of a file, as FileMappings reports it.
type FileMapping struct {
	Start, End uintptr
	File       MappedFile
	// Offset is the file offset at Start.
	Offset int64
}

// FileMappings returns the file mappings that start in [start, end), in
// address order. shmdt finds a segment's mappings with it.
func (m *MemoryManager) FileMappings(start, end uintptr) []FileMapping {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []FileMapping
	for i := m.vmas.find(start); i < len(m.vmas) && m.vmas[i].start < end; i++ {
		v := &m.vmas[i]
		if v.file == nil || v.start < start {
			continue
		}
		out = append(out, FileMapping{Start: v.start, End: v.end, File: v.file, Offset: v.offset})
	}
	return out
}
