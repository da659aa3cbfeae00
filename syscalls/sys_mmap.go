package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/mm"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

var mmSyscalls = []entry{
	supported("brk", sysBrk, "ptr").returnsHex(),
	partial("mmap", sysMmap, "ptr,size,prot,mapflags,fd,hex",
		"MAP_HUGETLB fails with ENOMEM (no huge page pool); MAP_FIXED over the platform's own pages (stub code, vDSO) fails with ENOMEM").returnsHex(),
	supported("munmap", sysMunmap, "ptr,size"),
	partial("mprotect", sysMprotect, "ptr,size,prot",
		"a range with a hole fails with ENOMEM before anything changes (Linux changes the part below the hole first)"),
	partial("mremap", sysMremap, "ptr,size,size,hex,ptr",
		"moves copy the data (shared file mappings are mapped again); MREMAP_DONTUNMAP and old_size 0 fail with EINVAL").returnsHex(),
	partial("madvise", sysMadvise, "ptr,size,int",
		"DONTNEED discards private pages; the other hints are accepted and change nothing (DONTFORK included); WIPEONFORK fails with EINVAL"),
	supported("msync", sysMsync, "ptr,size,hex"),
	partial("mincore", sysMincore, "ptr,size,ptr", "every mapped page is reported resident"),
	partial("mlock", sysMlock, "ptr,size", "checked against RLIMIT_MEMLOCK, nothing is pinned"),
	partial("mlock2", sysMlock2, "ptr,size,hex", "checked against RLIMIT_MEMLOCK, nothing is pinned"),
	supported("munlock", sysMunlock, "ptr,size"),
	partial("mlockall", sysMlockall, "hex", "checked against RLIMIT_MEMLOCK, nothing is pinned"),
	supported("munlockall", sysMunlockall, ""),
}

// sysBrk implements brk(2): it returns the new end of the heap, or the
// old one when the move fails (the kernel reports no error).
func sysBrk(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return t.MM().Brk(args[0]), nil
}

// mmap flag values --strace decodes (strace.go).
const (
	// mapTypeMask selects MAP_SHARED / MAP_PRIVATE / MAP_SHARED_VALIDATE.
	mapTypeMask       = 0x03
	mapSharedValidate = 0x03
	mapFixedNoreplace = 0x100000
)

// sysMmap implements mmap(2) (offset in bytes on both architectures).
// The memory manager checks the arguments; only what Linux checks before
// it looks at the file is done here: the offset's alignment (the
// architecture's sys_mmap) and the descriptor (EBADF).
func sysMmap(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	addr, length, prot, flags, fd, off := args[0], args[1], int(args.Int(2)), int(args.Int(3)), args.Int(4), args[5]
	if off%mm.PageSize != 0 {
		return 0, unix.EINVAL
	}
	opts := mm.MMapOpts{Addr: addr, Length: length, Prot: prot, Flags: flags, Offset: int64(off)}
	if flags&unix.MAP_ANONYMOUS == 0 {
		f, err := t.FDTable().Get(fd)
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		// Linux's do_mmap: no executable mapping of a noexec mount's
		// file, and none later (mm keeps PROT_EXEC out of the
		// mapping's maximum: mprotect answers EACCES).
		if l := f.Location(); l.Valid() && l.Mount().NoExec() {
			if prot&unix.PROT_EXEC != 0 {
				return 0, unix.EPERM
			}
			opts.NoExec = true
		}
		opts.File = newMappedFile(t, f)
	}
	return t.MM().MMap(opts)
}

// mappedFile presents an open file to mm. It is a comparable value, so
// two mappings of one open file are the same MappedFile and adjacent ones
// merge, as Linux merges vmas of one struct file. mm holds a reference on
// the file per mapping (MappedFileRef), as a vma holds its struct file.
type mappedFile struct {
	f    *vfs.File
	name string
}

