package lock

import "golang.org/x/sys/unix"

// Flock implements flock(2) for owner (an open file description) on file
// k. typ Unlock releases. With b nil the request does not wait and fails
// with EWOULDBLOCK on a conflict; otherwise it sleeps until the lock is
// free or b is interrupted (EINTR).
//
// As on Linux, converting a lock is not atomic: the old lock is dropped
// first, so a failed LOCK_NB conversion leaves the owner with no lock.
func (t *Table) Flock(k Key, owner any, typ Type, b Blocker) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	fl := t.file(k)
	for i, e := range fl.flocks {
		if e.owner != owner {
			continue
		}
		if e.typ == typ {
			return nil
		}
		fl.flocks = append(fl.flocks[:i], fl.flocks[i+1:]...)
		fl.wake()
		break
	}
	if typ == Unlock {
		t.tidy(k, fl, owner)
		return nil
	}
	for {
		if !fl.flockConflict(owner, typ) {
			fl.flocks = append(fl.flocks, flockEntry{owner: owner, typ: typ})
			t.claim(k, owner)
			return nil
		}
		if b == nil {
			t.tidy(k, fl, owner)
			return unix.EWOULDBLOCK
		}
		if err := t.wait(fl, b); err != nil {
			t.tidy(k, fl, owner)
			return err
		}
	}
}

// flockConflict reports whether another owner's flock lock stands in the
// way of a typ lock.
func (fl *fileLocks) flockConflict(owner any, typ Type) bool {
	for _, e := range fl.flocks {
		if e.owner != owner && conflicts(typ, e.typ) {
			return true
		}
	}
	return false
}
