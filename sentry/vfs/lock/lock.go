// Package lock is the sandbox's table of advisory file locks: flock(2)
// locks, POSIX record locks (fcntl F_SETLK) and open-file-description
// record locks (F_OFD_SETLK).
//
// Every application process of a sandbox lives inside one host process
// (the sentry), so host locks cannot tell them apart: the locks are kept
// here instead, keyed by the file's identity (device and inode number)
// and held by an owner the caller chooses:
//   - flock and OFD locks: the open file description (*vfs.File), so dup'd
//     descriptors and forked children share them, and the last close
//     releases them;
//   - POSIX locks: the fd table (struct files_struct on Linux), so threads
//     share them, fork does not inherit them, and closing any descriptor
//     of the file releases them.
//
// flock locks and record locks are independent of each other; POSIX and
// OFD record locks conflict with each other as on Linux.
package lock

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Type is a lock's kind.
type Type int8

const (
	// Unlock releases (F_UNLCK, LOCK_UN).
	Unlock Type = iota
	// Read is a shared lock (F_RDLCK, LOCK_SH).
	Read
	// Write is an exclusive lock (F_WRLCK, LOCK_EX).
	Write
)

// OffsetMax is the End of a range that runs to the end of the file
// and beyond (Linux's OFFSET_MAX).
const OffsetMax = math.MaxInt64

// maxDeadlockSteps bounds the walk of the waits-for chain, as Linux's
// MAX_DEADLK_ITERATIONS does.
const maxDeadlockSteps = 10

// Key identifies a file: its device and inode numbers.
type Key struct {
	Dev, Ino uint64
}

// Range is a byte range of a file, both ends inclusive (as struct
// file_lock's fl_start and fl_end); End is OffsetMax for "to the end".
type Range struct {
	Start, End int64
}

func (r Range) overlaps(o Range) bool { return r.Start <= o.End && o.Start <= r.End }

// Record is one record lock.
type Record struct {
	Type  Type
	Range Range
	// Owner holds the lock (an fd table for POSIX locks, an open file
	// description for OFD locks).
	Owner any
	// PID is the process that took a POSIX lock (F_GETLK's l_pid).
	PID int32
	// OFD is set for open-file-description locks (F_GETLK reports
	// l_pid -1 for them, and they take no part in deadlock detection).
	OFD bool
}

// Blocker is the task a blocking request sleeps as (*kernel.Task; the
// same method as vfs.Blocker).
type Blocker interface {
	// Block sleeps until ch receives or is closed (nil), or the task has
	// a signal to take or must exit (EINTR). Requests here pass the zero
	// deadline: lock waits have no timeout.
	Block(ch <-chan struct{}, deadline time.Time) error
}

// flockEntry is one flock(2) lock: always the whole file.
type flockEntry struct {
	owner any
	typ   Type
}

// fileLocks are the locks of one file.
type fileLocks struct {
	flocks []flockEntry
	// records are sorted by Range.Start; one owner's records never
	// overlap, and adjacent ones of the same type are merged.
	records []Record
	// changed is closed (and cleared) when a lock of the file is
	// released or weakened; waiters sleep on it and try again. nil
	// while nobody waits.
	changed chan struct{}
	// waiters counts tasks sleeping on changed: the entry stays in the
	// table while they do.
	waiters int
}

// Table holds a sandbox's locks. The zero Table is empty and ready.
type Table struct {
	// active is the number of owners holding any lock: closing a file
	// when it is zero (nearly always) costs one atomic load.
	active atomic.Int64

	// mu guards everything below. Locks are rare: one mutex for the
	// table keeps deadlock detection (which spans files) simple.
	mu    sync.Mutex
	files map[Key]*fileLocks
	// owners maps each owner to the files it holds locks on, so a
	// close releases them without asking the file system who it is.
	owners map[any]map[Key]struct{}
	// waiting maps a POSIX owner blocked in F_SETLKW to the owner of
	// the lock it waits for (the waits-for graph of EDEADLK).
	waiting map[any]any
}

