package goferfs

import (
	"sync"

	"moat/sentry/kernel/pipe"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// A FIFO on a gofer-served tree is a sentry pipe: the host FIFO is never
// opened (the gofer could block in open, and a host FIFO may be shared
// with host processes). Every walk yields a new inode, so the pipes are
// kept per file system and keyed by the host's device and inode numbers:
// two opens of one path, or of two hard links, meet in the same pipe.

// fifoKey names a host FIFO.
type fifoKey struct{ dev, ino uint64 }

// fifoEntry is one FIFO's pipe and the opens in progress on it.
type fifoEntry struct {
	fi *pipe.FIFO
	// opening counts opens between lookup and their end being
	// counted by the pipe; the entry must not be dropped meanwhile.
	opening int
}

// fifoTable holds the pipes of a file system's FIFOs. An entry lives
// while the FIFO has open ends or opens in progress: Linux frees a FIFO's
// pipe (and its data) when the last end closes.
type fifoTable struct {
	// mu guards m.
	mu sync.Mutex
	m  map[fifoKey]*fifoEntry
}

// acquire returns the pipe of the FIFO k, making it if needed, counted
// as opening until release.
func (t *fifoTable) acquire(k fifoKey, uid, gid uint32) *fifoEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[fifoKey]*fifoEntry)
	}
	// Drop the pipes nobody holds any more; a FIFO table is small.
	for key, e := range t.m {
		if e.opening == 0 && e.fi.Pipe().Idle() {
			delete(t.m, key)
		}
	}
	e := t.m[k]
	if e == nil {
		e = &fifoEntry{fi: pipe.NewFIFO(uid, gid)}
		t.m[k] = e
	}
	e.opening++
	return e
}

// release ends an open that acquire began.
func (t *fifoTable) release(e *fifoEntry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e.opening--
}

// openFIFO opens an end of the FIFO inode i; in is the opening task
// (nil waits for the other end uninterruptibly).
func (i *inode) openFIFO(flags int, in vfs.Interruptible) (vfs.FileImpl, error) {
	a, err := i.fs.r.Stat(i.fid)
	if err != nil {
		return nil, errno(err)
	}
	if a.Mode&unix.S_IFMT != unix.S_IFIFO {
		// Replaced on the host since the walk.
		return nil, unix.ENXIO
	}
	e := i.fs.fifos.acquire(fifoKey{a.Dev, a.Ino}, a.UID, a.GID)
	defer i.fs.fifos.release(e)
	return e.fi.Open(flags, in, i.Stat)
}

// OpenInterruptible implements vfs's interruptible open: a FIFO open
// that waits for its other end gives up with EINTR when in is
// interrupted. Other files open as Open does.
func (i *inode) OpenInterruptible(flags int, in vfs.Interruptible) (vfs.FileImpl, error) {
	if i.cachedAttr().Mode&unix.S_IFMT == unix.S_IFIFO {
		return i.openFIFO(flags, in)
	}
	return i.Open(flags)
}
