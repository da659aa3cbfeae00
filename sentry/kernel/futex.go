package kernel

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"moat/sentry/mm"

	"golang.org/x/sys/unix"
)

// futexBitsetAny is FUTEX_BITSET_MATCH_ANY: FUTEX_WAIT and FUTEX_WAKE use
// it, so they match every bitset.
const futexBitsetAny = 0xffffffff

// futexBuckets is the number of hash buckets (and locks) of the table.
const futexBuckets = 64

// futexTable holds every task blocked in FUTEX_WAIT in the sandbox. A
// futex is keyed by (memory manager, address): private futexes, and
// shared ones between threads of one address space. Shared futexes in
// MAP_SHARED memory of two processes are not matched with each other.
//
// Each bucket's lock makes compare-and-sleep atomic with respect to wake:
// a waiter reads the futex word and queues itself with the lock held, and
// a waker takes the same lock. Lock order: a bucket's mu, then mm.mu
// (the compare reads application memory). Two buckets are locked in
// index order (requeue).
type futexTable struct {
	buckets [futexBuckets]futexBucket
}

// futexBucket is one hash bucket of the table.
type futexBucket struct {
	// mu guards waiters and the woken flag and address of every waiter
	// queued here.
	mu      sync.Mutex
	waiters []*futexWaiter
}

// futexWaiter is one task blocked in a futex wait.
type futexWaiter struct {
	t      *Task
	m      *mm.MemoryManager
	bitset uint32
	// addr is the futex the waiter is queued on; requeue changes it with
	// both buckets locked, so a reader locks the bucket of the address it
	// loaded and checks again.
	addr atomic.Uintptr
	// woken is set by the waker that dequeued the waiter.
	woken atomic.Bool
}

// bucketIndex hashes a futex address to a bucket.
func bucketIndex(addr uintptr) int {
	h := uint64(addr>>2) * 0x9e3779b97f4a7c15
	return int(h >> 58)
}

// bucket returns the bucket of addr.
func (ft *futexTable) bucket(addr uintptr) *futexBucket {
	return &ft.buckets[bucketIndex(addr)]
}

