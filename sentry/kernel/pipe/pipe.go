// Package pipe implements pipes and named FIFOs inside the sentry: the
// data never touches the host. A Pipe is the shared buffer; each open end
// is a vfs.File whose FileImpl is an *End.
//
// Semantics follow Linux's fs/pipe.c: a 64 KiB default capacity that
// F_SETPIPE_SZ changes (rounded up to a power-of-two number of pages),
// writes of at most PIPE_BUF bytes are atomic, reads return what is there,
// EOF once every writer is gone, EPIPE once every reader is gone (the
// caller raises SIGPIPE), EAGAIN under O_NONBLOCK, and O_DIRECT "packet"
// mode where each write is one message.
//
// Locking: Pipe.mu guards the buffer and the counts; the wait queue's own
// lock is taken after it (Notify is called with Pipe.mu held), never
// before.
package pipe

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

const (
	// PageSize is the unit of pipe capacity.
	PageSize = 4096
	// Buf is PIPE_BUF: writes up to this size are atomic.
	Buf = 4096
	// DefaultSize is a new pipe's capacity (16 pages).
	DefaultSize = 16 * PageSize
	// MaxSize is /proc/sys/fs/pipe-max-size's default: the largest
	// capacity an unprivileged process may set.
	MaxSize = 1 << 20
	// maxPrivilegedSize bounds what CAP_SYS_RESOURCE may ask for (Linux
	// refuses more than 2^31 bytes with EINVAL).
	maxPrivilegedSize = 1 << 31
)

// eventOpen is an internal event: a FIFO end was opened, which a blocked
// FIFO open of the other side waits for. It is outside Linux's poll bits.
const eventOpen vfs.EventMask = 1 << 30

// inodeNumbers gives each pipe its own st_ino, as pipefs does.
var inodeNumbers atomic.Uint64

// Pipe is the buffer and state shared by the ends of one pipe or FIFO.
type Pipe struct {
	ino   uint64
	queue vfs.WaitQueue
	// uid, gid and ctime are what fstat reports for an anonymous pipe.
	uid, gid uint32
	ctime    unix.Timespec

	// mu guards the fields below.
	mu sync.Mutex
	// buf[head:] are the unread bytes, oldest first.
	buf  []byte
	head int
	// packets, in packet mode, are the lengths of the messages in data.
	packets []int
	// capacity is the most data may hold.
	capacity int
	readers  int
	writers  int
	// rCounter and wCounter count every open of a reading or writing
	// end, so a FIFO open can wait for "a writer came" even if it went
	// again.
	rCounter, wCounter uint64
}

// New returns an empty pipe with no ends, owned by uid and gid.
func New(uid, gid uint32) *Pipe {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_REALTIME, &ts)
	return &Pipe{ino: inodeNumbers.Add(1), uid: uid, gid: gid, ctime: ts, capacity: DefaultSize}
}

// NewPipe implements pipe2: it returns the read and write ends, each a
// file with one reference. flags may hold O_NONBLOCK and O_DIRECT (the
// caller handles O_CLOEXEC, which belongs to the descriptors).
func NewPipe(uid, gid uint32, flags int) (r, w *vfs.File) {
	p := New(uid, gid)
	status := flags & (unix.O_NONBLOCK | unix.O_DIRECT)
	p.mu.Lock()
	p.readers, p.writers = 1, 1
	p.rCounter, p.wCounter = 1, 1
	p.mu.Unlock()
	r = vfs.NewFile(&End{p: p, reader: true, packet: flags&unix.O_DIRECT != 0}, unix.O_RDONLY|status, vfs.Location{})
	w = vfs.NewFile(&End{p: p, writer: true, packet: flags&unix.O_DIRECT != 0}, unix.O_WRONLY|status, vfs.Location{})
	return r, w
}

// Name is what /proc/PID/fd shows for a descriptor of the pipe.
func (p *Pipe) Name() string { return fmt.Sprintf("pipe:[%d]", p.ino) }

// Capacity returns the pipe's size (F_GETPIPE_SZ).
func (p *Pipe) Capacity() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.capacity
}

// SetCapacity implements F_SETPIPE_SZ: size is rounded up to a power of
// two number of pages (at least one); EPERM beyond MaxSize unless
// privileged, EINVAL beyond 2^31, EBUSY if the data already there does
// not fit. It returns the new capacity.
func (p *Pipe) SetCapacity(size uint64, privileged bool) (int, error) {
	if size > maxPrivilegedSize {
		return 0, unix.EINVAL
	}
	pages := uint64(1)
	for pages*PageSize < size {
		pages <<= 1
	}
	n := pages * PageSize
	if n > maxPrivilegedSize {
		return 0, unix.EINVAL
	}
	if n > MaxSize && !privileged {
		return 0, unix.EPERM
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.queuedLocked() > int(n) {
		return 0, unix.EBUSY
	}
	grew := int(n) > p.capacity
	p.capacity = int(n)
	if grew {
		p.queue.Notify(vfs.EventOut | vfs.EventWrNorm)
	}
	return p.capacity, nil
}

// Queued returns the number of unread bytes (FIONREAD).
func (p *Pipe) Queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.buf) - p.head
}

