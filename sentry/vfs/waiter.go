package vfs

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// EventMask is a set of readiness events. The bits are Linux's poll bits
// (POLLIN, POLLOUT ...), which are also epoll's EPOLLIN, EPOLLOUT ..., so
// poll, select and a later epoll share one vocabulary.
type EventMask uint32

// Readiness events (asm-generic/poll.h).
const (
	EventIn     EventMask = unix.POLLIN
	EventPri    EventMask = unix.POLLPRI
	EventOut    EventMask = unix.POLLOUT
	EventErr    EventMask = unix.POLLERR
	EventHUp    EventMask = unix.POLLHUP
	EventNVal   EventMask = unix.POLLNVAL
	EventRdNorm EventMask = 0x40
	EventRdBand EventMask = 0x80
	EventWrNorm EventMask = 0x100
	EventWrBand EventMask = 0x200
	EventRdHUp  EventMask = unix.POLLRDHUP

	// EventsAlways are reported whether asked for or not.
	EventsAlways = EventErr | EventHUp | EventNVal
	// EventsDefault is what a file that cannot block reports (Linux's
	// DEFAULT_POLLMASK): regular files and directories are always ready.
	EventsDefault = EventIn | EventOut | EventRdNorm | EventWrNorm
)

// Waitable is implemented by a FileImpl whose readiness changes over time
// (pipes, eventfds, host descriptors). Files without it are always ready
// for EventsDefault.
type Waitable interface {
	// Readiness returns the events of mask (plus EventsAlways) that hold
	// now.
	Readiness(mask EventMask) EventMask
	// EventRegister asks for e to be notified whenever readiness for an
	// event in e's mask may have changed. It returns false when the file
	// cannot notify (a host descriptor): the waiter must then call
	// Readiness again from time to time. Either way EventUnregister
	// undoes it.
	EventRegister(e *WaitEntry) bool
	// EventUnregister removes e.
	EventUnregister(e *WaitEntry)
}

// Readiness returns the events of mask (and EventsAlways) that f has now.
func Readiness(f *File, mask EventMask) EventMask {
	if w, ok := f.impl.(Waitable); ok {
		return w.Readiness(mask|EventsAlways) & (mask | EventsAlways)
	}
	return EventsDefault & mask
}

// WaitEntry is one waiter on one or more WaitQueues: a poll call, a
// blocked reader or (later) an epoll instance. It is notified through a
// channel with room for one token (so a notification is never lost nor
// blocks the notifier), or a callback.
type WaitEntry struct {
	mask     EventMask
	ch       chan struct{}
	callback func(EventMask)
}

// NewWaitEntry returns an entry for the events in mask whose channel
// receives a token when one of them may have become ready.
func NewWaitEntry(mask EventMask) *WaitEntry {
	return &WaitEntry{mask: mask | EventsAlways, ch: make(chan struct{}, 1)}
}

// NewCallbackEntry returns an entry that calls fn with the events a
// notifier reports. fn runs with the queue's lock held: it must be quick,
// must not block and must not touch the queue.
func NewCallbackEntry(mask EventMask, fn func(EventMask)) *WaitEntry {
	return &WaitEntry{mask: mask | EventsAlways, callback: fn}
}

// WithMask returns a channel entry that shares e's channel but waits for
// other events (poll registers one per file, all waking one sleeper).
func (e *WaitEntry) WithMask(mask EventMask) *WaitEntry {
	return &WaitEntry{mask: mask | EventsAlways, ch: e.ch, callback: e.callback}
}

// C returns the channel a token arrives on (nil for a callback entry).
func (e *WaitEntry) C() <-chan struct{} { return e.ch }

// Mask returns the events e waits for.
func (e *WaitEntry) Mask() EventMask { return e.mask }

func (e *WaitEntry) notify(ready EventMask) {
	if e.callback != nil {
		e.callback(ready)
		return
	}
	select {
	case e.ch <- struct{}{}:
	default:
	}
}

// WaitQueue is the list of entries waiting on one object. The zero value
// is an empty queue.
type WaitQueue struct {
	// mu guards entries. It is a leaf: Notify calls callbacks under it,
	// and they must take no lock that is held while calling Notify.
	mu      sync.Mutex
	entries map[*WaitEntry]struct{}
}

// Register adds e.
func (q *WaitQueue) Register(e *WaitEntry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.entries == nil {
		q.entries = map[*WaitEntry]struct{}{}
	}
	q.entries[e] = struct{}{}
}

// Unregister removes e (a no-op if it is not there).
func (q *WaitQueue) Unregister(e *WaitEntry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.entries, e)
}

// Notify wakes every entry waiting for one of the events in ready.
func (q *WaitQueue) Notify(ready EventMask) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for e := range q.entries {
		if e.mask&ready != 0 {
			e.notify(ready)
		}
	}
}

// Blocker is an Interruptible that can also sleep efficiently: until ch
// receives, deadline passes (ETIMEDOUT; the zero time means never) or it
// is interrupted (EINTR). *kernel.Task implements it.
type Blocker interface {
	Interruptible
	Block(ch <-chan struct{}, deadline time.Time) error
}

// fallbackTick is how often a sleeper that is not a Blocker rechecks
// whether it was interrupted.
const fallbackTick = 10 * time.Millisecond

// Block sleeps on ch for in like Blocker.Block. An in that is no Blocker
// is checked for interruption every few milliseconds; a nil in is never
// interrupted.
func Block(in Interruptible, ch <-chan struct{}, deadline time.Time) error {
	if b, ok := in.(Blocker); ok {
		return b.Block(ch, deadline)
	}
	tick := time.NewTicker(fallbackTick)
	defer tick.Stop()
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		tm := time.NewTimer(time.Until(deadline))
		defer tm.Stop()
		timeout = tm.C
	}
	for {
		if in != nil && in.Interrupted() {
			return unix.EINTR
		}
		select {
		case <-ch:
			return nil
		case <-timeout:
			return unix.ETIMEDOUT
		case <-tick.C:
		}
	}
}

// InterruptibleOpener is implemented by an Inode whose open may block
// (a FIFO waits for its other end): the VFS passes the opening task, so
// the wait gives up with EINTR on a signal.
type InterruptibleOpener interface {
	OpenInterruptible(flags int, in Interruptible) (FileImpl, error)
}

// openInode opens ino for the task c names as its Caller, interruptibly
// when both sides allow it.
func openInode(ino Inode, flags int, c *Creds) (FileImpl, error) {
	if o, ok := ino.(InterruptibleOpener); ok {
		if task, ok := c.Caller.(Interruptible); ok {
			return o.OpenInterruptible(flags, task)
		}
	}
	return ino.Open(flags)
}