// readFutexWord reads the 32-bit futex word (EFAULT).
func readFutexWord(m *mm.MemoryManager, addr uintptr) (uint32, error) {
	var b [4]byte
	if n, err := m.CopyIn(addr, b[:]); err != nil || n != 4 {
		return 0, unix.EFAULT
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

// FutexWait implements FUTEX_WAIT and FUTEX_WAIT_BITSET: if the word at
// addr still holds val, sleep until a matching wake, the deadline (zero:
// none; ETIMEDOUT), or a signal (EINTR). EAGAIN when the word differs.
func (t *Task) FutexWait(addr uintptr, val, bitset uint32, deadline time.Time) error {
	ft := &t.k.futexes
	m := t.mm
	b := ft.bucket(addr)
	b.mu.Lock()
	cur, err := readFutexWord(m, addr)
	if err != nil {
		b.mu.Unlock()
		return err
	}
	if cur != val {
		b.mu.Unlock()
		return unix.EAGAIN
	}
	w := &futexWaiter{t: t, m: m, bitset: bitset}
	w.addr.Store(addr)
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()

	for {
		err := t.sleepUntil(deadline)
		if w.woken.Load() {
			return nil
		}
		if err == nil {
			continue // a spurious wake-up
		}
		if ft.dequeue(w) {
			return err
		}
		// Woken between the sleep's end and the dequeue: the wake wins.
		return nil
	}
}

// dequeue removes w from its bucket; false if a waker got there first.
func (ft *futexTable) dequeue(w *futexWaiter) bool {
	for {
		addr := w.addr.Load()
		b := ft.bucket(addr)
		b.mu.Lock()
		if w.addr.Load() != addr {
			b.mu.Unlock()
			continue // requeued meanwhile
		}
		if w.woken.Load() {
			b.mu.Unlock()
			return false
		}
		for i, o := range b.waiters {
			if o == w {
				b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
				break
			}
		}
		b.mu.Unlock()
		return true
	}
}

// FutexWake implements FUTEX_WAKE and FUTEX_WAKE_BITSET: it wakes up to n
// waiters on addr whose bitset intersects bitset and returns how many.
func (t *Task) FutexWake(addr uintptr, n int, bitset uint32) int {
	return t.k.futexes.wake(t.mm, addr, n, bitset)
}

// wake wakes up to n waiters of (m, addr) matching bitset.
func (ft *futexTable) wake(m *mm.MemoryManager, addr uintptr, n int, bitset uint32) int {
	b := ft.bucket(addr)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.wakeLocked(m, addr, n, bitset)
}

// wakeLocked is wake with the bucket locked.
//
// Preconditions: b.mu is locked.
func (b *futexBucket) wakeLocked(m *mm.MemoryManager, addr uintptr, n int, bitset uint32) int {
	woken := 0
	kept := b.waiters[:0]
	for _, w := range b.waiters {
		if woken < n && w.m == m && w.addr.Load() == addr && w.bitset&bitset != 0 {
			w.woken.Store(true)
			w.t.notify()
			woken++
			continue
		}
		kept = append(kept, w)
	}
	clear(b.waiters[len(kept):])
	b.waiters = kept
	return woken
}

// FutexRequeue implements FUTEX_REQUEUE and FUTEX_CMP_REQUEUE: wake up to
// nWake waiters of addr, move up to nRequeue others to addr2, and return
// the number woken plus requeued. With cmp set, the word at addr must
// hold cmpVal (EAGAIN otherwise).
func (t *Task) FutexRequeue(addr, addr2 uintptr, nWake, nRequeue int, cmp bool, cmpVal uint32) (int, error) {
	ft := &t.k.futexes
	m := t.mm
	i1, i2 := bucketIndex(addr), bucketIndex(addr2)
	b1, b2 := &ft.buckets[i1], &ft.buckets[i2]
	switch {
	case i1 == i2:
		b1.mu.Lock()
		defer b1.mu.Unlock()
	case i1 < i2:
		b1.mu.Lock()
		b2.mu.Lock()
		defer b1.mu.Unlock()
		defer b2.mu.Unlock()
	default:
		b2.mu.Lock()
		b1.mu.Lock()
		defer b2.mu.Unlock()
		defer b1.mu.Unlock()
	}
	if cmp {
		cur, err := readFutexWord(m, addr)
		if err != nil {
			return 0, err
		}
		if cur != cmpVal {
			return 0, unix.EAGAIN
		}
	}
	woken := b1.wakeLocked(m, addr, nWake, futexBitsetAny)
	moved := 0
	kept := b1.waiters[:0]
	var movers []*futexWaiter
	for _, w := range b1.waiters {
		if moved < nRequeue && w.m == m && w.addr.Load() == addr {
			moved++
			movers = append(movers, w)
			continue
		}
		kept = append(kept, w)
	}
	clear(b1.waiters[len(kept):])
	b1.waiters = kept
	for _, w := range movers {
		w.addr.Store(addr2)
		b2.waiters = append(b2.waiters, w)
	}
	return woken + moved, nil
}

// sleepUntil blocks until the task is notified (nil), the deadline passes
// (ETIMEDOUT; the zero time never does) or a signal or exit interrupts
// it (EINTR). Wake-ups may be spurious: callers recheck.
func (t *Task) sleepUntil(deadline time.Time) error {
	if t.interrupted() {
		return unix.EINTR
	}
	if deadline.IsZero() {
		<-t.wake
	} else {
		d := time.Until(deadline)
		if d <= 0 {
			return unix.ETIMEDOUT
		}
		t.timer.Reset(d)
		select {
		case <-t.wake:
			if !t.timer.Stop() {
				<-t.timer.C
			}
		case <-t.timer.C:
			return unix.ETIMEDOUT
		}
	}
	if t.interrupted() {
		return unix.EINTR
	}
	return nil
}
