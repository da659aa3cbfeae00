package pipe

import (
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// The calls below serve splice(2), tee(2) and vmsplice(2): they move data
// between a pipe and something else, or between two pipes, with Linux's
// fs/splice.c waiting rules. The caller decides nonblock (SPLICE_F_NONBLOCK
// or O_NONBLOCK on either file) and passes the task as in, so a wait ends
// with EINTR when a signal comes.

// WaitReadable waits until p has data or no writer (ipipe_prep): nil
// then (the next read returns data, or 0 at EOF); EAGAIN if nonblock and
// p is empty with writers; EINTR if in is interrupted.
func (p *Pipe) WaitReadable(nonblock bool, in vfs.Interruptible) error {
	ready := func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.queuedLocked() > 0 || p.writers == 0
	}
	if ready() {
		return nil
	}
	if nonblock {
		return unix.EAGAIN
	}
	return p.wait(vfs.EventIn|vfs.EventHUp, in, ready)
}

// WaitWritable waits until p has room or no reader (opipe_prep): EPIPE
// without readers (the caller raises SIGPIPE), EAGAIN if nonblock and p
// is full, EINTR if in is interrupted.
func (p *Pipe) WaitWritable(nonblock bool, in vfs.Interruptible) error {
	state := func() (room bool, readers bool) {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.capacity-p.queuedLocked() > 0, p.readers > 0
	}
	room, readers := state()
	if !readers {
		return unix.EPIPE
	}
	if room {
		return nil
	}
	if nonblock {
		return unix.EAGAIN
	}
	err := p.wait(vfs.EventOut|vfs.EventErr, in, func() bool {
		room, readers = state()
		return room || !readers
	})
	if err != nil {
		return err
	}
	if !readers {
		return unix.EPIPE
	}
	return nil
}

// Idle reports whether p has no open end (a FIFO's pipe may then be
// dropped: its data went with the last close).
func (p *Pipe) Idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.readers == 0 && p.writers == 0
}

// AtEOF reports whether p is empty with no writer left.
func (p *Pipe) AtEOF() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queuedLocked() == 0 && p.writers == 0
}

// Take moves up to len(dst) bytes out of p without waiting and without
// packet boundaries: 0 if p is empty.
func (p *Pipe) Take(dst []byte) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := copy(dst, p.buf[p.head:])
	p.consumeLocked(n)
	return n
}

// Unread puts b back at the front of p: the part of what Take returned
// that the destination of a splice did not accept stays in the pipe, as
// Linux leaves unconsumed buffers there. It may exceed the capacity for a
// moment (a writer that raced in is not undone).
func (p *Pipe) Unread(b []byte) {
	if len(b) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.head >= len(b) {
		p.head -= len(b)
		copy(p.buf[p.head:], b)
	} else {
		rest := p.buf[p.head:]
		nb := make([]byte, 0, len(b)+len(rest))
		p.buf = append(append(nb, b...), rest...)
		p.head = 0
	}
	if len(p.packets) > 0 {
		p.packets = append([]int{len(b)}, p.packets...)
	}
	p.queue.Notify(vfs.EventIn | vfs.EventRdNorm)
}

// Put adds as much of src as fits in p without waiting (no PIPE_BUF
// atomicity: splice fills what room there is). EPIPE without readers.
func (p *Pipe) Put(src []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.putLocked(src)
}

// Room returns the free space of p.
func (p *Pipe) Room() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(p.capacity-p.queuedLocked(), 0)
}

// Transfer moves (or, for tee, copies when consume is false) up to n
// bytes from src to dst without waiting, holding both pipes' locks so no
// byte is lost or doubled. It returns how many moved; EPIPE if dst has no
// reader and nothing moved. src and dst must differ.
func Transfer(src, dst *Pipe, n int, consume bool) (int, error) {
	// Lock in inode order, so two transfers in opposite directions do
	// not deadlock.
	first, second := src, dst
	if dst.ino < src.ino {
		first, second = dst, src
	}
	first.mu.Lock()
	defer first.mu.Unlock()
	second.mu.Lock()
	defer second.mu.Unlock()
	data := src.buf[src.head:]
	data = data[:min(len(data), n)]
	put, err := dst.putLocked(data)
	if consume && put > 0 {
		src.consumeLocked(put)
	}
	if put > 0 {
		return put, nil
	}
	return 0, err
}

// putLocked appends what fits of src.
//
// Preconditions: p.mu is locked.
func (p *Pipe) putLocked(src []byte) (int, error) {
	if p.readers == 0 {
		return 0, unix.EPIPE
	}
	n := min(max(p.capacity-p.queuedLocked(), 0), len(src))
	if n == 0 {
		return 0, nil
	}
	if p.head > 0 && p.head >= len(p.buf)/2 {
		k := copy(p.buf, p.buf[p.head:])
		p.buf, p.head = p.buf[:k], 0
	}
	p.buf = append(p.buf, src[:n]...)
	if len(p.packets) > 0 {
		p.packets = append(p.packets, n)
	}
	p.queue.Notify(vfs.EventIn | vfs.EventRdNorm)
	return n, nil
}

// consumeLocked drops n bytes from the front, trimming packet lengths.
//
// Preconditions: p.mu is locked; n <= the bytes queued.
func (p *Pipe) consumeLocked(n int) {
	if n == 0 {
		return
	}
	p.head += n
	for rest := n; rest > 0 && len(p.packets) > 0; {
		if p.packets[0] > rest {
			p.packets[0] -= rest
			break
		}
		rest -= p.packets[0]
		p.packets = p.packets[1:]
	}
	if p.head == len(p.buf) {
		p.buf, p.head, p.packets = p.buf[:0], 0, p.packets[:0]
	}
	p.queue.Notify(vfs.EventOut | vfs.EventWrNorm)
}
