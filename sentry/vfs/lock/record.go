package lock

import (
	"slices"

	"golang.org/x/sys/unix"
)

// Test implements F_GETLK: the first record lock (by start offset) of
// another owner that would stop owner from taking a typ lock on r, and
// whether there is one.
func (t *Table) Test(k Key, owner any, typ Type, r Range) (Record, bool) {
	if !t.Active() {
		return Record{}, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	fl := t.files[k]
	if fl == nil {
		return Record{}, false
	}
	return fl.recordConflict(owner, typ, r)
}

// recordConflict finds the first record of another owner that conflicts
// with a typ lock on r.
func (fl *fileLocks) recordConflict(owner any, typ Type, r Range) (Record, bool) {
	for _, c := range fl.records {
		if c.Owner != owner && c.Range.overlaps(r) && conflicts(typ, c.Type) {
			return c, true
		}
	}
	return Record{}, false
}

// Set implements F_SETLK, F_SETLKW and their OFD twins: it gives req.Owner
// a req.Type lock on req.Range (Unlock releases the range), splitting and
// merging the owner's records. With b nil a conflict fails with EAGAIN;
// otherwise the call sleeps until the range is free (EINTR when b is
// interrupted). A POSIX request (req.OFD false) that would wait for an
// owner who, through a chain of waiting owners, waits for req.Owner fails
// with EDEADLK instead.
func (t *Table) Set(k Key, req Record, b Blocker) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if req.Type == Unlock {
		fl := t.files[k]
		if fl == nil {
			return nil
		}
		fl.replace(req)
		fl.wake()
		t.tidy(k, fl, req.Owner)
		return nil
	}
	fl := t.file(k)
	for {
		c, ok := fl.recordConflict(req.Owner, req.Type, req.Range)
		if !ok {
			fl.replace(req)
			// Replacing may have weakened or shrunk the owner's
			// locks: let waiters look again.
			fl.wake()
			t.claim(k, req.Owner)
			return nil
		}
		if b == nil {
			t.tidy(k, fl, req.Owner)
			return unix.EAGAIN
		}
		if !req.OFD {
			if t.deadlock(req.Owner, c.Owner) {
				t.tidy(k, fl, req.Owner)
				return unix.EDEADLK
			}
			t.waiting[req.Owner] = c.Owner
		}
		err := t.wait(fl, b)
		delete(t.waiting, req.Owner)
		if err != nil {
			t.tidy(k, fl, req.Owner)
			return err
		}
	}
}

// deadlock reports whether owner waiting for blocker would close a cycle
// in the waits-for graph.
//
// Preconditions: t.mu is locked.
func (t *Table) deadlock(owner, blocker any) bool {
	o := blocker
	for range maxDeadlockSteps {
		next, ok := t.waiting[o]
		if !ok {
			return false
		}
		if next == owner {
			return true
		}
		o = next
	}
	return false
}

// replace makes req the owner's only lock state on req.Range: the
// owner's records there are cut away (split where they stick out), then
// req is inserted (unless it is an unlock) and merged with the owner's
// overlapping or adjacent records of the same type.
func (fl *fileLocks) replace(req Record) {
	out := make([]Record, 0, len(fl.records)+2)
	nr := req
	for _, r := range fl.records {
		if r.Owner != req.Owner {
			out = append(out, r)
			continue
		}
		if r.Type == req.Type && touches(r.Range, nr.Range) {
			// Same type, overlapping or adjacent: absorb it.
			nr.Range.Start = min(nr.Range.Start, r.Range.Start)
			nr.Range.End = max(nr.Range.End, r.Range.End)
			continue
		}
		if !r.Range.overlaps(req.Range) {
			out = append(out, r)
			continue
		}
		if r.Range.Start < req.Range.Start {
			left := r
			left.Range.End = req.Range.Start - 1
			out = append(out, left)
		}
		if r.Range.End > req.Range.End {
			right := r
			right.Range.Start = req.Range.End + 1
			out = append(out, right)
		}
	}
	if req.Type != Unlock {
		out = append(out, nr)
	}
	slices.SortStableFunc(out, func(a, b Record) int {
		switch {
		case a.Range.Start < b.Range.Start:
			return -1
		case a.Range.Start > b.Range.Start:
			return 1
		}
		return 0
	})
	fl.records = out
}

// touches reports whether a and b overlap or are adjacent.
func touches(a, b Range) bool {
	if a.overlaps(b) {
		return true
	}
	return (a.End != OffsetMax && a.End+1 == b.Start) || (b.End != OffsetMax && b.End+1 == a.Start)
}