// newMappedFile names f for /proc/self/maps by its path from t's root.
// A file with no place in the tree (a memfd, a pipe) has no name here:
// Linux's "/memfd:NAME (deleted)" is not reproduced yet.
func newMappedFile(t *kernel.Task, f *vfs.File) mappedFile {
	l := f.Location()
	if !l.Valid() {
		return mappedFile{f: f}
	}
	return mappedFile{f: f, name: t.Kernel().VFS().Getcwd(t.FSContext().Root(), l)}
}

// HostFD implements mm.MappedFile.
func (m mappedFile) HostFD() int { return m.f.HostFD() }

// MapsAnonymous implements mm.AnonymousFile: the file's own answer
// (the zero device's mappings are anonymous memory).
func (m mappedFile) MapsAnonymous() bool {
	a, ok := m.f.Impl().(mm.AnonymousFile)
	return ok && a.MapsAnonymous()
}

// MapName implements mm.MappedFile.
func (m mappedFile) MapName() string { return m.name }

// OpenFlags implements mm.MappedFile.
func (m mappedFile) OpenFlags() int { return m.f.Flags() }

// MapDevIno implements mm.MappedFileID with what fstat reports.
func (m mappedFile) MapDevIno() (dev, ino uint64) {
	st, err := m.f.Stat()
	if err != nil {
		return 0, 0
	}
	return st.Dev, st.Ino
}

// IncRef implements mm.MappedFileRef.
func (m mappedFile) IncRef() { m.f.IncRef() }

// DecRef implements mm.MappedFileRef.
func (m mappedFile) DecRef() { m.f.DecRef() }

// sysMunmap implements munmap(2).
func sysMunmap(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.MM().MUnmap(args[0], args[1])
}

// sysMprotect implements mprotect(2).
func sysMprotect(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.MM().MProtect(args[0], args[1], int(args.Int(2)))
}

// sysMremap implements mremap(2).
func sysMremap(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return t.MM().MRemap(args[0], args[1], args[2], int(args.Int(3)), args[4])
}

// sysMadvise implements madvise(2).
func sysMadvise(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.MM().MAdvise(args[0], args[1], int(args.Int(2)))
}

// sysMsync implements msync(2).
func sysMsync(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.MM().MSync(args[0], args[1], int(args.Int(2)))
}

// sysMincore implements mincore(2): one byte per page, 1 for resident,
// which every mapped page is said to be.
func sysMincore(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	pages, err := t.MM().MinCore(args[0], args[1])
	if err != nil {
		return 0, err
	}
	ones := t.Scratch()
	for i := range ones {
		ones[i] = 1
	}
	for vec, left := args[2], pages; left > 0; {
		n := min(left, len(ones))
		if _, err := t.CopyOut(vec, ones[:n]); err != nil {
			return 0, err
		}
		vec += uintptr(n)
		left -= n
	}
	return 0, nil
}

// memlockLimit returns RLIMIT_MEMLOCK's soft value in bytes, unlimited
// for a privileged task (Linux lets CAP_IPC_LOCK lock past it).
func memlockLimit(t *kernel.Task) uint64 {
	if t.Credentials().Privileged() {
		return kernel.RlimInfinity
	}
	r, err := t.ThreadGroup().Rlimit(unix.RLIMIT_MEMLOCK)
	if err != nil {
		return 0
	}
	return r.Cur
}

// sysMlock implements mlock(2).
func sysMlock(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.MM().MLock(args[0], args[1], memlockLimit(t), true)
}

// sysMlock2 implements mlock2(2): flags may only be MLOCK_ONFAULT.
func sysMlock2(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	if args.Int(2)&^unix.MLOCK_ONFAULT != 0 {
		return 0, unix.EINVAL
	}
	return 0, t.MM().MLock(args[0], args[1], memlockLimit(t), true)
}

// sysMunlock implements munlock(2).
func sysMunlock(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.MM().MLock(args[0], args[1], 0, false)
}

// sysMlockall implements mlockall(2).
func sysMlockall(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.MM().MLockAll(int(args.Int(0)), memlockLimit(t))
}

// sysMunlockall implements munlockall(2), which has nothing to undo.
func sysMunlockall(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, nil
}
