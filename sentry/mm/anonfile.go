package mm

// AnonymousFile is implemented by a MappedFile whose mappings are plain
// anonymous memory rather than the file's data: Linux's /dev/zero
// (mmap_zero in drivers/char/mem.c), where MAP_PRIVATE gives private
// zero-filled memory and MAP_SHARED shared anonymous memory, which
// fork shares like any MAP_SHARED|MAP_ANONYMOUS mapping. Such a file
// needs no host descriptor; mmap still checks its open mode as for any
// file.
type AnonymousFile interface {
	MapsAnonymous() bool
}

// mapsAnonymous reports whether mappings of f are anonymous memory.
func mapsAnonymous(f MappedFile) bool {
	a, ok := f.(AnonymousFile)
	return ok && a.MapsAnonymous()
}

// anonymousFileVMA makes v, a mapping of the AnonymousFile f, anonymous
// memory. A private one keeps f's device and inode for /proc/self/maps
// (Linux keeps the struct file on the vma); a shared one is the unnamed
// shmem object maps.go already shows as "/dev/zero (deleted)". No
// reference on f is kept: nothing reads the file again.
func anonymousFileVMA(v *vma, f MappedFile) {
	if v.shared {
		return
	}
	if id, ok := f.(MappedFileID); ok {
		v.dev, v.ino = id.MapDevIno()
	}
}
