package mm

// MappedFileRef is implemented by a MappedFile that must stay open while
// a mapping of it exists. mm holds one reference per vma naming the file,
// so that its host descriptor is still valid when a later call needs it
// again (mremap growing or moving a file mapping, MADV_DONTNEED re-reading
// a private one, msync syncing a shared one), as Linux's vma holds its
// struct file. A MappedFile without it must keep HostFD valid for as long
// as it is mapped.
type MappedFileRef interface {
	// IncRef takes a reference. It is called with mm.mu held and must
	// not block.
	IncRef()
	// DecRef drops a reference. mm calls it without mm.mu held, except
	// when another vma of the same file still holds a reference (so the
	// count cannot reach zero).
	DecRef()
}

// incFile takes a reference on f if it counts them.
func incFile(f MappedFile) {
	if r, ok := f.(MappedFileRef); ok {
		r.IncRef()
	}
}

// decFile drops a reference on f if it counts them.
func decFile(f MappedFile) {
	if r, ok := f.(MappedFileRef); ok {
		r.DecRef()
	}
}

// dropLocked queues the file reference of each of vs, which have left the
// vma set, for release once m.mu is unlocked.
//
// Preconditions: m.mu is locked for writing.
func (m *MemoryManager) dropLocked(vs []vma) {
	for i := range vs {
		if vs[i].file != nil {
			m.unref = append(m.unref, vs[i].file)
		}
	}
}

// unlock unlocks m.mu for writing, then drops the file references queued
// meanwhile: the last DecRef of a file may release it, which must not
// happen under mu.
func (m *MemoryManager) unlock() {
	files := m.unref
	m.unref = nil
	m.mu.Unlock()
	for _, f := range files {
		decFile(f)
	}
}
