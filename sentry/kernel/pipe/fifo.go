package pipe

import (
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// FIFO is the pipe behind a named FIFO inode (mknod S_IFIFO): a file
// system that has FIFO inodes keeps one per inode, for the inode's life,
// and opens it from its Inode.Open.
//
//	fi := pipe.NewFIFO(uid, gid)                  // at mknod or first lookup
//	impl, err := fi.Open(flags, in, inode.Stat)   // in Inode.Open
type FIFO struct {
	p *Pipe
}

// NewFIFO returns the FIFO state of one inode.
func NewFIFO(uid, gid uint32) *FIFO { return &FIFO{p: New(uid, gid)} }

// Pipe returns the FIFO's buffer.
func (fi *FIFO) Pipe() *Pipe { return fi.p }

// Open opens an end of the FIFO, with Linux's fifo_open rules:
//   - O_RDONLY waits for a writer unless O_NONBLOCK;
//   - O_WRONLY waits for a reader; with O_NONBLOCK and no reader it fails
//     with ENXIO;
//   - O_RDWR never waits.
//
// in is the opening task (EINTR if it is interrupted while waiting; nil
// waits uninterruptibly). stat, if not nil, is what fstat of the end
// reports (the inode's metadata).
func (fi *FIFO) Open(flags int, in vfs.Interruptible, stat func() (unix.Stat_t, error)) (vfs.FileImpl, error) {
	p := fi.p
	e := &End{p: p, stat: stat, packet: flags&unix.O_DIRECT != 0}
	nonblock := flags&unix.O_NONBLOCK != 0
	p.mu.Lock()
	switch flags & unix.O_ACCMODE {
	case unix.O_RDONLY:
		e.reader = true
		p.readers++
		p.rCounter++
		p.queue.Notify(eventOpen)
		if p.writers > 0 {
			p.mu.Unlock()
			return e, nil
		}
		if nonblock {
			// No hangup until a writer has come (and gone).
			e.wSeen = p.wCounter
			p.mu.Unlock()
			return e, nil
		}
		seen := p.wCounter
		p.mu.Unlock()
		err := p.wait(eventOpen, in, func() bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.wCounter != seen
		})
		if err != nil {
			p.release(e)
			return nil, err
		}
		return e, nil
	case unix.O_WRONLY:
		if nonblock && p.readers == 0 {
			p.mu.Unlock()
			return nil, unix.ENXIO
		}
		e.writer = true
		p.writers++
		p.wCounter++
		p.queue.Notify(eventOpen)
		if p.readers > 0 {
			p.mu.Unlock()
			return e, nil
		}
		seen := p.rCounter
		p.mu.Unlock()
		err := p.wait(eventOpen, in, func() bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.rCounter != seen
		})
		if err != nil {
			p.release(e)
			return nil, err
		}
		return e, nil
	case unix.O_RDWR:
		e.reader, e.writer = true, true
		p.readers++
		p.writers++
		p.rCounter++
		p.wCounter++
		p.queue.Notify(eventOpen)
		p.mu.Unlock()
		return e, nil
	}
	p.mu.Unlock()
	return nil, unix.EINVAL
}
