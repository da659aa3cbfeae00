package host

import (
	"fmt"
	"sync"
	"time"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// The readiness of host descriptors reaches the sentry through one host
// epoll instance, watched by one goroutine. Every descriptor is
// registered edge-triggered (EPOLLET) for all the events a waiter may
// want; an edge wakes the WaitQueue the descriptor was registered with,
// and the woken waiters ask the host for the current state (ppoll with a
// zero timeout). So a task blocked on a host pipe, terminal or socket
// sleeps in Task.Block until the host says something changed, or a signal
// arrives, with no timer polling.
//
// Edge-triggered is enough because nobody reads the state from the epoll
// instance: it only says "look again". A waiter registers on the queue
// before it looks, so an edge after its look always wakes it.
//
// The notifier is process-wide (one epoll instance and one goroutine for
// every kernel in the process): descriptor numbers are process-wide too,
// and a second instance per kernel would buy nothing. It starts on first
// use; the epoll descriptor and the goroutine live as long as the process.

// notifyEvents are the events every descriptor is registered for.
const notifyEvents = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLPRI | unix.EPOLLRDHUP | unix.EPOLLET

// notifier is the process's one readiness watcher.
var notifier struct {
	once sync.Once
	epfd int
	err  error

	// mu guards queues. Lock order: mu, then a WaitQueue's lock (Notify
	// runs under mu so RemoveFD returning means no more notifications).
	mu     sync.Mutex
	queues map[int32]*vfs.WaitQueue
}

// startNotifier creates the epoll instance and its goroutine, once.
func startNotifier() error {
	notifier.once.Do(func() {
		epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			notifier.err = fmt.Errorf("host: epoll_create1 for readiness notifications: %w", err)
			return
		}
		notifier.epfd = epfd
		notifier.queues = map[int32]*vfs.WaitQueue{}
		go notifyLoop(epfd)
	})
	return notifier.err
}

// notifyLoop waits on the epoll instance forever and wakes the queue of
// each descriptor an event names.
func notifyLoop(epfd int) {
	var events [64]unix.EpollEvent
	for {
		n, err := unix.EpollWait(epfd, events[:], -1)
		if err != nil {
			// EINTR only: the epoll descriptor is never closed.
			continue
		}
		notifier.mu.Lock()
		for _, ev := range events[:n] {
			if q := notifier.queues[ev.Fd]; q != nil {
				q.Notify(vfs.EventMask(ev.Events))
			}
		}
		notifier.mu.Unlock()
	}
}

// AddFD asks for q to be notified whenever the readiness of host
// descriptor fd may have changed, until RemoveFD. A descriptor the host
// cannot poll (a regular file, /dev/null: always ready) gives EPERM, and
// the caller then treats it as always ready. The caller owns fd and must
// call RemoveFD before closing it.
func AddFD(fd int, q *vfs.WaitQueue) error {
	if err := startNotifier(); err != nil {
		return err
	}
	notifier.mu.Lock()
	defer notifier.mu.Unlock()
	ev := unix.EpollEvent{Events: notifyEvents, Fd: int32(fd)}
	if err := unix.EpollCtl(notifier.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return err
	}
	notifier.queues[int32(fd)] = q
	return nil
}

// RemoveFD undoes AddFD. No notification for fd is delivered once it
// returns.
func RemoveFD(fd int) {
	notifier.mu.Lock()
	defer notifier.mu.Unlock()
	if _, ok := notifier.queues[int32(fd)]; !ok {
		return
	}
	delete(notifier.queues, int32(fd))
	unix.EpollCtl(notifier.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

// FDReadiness returns the events of mask (and the always-reported ones)
// that host descriptor fd has now: a ppoll with a zero timeout.
func FDReadiness(fd int, mask vfs.EventMask) vfs.EventMask {
	fds := [1]unix.PollFd{{Fd: int32(fd), Events: int16(mask)}}
	ts := unix.Timespec{}
	for {
		n, err := unix.Ppoll(fds[:], &ts, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return 0
		}
		return vfs.EventMask(uint16(fds[0].Revents)) & (mask | vfs.EventsAlways)
	}
}

// WaitFD blocks until host descriptor fd, registered with q by AddFD, is
// ready for one of events (or has an error or hang-up), deadline passes
// (ETIMEDOUT; zero means never) or in is interrupted (EINTR). Readiness
// is checked first, so a ready descriptor returns at once even with a
// signal pending.
func WaitFD(fd int, q *vfs.WaitQueue, events vfs.EventMask, in vfs.Interruptible, deadline time.Time) error {
	e := vfs.NewWaitEntry(events)
	q.Register(e)
	defer q.Unregister(e)
	for {
		if FDReadiness(fd, events) != 0 {
			return nil
		}
		if err := vfs.Block(in, e.C(), deadline); err != nil {
			return err
		}
	}
}
