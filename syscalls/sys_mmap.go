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
		"anonymous and private file mappings; shared file mappings are not written back (the root is read-only)").returnsHex(),
	supported("munmap", sysMunmap, "ptr,size"),
	supported("mprotect", sysMprotect, "ptr,size,prot"),
}

// sysBrk implements brk(2): it returns the new end of the heap, or the
// old one when the move fails (the kernel reports no error).
func sysBrk(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return t.MM().Brk(args[0]), nil
}

// mapTypeMask selects MAP_SHARED / MAP_PRIVATE / MAP_SHARED_VALIDATE.
const (
	mapTypeMask          = 0x03
	mapSharedValidate    = 0x03
	mapFixedNoreplace    = 0x100000
	mapSharedValidateOK  = unix.MAP_SHARED | unix.MAP_PRIVATE | unix.MAP_FIXED | unix.MAP_ANONYMOUS | unix.MAP_DENYWRITE | unix.MAP_EXECUTABLE | unix.MAP_GROWSDOWN | unix.MAP_LOCKED | unix.MAP_NORESERVE | unix.MAP_POPULATE | unix.MAP_NONBLOCK | unix.MAP_STACK | unix.MAP_HUGETLB | mapFixedNoreplace
	protKnown            = unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC | unix.PROT_GROWSDOWN | unix.PROT_GROWSUP
	mmapDefaultMaxOffset = 1<<63 - 1
)

// sysMmap implements mmap(2) (offset in bytes on both architectures).
func sysMmap(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	addr, length, prot, flags, fd, off := args[0], args[1], int(args.Int(2)), int(args.Int(3)), args.Int(4), args[5]
	if length == 0 || off&(mm.PageSize-1) != 0 || off > mmapDefaultMaxOffset {
		return 0, unix.EINVAL
	}
	switch flags & mapTypeMask {
	case unix.MAP_SHARED, unix.MAP_PRIVATE:
	case mapSharedValidate:
		if flags&^mapSharedValidateOK != 0 {
			return 0, unix.EOPNOTSUPP
		}
		flags = flags&^mapTypeMask | unix.MAP_SHARED
	default:
		return 0, unix.EINVAL
	}
	if prot&^protKnown != 0 {
		return 0, unix.EINVAL
	}
	opts := mm.MMapOpts{Addr: addr, Length: length, Prot: prot, Flags: flags, Offset: int64(off)}
	if flags&unix.MAP_ANONYMOUS == 0 {
		f, err := t.FDTable().Get(fd)
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		opts.File = &mappedFile{f: f, name: t.Kernel().VFS().Getcwd(t.FSContext().Root(), f.Location())}
	}
	return t.MM().MMap(opts)
}

// mappedFile presents an open file to mm. The mapping does not keep the
// file open: the platform holds its own duplicate of the host descriptor.
type mappedFile struct {
	f    *vfs.File
	name string
}

// HostFD implements mm.MappedFile.
func (m *mappedFile) HostFD() int { return m.f.HostFD() }

// MapName implements mm.MappedFile.
func (m *mappedFile) MapName() string { return m.name }

// OpenFlags implements mm.MappedFile.
func (m *mappedFile) OpenFlags() int { return m.f.Flags() }

// sysMunmap implements munmap(2).
func sysMunmap(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.MM().MUnmap(args[0], args[1])
}

// sysMprotect implements mprotect(2).
func sysMprotect(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.MM().MProtect(args[0], args[1], int(args.Int(2)))
}