// Active reports whether any lock is held at all (a cheap test before a
// Release that would need the file's key).
func (t *Table) Active() bool { return t.active.Load() != 0 }

// Holds reports whether owner holds any lock.
func (t *Table) Holds(owner any) bool {
	if !t.Active() {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.owners[owner]) != 0
}

// file returns k's entry, creating it.
//
// Preconditions: t.mu is locked.
func (t *Table) file(k Key) *fileLocks {
	if t.files == nil {
		t.files = map[Key]*fileLocks{}
		t.owners = map[any]map[Key]struct{}{}
		t.waiting = map[any]any{}
	}
	fl := t.files[k]
	if fl == nil {
		fl = &fileLocks{}
		t.files[k] = fl
	}
	return fl
}

// tidy forgets k's entry if nothing holds or waits on it, and forgets
// owner's claim on k if it holds nothing there any more.
//
// Preconditions: t.mu is locked.
func (t *Table) tidy(k Key, fl *fileLocks, owner any) {
	if owner != nil && !fl.holds(owner) {
		if keys, ok := t.owners[owner]; ok {
			delete(keys, k)
			if len(keys) == 0 {
				delete(t.owners, owner)
				t.active.Add(-1)
			}
		}
	}
	if len(fl.flocks) == 0 && len(fl.records) == 0 && fl.waiters == 0 {
		delete(t.files, k)
	}
}

// claim records that owner holds a lock on k.
//
// Preconditions: t.mu is locked.
func (t *Table) claim(k Key, owner any) {
	keys, ok := t.owners[owner]
	if !ok {
		keys = map[Key]struct{}{}
		t.owners[owner] = keys
		t.active.Add(1)
	}
	keys[k] = struct{}{}
}

// holds reports whether owner has a flock or a record on the file.
func (fl *fileLocks) holds(owner any) bool {
	for _, e := range fl.flocks {
		if e.owner == owner {
			return true
		}
	}
	for _, r := range fl.records {
		if r.Owner == owner {
			return true
		}
	}
	return false
}

// wake lets every waiter of the file try again.
func (fl *fileLocks) wake() {
	if fl.changed != nil {
		close(fl.changed)
		fl.changed = nil
	}
}

// wait sleeps on fl until it changes or b is interrupted.
//
// Preconditions: t.mu is locked; it is unlocked while sleeping and
// locked again on return.
func (t *Table) wait(fl *fileLocks, b Blocker) error {
	if fl.changed == nil {
		fl.changed = make(chan struct{})
	}
	ch := fl.changed
	fl.waiters++
	t.mu.Unlock()
	err := b.Block(ch, time.Time{})
	t.mu.Lock()
	fl.waiters--
	return err
}

// conflicts reports whether a lock of type a conflicts with one of type
// b held by someone else: only two read locks coexist.
func conflicts(a, b Type) bool { return a == Write || b == Write }

// Release drops every lock owner holds, on every file (the last close of
// an open file description: its flock and OFD locks).
func (t *Table) Release(owner any) {
	if !t.Active() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.owners[owner] {
		t.releaseLocked(k, owner)
	}
}

// ReleaseFile drops the locks owner holds on file k (closing any
// descriptor of a file drops the process's POSIX locks on it).
func (t *Table) ReleaseFile(k Key, owner any) {
	if !t.Active() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.owners[owner][k]; ok {
		t.releaseLocked(k, owner)
	}
}

// Preconditions: t.mu is locked.
func (t *Table) releaseLocked(k Key, owner any) {
	fl := t.files[k]
	if fl == nil {
		return
	}
	fs := fl.flocks[:0]
	for _, e := range fl.flocks {
		if e.owner != owner {
			fs = append(fs, e)
		}
	}
	clear(fl.flocks[len(fs):])
	fl.flocks = fs
	rs := fl.records[:0]
	for _, r := range fl.records {
		if r.Owner != owner {
			rs = append(rs, r)
		}
	}
	clear(fl.records[len(rs):])
	fl.records = rs
	fl.wake()
	t.tidy(k, fl, owner)
}
