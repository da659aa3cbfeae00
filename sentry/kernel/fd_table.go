package kernel

import (
	"sync"
	"sync/atomic"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// maxFDs is the kernel's fs.nr_open default: no RLIMIT_NOFILE may exceed it.
const maxFDs = 1 << 20

// fdEntry is one slot of a table: the open file description and the
// descriptor's own flag.
type fdEntry struct {
	file    *vfs.File
	cloexec bool
}

// FDTable maps a process's file descriptors to open file descriptions
// (struct files_struct). It holds one reference on each file it maps.
//
// Reference rule: Get returns the file with a new reference the caller
// must DecRef; Install and Replace take their own reference, so the caller
// keeps (and eventually drops) the one it had.
type FDTable struct {
	// users counts the tasks sharing the table (CLONE_FILES); the last
	// one to leave closes every descriptor. A table from NewFDTable
	// starts with none: the task that takes it counts itself.
	users atomic.Int32

	// mu guards files and next.
	mu sync.Mutex
	// files is indexed by descriptor; a nil file is a free slot.
	files []fdEntry
	// next is a lower bound of the lowest free descriptor.
	next int32
	// linuxSize is the size Linux's table (fdtable.max_fds) would have
	// now; see linuxTableSize. It is visible to programs: select(2)
	// silently ignores descriptors at or beyond it.
	linuxSize int32
}

// linuxDefaultSize is NR_OPEN_DEFAULT (BITS_PER_LONG): the size of a new
// process's descriptor table on Linux.
const linuxDefaultSize = 64

// NewFDTable returns an empty table.
func NewFDTable() *FDTable { return &FDTable{linuxSize: linuxDefaultSize} }

// linuxTableSize is the size Linux grows a descriptor table to when
// descriptor fd needs a slot (alloc_fdtable): in units of 1024 bytes of
// 8-byte pointers, rounded up to a power of two, capped at fs.nr_open.
func linuxTableSize(fd int32) int32 {
	const perKiB = 1024 / 8
	units := int32(1)
	for units <= fd/perKiB {
		units *= 2
	}
	return min(units*perKiB, maxFDs)
}

// SelectLimit is the number of descriptors select(2) looks at: Linux
// clamps nfds to its table's current size, so a bit set for a
// descriptor beyond it is ignored rather than an EBADF.
func (ft *FDTable) SelectLimit() int {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return int(ft.linuxSize)
}

// Get returns the file at fd with a new reference, or EBADF.
func (ft *FDTable) Get(fd int32) (*vfs.File, error) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if fd < 0 || int(fd) >= len(ft.files) || ft.files[fd].file == nil {
		return nil, unix.EBADF
	}
	f := ft.files[fd].file
	f.IncRef()
	return f, nil
}

// Install maps the lowest free descriptor >= minFD to f and returns it.
// limit is RLIMIT_NOFILE's soft value: EMFILE when no descriptor below it
// is free (and EINVAL when minFD itself is at or beyond it, as F_DUPFD
// requires; open and dup pass 0).
func (ft *FDTable) Install(f *vfs.File, minFD int32, cloexec bool, limit uint64) (int32, error) {
	if minFD < 0 || uint64(minFD) >= limit {
		return -1, unix.EINVAL
	}
	ft.mu.Lock()
	defer ft.mu.Unlock()
	fd := minFD
	if fd < ft.next {
		fd = ft.next
	}
	for int(fd) < len(ft.files) && ft.files[fd].file != nil {
		fd++
	}
	if uint64(fd) >= limit || fd >= maxFDs {
		return -1, unix.EMFILE
	}
	ft.grow(fd)
	f.IncRef()
	ft.files[fd] = fdEntry{file: f, cloexec: cloexec}
	if minFD <= ft.next {
		ft.next = fd + 1
	}
	return fd, nil
}

// Replace maps exactly fd to f (dup2/dup3), closing whatever fd mapped
// before. EBADF if fd is beyond limit (RLIMIT_NOFILE).
func (ft *FDTable) Replace(fd int32, f *vfs.File, cloexec bool, limit uint64) error {
	if fd < 0 || uint64(fd) >= limit || fd >= maxFDs {
		return unix.EBADF
	}
	ft.mu.Lock()
	ft.grow(fd)
	old := ft.files[fd].file
	f.IncRef()
	ft.files[fd] = fdEntry{file: f, cloexec: cloexec}
	ft.mu.Unlock()
	// Release outside the lock: the last reference may do I/O.
	if old != nil {
		old.ReleasePOSIXLocks(ft)
		old.DecRef()
	}
	return nil
}