// queuedLocked is Queued with p.mu held.
//
// Preconditions: p.mu is locked.
func (p *Pipe) queuedLocked() int { return len(p.buf) - p.head }

// read moves up to len(dst) bytes out of the pipe. It returns EAGAIN
// when the pipe is empty with writers left (the caller blocks or not),
// and 0 at EOF.
func (p *Pipe) read(dst []byte, packet bool) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	data := p.buf[p.head:]
	if len(data) == 0 {
		if p.writers == 0 {
			return 0, nil
		}
		return 0, unix.EAGAIN
	}
	n, used := 0, 0
	if len(p.packets) > 0 {
		// One message per read; what does not fit is discarded.
		used = p.packets[0]
		n = copy(dst, data[:used])
		p.packets = p.packets[1:]
	} else {
		n = copy(dst, data)
		used = n
	}
	p.head += used
	if p.head == len(p.buf) {
		// Empty: the next write starts at the front again.
		p.buf, p.head, p.packets = p.buf[:0], 0, p.packets[:0]
	}
	p.queue.Notify(vfs.EventOut | vfs.EventWrNorm)
	return n, nil
}

// write adds src to the pipe: all of it or nothing if it fits in PIPE_BUF
// (atomic), else as much as fits. EPIPE without readers, EAGAIN when
// nothing could be written.
func (p *Pipe) write(src []byte, packet bool) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.readers == 0 {
		return 0, unix.EPIPE
	}
	room := p.capacity - p.queuedLocked()
	if room <= 0 || len(src) <= Buf && room < len(src) {
		return 0, unix.EAGAIN
	}
	n := min(room, len(src))
	if p.head > 0 && p.head >= len(p.buf)/2 {
		// Slide the unread bytes to the front so the buffer does not
		// grow without bound.
		k := copy(p.buf, p.buf[p.head:])
		p.buf, p.head = p.buf[:k], 0
	}
	p.buf = append(p.buf, src[:n]...)
	if packet {
		// Each page of a write is one message, as Linux's packet mode
		// makes each pipe buffer one.
		for rest := n; rest > 0; rest -= Buf {
			p.packets = append(p.packets, min(rest, Buf))
		}
	}
	p.queue.Notify(vfs.EventIn | vfs.EventRdNorm)
	return n, nil
}

// readiness computes the events of an end.
func (p *Pipe) readiness(e *End, mask vfs.EventMask) vfs.EventMask {
	p.mu.Lock()
	defer p.mu.Unlock()
	var r vfs.EventMask
	if e.reader {
		if p.queuedLocked() > 0 {
			r |= vfs.EventIn | vfs.EventRdNorm
		}
		// A FIFO reader opened before any writer does not see a hangup
		// until a writer has come and gone.
		if p.writers == 0 && e.wSeen != p.wCounter {
			r |= vfs.EventHUp
		}
	}
	if e.writer {
		if p.capacity-p.queuedLocked() >= Buf {
			r |= vfs.EventOut | vfs.EventWrNorm
		}
		if p.readers == 0 {
			r |= vfs.EventErr
		}
	}
	return r & mask
}

// release drops an end's counts and wakes the other side.
func (p *Pipe) release(e *End) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.reader {
		p.readers--
		if p.readers == 0 {
			p.queue.Notify(vfs.EventOut | vfs.EventErr | vfs.EventWrNorm)
		}
	}
	if e.writer {
		p.writers--
		if p.writers == 0 {
			p.queue.Notify(vfs.EventIn | vfs.EventHUp | vfs.EventRdNorm)
		}
	}
	if p.readers == 0 && p.writers == 0 {
		// A FIFO's buffer is freed when its last end closes.
		p.buf, p.head, p.packets = nil, 0, nil
	}
}

// wait blocks the caller on the pipe's queue until ready reports true,
// for the events in mask. ready runs once before any sleep, after the
// entry is registered, so no wake-up is lost.
func (p *Pipe) wait(mask vfs.EventMask, in vfs.Interruptible, ready func() bool) error {
	e := vfs.NewWaitEntry(mask)
	p.queue.Register(e)
	defer p.queue.Unregister(e)
	for !ready() {
		if err := vfs.Block(in, e.C(), time.Time{}); err != nil {
			return err
		}
	}
	return nil
}