// Remove unmaps fd and returns its file with the table's reference, which
// the caller now owns (close(2) drops it). EBADF if fd is not open.
func (ft *FDTable) Remove(fd int32) (*vfs.File, error) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if fd < 0 || int(fd) >= len(ft.files) || ft.files[fd].file == nil {
		return nil, unix.EBADF
	}
	f := ft.files[fd].file
	ft.files[fd] = fdEntry{}
	if fd < ft.next {
		ft.next = fd
	}
	return f, nil
}

// Close implements close(2) on the table: unmap fd and drop its reference.
func (ft *FDTable) Close(fd int32) error {
	f, err := ft.Remove(fd)
	if err != nil {
		return err
	}
	// Closing any descriptor of a file drops the process's POSIX
	// locks on it (the fd table is their owner, as on Linux).
	f.ReleasePOSIXLocks(ft)
	f.DecRef()
	return nil
}

// CloseOnExec reports fd's FD_CLOEXEC flag, or EBADF.
func (ft *FDTable) CloseOnExec(fd int32) (bool, error) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if fd < 0 || int(fd) >= len(ft.files) || ft.files[fd].file == nil {
		return false, unix.EBADF
	}
	return ft.files[fd].cloexec, nil
}

// SetCloseOnExec sets fd's FD_CLOEXEC flag (F_SETFD, FIOCLEX), or EBADF.
func (ft *FDTable) SetCloseOnExec(fd int32, cloexec bool) error {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if fd < 0 || int(fd) >= len(ft.files) || ft.files[fd].file == nil {
		return unix.EBADF
	}
	ft.files[fd].cloexec = cloexec
	return nil
}

// FDs returns the open descriptors in increasing order (for /proc/self/fd).
func (ft *FDTable) FDs() []int32 {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	var fds []int32
	for i, e := range ft.files {
		if e.file != nil {
			fds = append(fds, int32(i))
		}
	}
	return fds
}

// CloseAll unmaps every descriptor and drops the references (process exit).
func (ft *FDTable) CloseAll() {
	ft.mu.Lock()
	files := ft.files
	ft.files = nil
	ft.next = 0
	ft.mu.Unlock()
	vfs.ReleaseLockOwner(ft)
	for _, e := range files {
		if e.file != nil {
			e.file.DecRef()
		}
	}
}

// grow makes fd a valid index.
//
// Preconditions: ft.mu is locked.
func (ft *FDTable) grow(fd int32) {
	if fd >= ft.linuxSize {
		ft.linuxSize = linuxTableSize(fd)
	}
	if int(fd) < len(ft.files) {
		return
	}
	n := 2 * len(ft.files)
	if n < 16 {
		n = 16
	}
	for n <= int(fd) {
		n *= 2
	}
	files := make([]fdEntry, n)
	copy(files, ft.files)
	ft.files = files
}

// Fork returns a copy of the table for clone without CLONE_FILES: the
// same files (each with a new reference) and the same close-on-exec flags.
func (ft *FDTable) Fork() *FDTable {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	n := &FDTable{files: make([]fdEntry, len(ft.files)), next: ft.next, linuxSize: linuxDefaultSize}
	copy(n.files, ft.files)
	open := int32(0)
	for i, e := range n.files {
		if e.file != nil {
			e.file.IncRef()
			open = int32(i) + 1
		}
	}
	// Linux sizes the copy by the highest open descriptor, rounded up
	// to a whole word of its bitmap (dup_fd, sane_fdtable_size).
	if open = (open + 63) &^ 63; open > n.linuxSize {
		n.linuxSize = linuxTableSize(open - 1)
	}
	return n
}

// CloseOnExecAll closes every descriptor marked FD_CLOEXEC (execve).
func (ft *FDTable) CloseOnExecAll() {
	var closed []*vfs.File
	ft.mu.Lock()
	for i, e := range ft.files {
		if e.file != nil && e.cloexec {
			closed = append(closed, e.file)
			ft.files[i] = fdEntry{}
			if int32(i) < ft.next {
				ft.next = int32(i)
			}
		}
	}
	ft.mu.Unlock()
	for _, f := range closed {
		f.ReleasePOSIXLocks(ft)
		f.DecRef()
	}
}

// incUsers records one more process or thread using the table
// (CLONE_FILES).
func (ft *FDTable) incUsers() { ft.users.Add(1) }

// decUsers drops one user; the last one closes every descriptor.
func (ft *FDTable) decUsers() {
	if ft.users.Add(-1) == 0 {
		ft.CloseAll()
	}
}
