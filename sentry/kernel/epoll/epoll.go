// Package epoll implements epoll(7) instances in the sentry: an interest
// list of (file, descriptor) pairs, a ready list fed by the watched
// files' wait queues, level- and edge-triggered and one-shot reporting,
// and nesting (an epoll file is itself pollable).
//
// Watched files are held without a reference, as Linux does: closing a
// descriptor keeps its registration while the open file description lives
// on in another descriptor, and the description's last reference takes it
// out of every interest list (vfs.File.AddReleaseHook).
//
// Locking, outermost first:
//   - nestMu (package level, Linux's epnested_mutex) serialises the
//     nesting bookkeeping (children, parents) and the ELOOP check.
//   - EventPoll.ctlMu (Linux's ep->mtx) serialises changes to the
//     interest list and scans of the ready list. It is held while calling
//     watched files (Readiness, EventRegister, EventUnregister). An outer
//     epoll's ctlMu is taken before an inner one's; ELOOP keeps that order
//     acyclic. It is never taken by a notification.
//   - the watched files' own locks and wait queues.
//   - EventPoll.mu (Linux's ep->lock) guards the ready list; notification
//     callbacks take it under the notifying queue's lock, so nothing else
//     is taken or called while it is held.
//   - EventPoll.queue's lock (taken after mu is released).
package epoll

import (
	"container/list"
	"sync"
	"sync/atomic"
	"time"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Event bits that are not readiness but modify how an item reports
// (linux/eventpoll.h).
const (
	EPOLLEXCLUSIVE = 1 << 28
	EPOLLWAKEUP    = 1 << 29
	EPOLLONESHOT   = 1 << 30
	EPOLLET        = 1 << 31

	// privateBits are Linux's EP_PRIVATE_BITS: an item whose events hold
	// nothing else (a fired one-shot) reports nothing.
	privateBits = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE
	// exclusiveOK are the only bits EPOLLEXCLUSIVE may come with.
	exclusiveOK = uint32(vfs.EventIn|vfs.EventOut|vfs.EventErr|vfs.EventHUp) |
		EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE
	// maxNests is Linux's EPOLL_MAX_NESTS: at most five epoll instances
	// in a chain.
	maxNests = 4
)

// epoll_ctl operations.
const (
	CtlAdd = 1
	CtlDel = 2
	CtlMod = 3
)

// Event is struct epoll_event.
type Event struct {
	Events uint32
	Data   uint64
}

// key identifies an item: Linux's epoll_filefd.
type key struct {
	file *vfs.File
	fd   int32
}

// nestMu guards every EventPoll's children and parents and makes the
// ELOOP check and the link it allows one step. It is package level
// because a cycle spans instances: two adds racing in opposite
// directions must see each other (Linux has one global mutex too).
var nestMu sync.Mutex

// EventPoll is one epoll instance: the vfs.FileImpl of its file.
type EventPoll struct {
	// queue holds whoever waits for this instance to have events:
	// epoll_wait callers, poll, and epoll instances watching it.
	queue vfs.WaitQueue

	// ctlMu guards items, polled, and each item's data and lastSeen.
	ctlMu sync.Mutex
	items map[key]*item
	// polled are the items whose file cannot notify (host
	// descriptors): every scan asks them.
	polled map[*item]struct{}

	// mu guards ready and each item's elem.
	mu    sync.Mutex
	ready list.List

	// children and parents count the items linking this instance to
	// other epoll instances it watches or that watch it.
	// Guarded by nestMu.
	children map[*EventPoll]int
	parents  map[*EventPoll]int
}

// item is one entry of the interest list (Linux's epitem).
type item struct {
	ep    *EventPoll
	key   key
	w     vfs.Waitable
	entry *vfs.WaitEntry
	// child is the instance the file is, when it is an epoll file.
	child *EventPoll
	// events are the requested events and flags; atomic because the
	// notification callback reads them without ctlMu.
	events atomic.Uint32
	// data is returned with every event. Guarded by ep.ctlMu.
	data uint64
	// lastSeen is, for an edge-triggered polled item, the readiness
	// already reported (an edge is a bit that was not). Guarded by
	// ep.ctlMu.
	lastSeen vfs.EventMask
	// elem is the item's place on the ready list, nil when it is not on
	// it. Guarded by ep.mu.
	elem *list.Element
}

var (
	_ vfs.FileImpl = (*EventPoll)(nil)
	_ vfs.Waitable = (*EventPoll)(nil)
)

// New returns a file with one reference holding a new, empty instance.
func New() *vfs.File {
	ep := &EventPoll{items: map[key]*item{}, polled: map[*item]struct{}{}}
	return vfs.NewFile(ep, unix.O_RDWR, vfs.Location{})
}

// FromFile returns the instance f holds, or nil when f is no epoll file.
func FromFile(f *vfs.File) *EventPoll {
	ep, _ := f.Impl().(*EventPoll)
	return ep
}

// Ctl implements epoll_ctl once both descriptors are resolved: epf is the
// epoll file, tf the target file open at fd. The checks come in Linux's
// order: EPERM for a target that cannot be polled, EINVAL for an epf
// that is no epoll file or is the target, the EPOLLEXCLUSIVE rules, ELOOP,
// then EEXIST/ENOENT and EINVAL for an unknown op.
func Ctl(epf *vfs.File, op int, fd int32, tf *vfs.File, ev Event) error {
	w, ok := tf.Impl().(vfs.Waitable)
	if !ok {
		return unix.EPERM
	}
	ep := FromFile(epf)
	if ep == nil || epf == tf {
		return unix.EINVAL
	}
	// EPOLLWAKEUP needs CAP_BLOCK_SUSPEND and only keeps the system
	// awake; there is no suspend to prevent here.
	ev.Events &^= EPOLLWAKEUP
	child := FromFile(tf)
	if op != CtlDel && ev.Events&EPOLLEXCLUSIVE != 0 {
		if op == CtlMod {
			return unix.EINVAL
		}
		if op == CtlAdd && (child != nil || ev.Events&^exclusiveOK != 0) {
			return unix.EINVAL
		}
	}
	k := key{tf, fd}
	switch op {
	case CtlAdd:
		if child == nil {
			return ep.add(k, w, nil, ev)
		}
		nestMu.Lock()
		defer nestMu.Unlock()
		if ep.wouldLoop(child) {
			return unix.ELOOP
		}
		return ep.add(k, w, child, ev)
	case CtlDel:
		return ep.del(k)
	case CtlMod:
		return ep.mod(k, ev)
	}
	return unix.EINVAL
}

// wouldLoop reports whether ep watching child closes a cycle or makes a
// chain of more than maxNests+1 instances (Linux's ep_loop_check).
//
// Preconditions: nestMu is locked.
func (ep *EventPoll) wouldLoop(child *EventPoll) bool {
	if child.reaches(ep, 0) {
		return true
	}
	return child.depthDown(0)+1+ep.depthUp(0) > maxNests
}

// reaches reports whether target is ep or nested below it.
//
// Preconditions: nestMu is locked.
func (ep *EventPoll) reaches(target *EventPoll, depth int) bool {
	if ep == target {
		return true
	}
	if depth > maxNests+1 {
		// Chains are never longer than this; stop rather than trust it.
		return true
	}
	for c := range ep.children {
		if c.reaches(target, depth+1) {
			return true
		}
	}
	return false
}

// depthDown is the longest chain of instances nested below ep.
//
// Preconditions: nestMu is locked.
func (ep *EventPoll) depthDown(depth int) int {
	best := 0
	for c := range ep.children {
		if depth > maxNests {
			return maxNests + 1
		}
		best = max(best, c.depthDown(depth+1)+1)
	}
	return best
}

// depthUp is the longest chain of instances watching ep.
//
// Preconditions: nestMu is locked.
func (ep *EventPoll) depthUp(depth int) int {
	best := 0
	for p := range ep.parents {
		if depth > maxNests {
			return maxNests + 1
		}
		best = max(best, p.depthUp(depth+1)+1)
	}
	return best
}

// link records that ep watches child through one more item.
//
// Preconditions: nestMu is locked.
func (ep *EventPoll) link(child *EventPoll) {
	if ep.children == nil {
		ep.children = map[*EventPoll]int{}
	}
	if child.parents == nil {
		child.parents = map[*EventPoll]int{}
	}
	ep.children[child]++
	child.parents[ep]++
}

// unlink undoes one link. It takes nestMu itself: callers hold ctlMu only
// until before it (nestMu comes first in the lock order).
func (ep *EventPoll) unlink(child *EventPoll) {
	nestMu.Lock()
	defer nestMu.Unlock()
	if ep.children[child]--; ep.children[child] <= 0 {
		delete(ep.children, child)
	}
	if child.parents[ep]--; child.parents[ep] <= 0 {
		delete(child.parents, ep)
	}
}

// add implements EPOLL_CTL_ADD.
//
// Preconditions: nestMu is locked if child is not nil.
func (ep *EventPoll) add(k key, w vfs.Waitable, child *EventPoll, ev Event) error {
	ep.ctlMu.Lock()
	defer ep.ctlMu.Unlock()
	if _, ok := ep.items[k]; ok {
		return unix.EEXIST
	}
	it := &item{ep: ep, key: k, w: w, child: child, data: ev.Data}
	it.events.Store(ev.Events | uint32(vfs.EventErr|vfs.EventHUp))
	ep.items[k] = it
	if child != nil {
		ep.link(child)
	}
	it.register()
	k.file.AddReleaseHook(it, it.fileReleased)
	ep.queueIfReady(it)
	return nil
}

// mod implements EPOLL_CTL_MOD: new events and data, then the item is
// looked at again as if just added. An EPOLLEXCLUSIVE item cannot be
// modified.
func (ep *EventPoll) mod(k key, ev Event) error {
	ep.ctlMu.Lock()
	defer ep.ctlMu.Unlock()
	it, ok := ep.items[k]
	if !ok {
		return unix.ENOENT
	}
	if it.events.Load()&EPOLLEXCLUSIVE != 0 {
		return unix.EINVAL
	}
	it.unregister()
	it.events.Store(ev.Events | uint32(vfs.EventErr|vfs.EventHUp))
	it.data = ev.Data
	it.lastSeen = 0
	it.register()
	ep.queueIfReady(it)
	return nil
}

// del implements EPOLL_CTL_DEL.
func (ep *EventPoll) del(k key) error {
	ep.ctlMu.Lock()
	it, ok := ep.items[k]
	if !ok {
		ep.ctlMu.Unlock()
		return unix.ENOENT
	}
	k.file.RemoveReleaseHook(it)
	ep.removeLocked(it)
	ep.ctlMu.Unlock()
	if it.child != nil {
		ep.unlink(it.child)
	}
	return nil
}

// fileReleased is the release hook of the item's file: its last
// reference is gone, so the item leaves the interest list.
func (it *item) fileReleased() {
	ep := it.ep
	ep.ctlMu.Lock()
	if ep.items[it.key] != it {
		// Removed meanwhile by EPOLL_CTL_DEL or the instance's release.
		ep.ctlMu.Unlock()
		return
	}
	ep.removeLocked(it)
	ep.ctlMu.Unlock()
	if it.child != nil {
		ep.unlink(it.child)
	}
}

// removeLocked takes it off the interest and ready lists and its file's
// wait queue. The caller unlinks it.child afterwards.
//
// Preconditions: ep.ctlMu is locked.
func (ep *EventPoll) removeLocked(it *item) {
	it.unregister()
	delete(ep.items, it.key)
	delete(ep.polled, it)
	ep.mu.Lock()
	if it.elem != nil {
		ep.ready.Remove(it.elem)
		it.elem = nil
	}
	ep.mu.Unlock()
}

// register puts a callback entry for the item's events on its file's
// queue, or marks it polled when the file cannot notify.
//
// Preconditions: ep.ctlMu is locked.
func (it *item) register() {
	mask := vfs.EventMask(it.events.Load() &^ privateBits)
	it.entry = vfs.NewCallbackEntry(mask, it.notify)
	if it.w.EventRegister(it.entry) {
		delete(it.ep.polled, it)
		return
	}
	it.ep.polled[it] = struct{}{}
}

// unregister undoes register. Once it returns no callback of the item is
// running or will run.
//
// Preconditions: ep.ctlMu is locked.
func (it *item) unregister() {
	if it.entry != nil {
		it.w.EventUnregister(it.entry)
		it.entry = nil
	}
}

// notify is the item's wait-queue callback: the file's readiness for some
// event may have changed, so the item goes on the ready list (to be
// checked by the next scan) and the instance's waiters are woken. It runs
// under the file's queue lock.
func (it *item) notify(ready vfs.EventMask) {
	ev := it.events.Load()
	if ev&^privateBits == 0 {
		// A one-shot item that fired waits for EPOLL_CTL_MOD.
		return
	}
	if ready != 0 && uint32(ready)&ev == 0 {
		return
	}
	ep := it.ep
	ep.mu.Lock()
	if it.elem == nil {
		it.elem = ep.ready.PushBack(it)
	}
	ep.mu.Unlock()
	ep.queue.Notify(vfs.EventIn | vfs.EventRdNorm)
}

// poll returns the item's current readiness within its events.
//
// Preconditions: ep.ctlMu is locked.
func (it *item) poll() vfs.EventMask {
	ev := it.events.Load()
	mask := vfs.EventMask(ev &^ privateBits)
	if mask == 0 {
		return 0
	}
	return vfs.Readiness(it.key.file, mask) & mask
}

// pollEdge is poll for a polled edge-triggered item: only bits that were
// not reported since they last went away count. report records them as
// seen.
//
// Preconditions: ep.ctlMu is locked.
func (it *item) pollEdge(report bool) vfs.EventMask {
	r := it.poll()
	it.lastSeen &= r
	fresh := r &^ it.lastSeen
	if fresh == 0 {
		return 0
	}
	if report {
		it.lastSeen |= r
	}
	return r
}

// queueIfReady puts a ready item on the ready list and wakes the
// waiters (after ADD and MOD, as Linux's ep_insert/ep_modify do).
//
// Preconditions: ep.ctlMu is locked.
func (ep *EventPoll) queueIfReady(it *item) {
	if _, polled := ep.polled[it]; polled {
		// Scans ask polled items anyway; wake the waiters so they do.
		ep.queue.Notify(vfs.EventIn | vfs.EventRdNorm)
		return
	}
	if it.poll() == 0 {
		return
	}
	ep.mu.Lock()
	if it.elem == nil {
		it.elem = ep.ready.PushBack(it)
	}
	ep.mu.Unlock()
	ep.queue.Notify(vfs.EventIn | vfs.EventRdNorm)
}

// takeReady empties the ready list and returns its items in order.
func (ep *EventPoll) takeReady() []*item {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	var items []*item
	for e := ep.ready.Front(); e != nil; e = e.Next() {
		it := e.Value.(*item)
		it.elem = nil
		items = append(items, it)
	}
	ep.ready.Init()
	return items
}

// collect returns up to maxEvents events (Linux's ep_send_events). Items on
// the ready list are asked for their readiness; one with none is
// dropped, a level-triggered one that reports goes back to the end of
// the list (it will be asked again), an edge-triggered one leaves it, a
// one-shot one is disabled. Items not reached because maxEvents events were
// found stay at the front, in order.
func (ep *EventPoll) collect(maxEvents int) []Event {
	ep.ctlMu.Lock()
	defer ep.ctlMu.Unlock()
	scan := ep.takeReady()
	var out []Event
	var again []*item
	i := 0
	for ; i < len(scan) && len(out) < maxEvents; i++ {
		it := scan[i]
		r := it.poll()
		if r == 0 {
			continue
		}
		out = append(out, Event{Events: uint32(r), Data: it.data})
		if it.reported() {
			again = append(again, it)
		}
	}
	for it := range ep.polled {
		if len(out) >= maxEvents {
			break
		}
		var r vfs.EventMask
		if it.events.Load()&EPOLLET != 0 {
			r = it.pollEdge(true)
		} else {
			r = it.poll()
		}
		if r != 0 {
			out = append(out, Event{Events: uint32(r), Data: it.data})
			it.reported()
		}
	}
	rest := scan[i:]
	ep.mu.Lock()
	for j := len(rest) - 1; j >= 0; j-- {
		if rest[j].elem == nil {
			rest[j].elem = ep.ready.PushFront(rest[j])
		}
	}
	for _, it := range again {
		if it.elem == nil {
			it.elem = ep.ready.PushBack(it)
		}
	}
	ep.mu.Unlock()
	return out
}

// reported applies the item's flags after it reported an event: a
// one-shot item is disabled. It returns whether the item stays on the
// ready list (level-triggered).
//
// Preconditions: ep.ctlMu is locked.
func (it *item) reported() bool {
	ev := it.events.Load()
	if ev&EPOLLONESHOT != 0 {
		it.events.Store(ev & privateBits)
		return false
	}
	return ev&EPOLLET == 0
}

// hasEvents reports whether a scan would find an event, dropping items
// from the ready list that have none (Linux's ep_read_events_proc).
func (ep *EventPoll) hasEvents() bool {
	ep.ctlMu.Lock()
	defer ep.ctlMu.Unlock()
	scan := ep.takeReady()
	found := false
	var keep []*item
	for _, it := range scan {
		if found || it.poll() != 0 {
			found = true
			keep = append(keep, it)
		}
	}
	ep.mu.Lock()
	for j := len(keep) - 1; j >= 0; j-- {
		if keep[j].elem == nil {
			keep[j].elem = ep.ready.PushFront(keep[j])
		}
	}
	ep.mu.Unlock()
	if found {
		return true
	}
	for it := range ep.polled {
		if it.events.Load()&EPOLLET != 0 {
			if it.pollEdge(false) != 0 {
				return true
			}
			continue
		}
		if it.poll() != 0 {
			return true
		}
	}
	return false
}

// hasPolled reports whether some item must be asked from time to time.
func (ep *EventPoll) hasPolled() bool {
	ep.ctlMu.Lock()
	defer ep.ctlMu.Unlock()
	return len(ep.polled) > 0
}

// Polling intervals while some watched file cannot notify: quick at
// first, backing off while nothing happens (as poll does).
const (
	pollMin = time.Millisecond
	pollMax = 20 * time.Millisecond
)

// Wait implements epoll_wait's sleep: it returns up to maxEvents events, at
// once when some are ready or block is false, else after sleeping until
// some are, deadline passes (none; the zero time means never) or in is
// interrupted (EINTR).
func (ep *EventPoll) Wait(in vfs.Interruptible, maxEvents int, block bool, deadline time.Time) ([]Event, error) {
	if evs := ep.collect(maxEvents); len(evs) > 0 || !block {
		return evs, nil
	}
	e := vfs.NewWaitEntry(vfs.EventIn)
	ep.queue.Register(e)
	defer ep.queue.Unregister(e)
	tick := pollMin
	for {
		// Registered before this scan: an event after it is not lost.
		if evs := ep.collect(maxEvents); len(evs) > 0 {
			return evs, nil
		}
		until := deadline
		if ep.hasPolled() {
			next := time.Now().Add(tick)
			if until.IsZero() || next.Before(until) {
				until = next
			}
			tick = min(2*tick, pollMax)
		}
		err := vfs.Block(in, e.C(), until)
		switch {
		case err == unix.EINTR:
			return nil, unix.EINTR
		case err == unix.ETIMEDOUT && !deadline.IsZero() && !time.Now().Before(deadline):
			return ep.collect(maxEvents), nil
		case err != nil && err != unix.ETIMEDOUT:
			return nil, err
		}
	}
}

// Readiness implements vfs.Waitable: an instance is readable while a
// wait would return an event.
func (ep *EventPoll) Readiness(mask vfs.EventMask) vfs.EventMask {
	if mask&(vfs.EventIn|vfs.EventRdNorm) == 0 || !ep.hasEvents() {
		return 0
	}
	return (vfs.EventIn | vfs.EventRdNorm) & mask
}

// EventRegister implements vfs.Waitable. It returns false while the
// instance watches a file that cannot notify: its watcher must poll it.
func (ep *EventPoll) EventRegister(e *vfs.WaitEntry) bool {
	ep.queue.Register(e)
	return !ep.hasPolled()
}

// EventUnregister implements vfs.Waitable.
func (ep *EventPoll) EventUnregister(e *vfs.WaitEntry) { ep.queue.Unregister(e) }

// Release implements vfs.FileImpl: the instance's last reference is
// gone, so every item leaves its file's queue. Instances watching this
// one already dropped their items (release hooks run first).
func (ep *EventPoll) Release() {
	ep.ctlMu.Lock()
	var children []*EventPoll
	for _, it := range ep.items {
		it.key.file.RemoveReleaseHook(it)
		it.unregister()
		if it.child != nil {
			children = append(children, it.child)
		}
	}
	ep.items = map[key]*item{}
	ep.polled = map[*item]struct{}{}
	ep.mu.Lock()
	ep.ready.Init()
	ep.mu.Unlock()
	ep.ctlMu.Unlock()
	for _, c := range children {
		ep.unlink(c)
	}
}

// ProcLinkName is what /proc/PID/fd shows for an epoll descriptor.
func (ep *EventPoll) ProcLinkName() string { return "anon_inode:[eventpoll]" }

// Read fails as on Linux: an epoll file has no read operation.
func (ep *EventPoll) Read(*vfs.File, []byte) (int, error) { return 0, unix.EINVAL }

// Write fails as on Linux: an epoll file has no write operation.
func (ep *EventPoll) Write(*vfs.File, []byte) (int, error) { return 0, unix.EINVAL }

// PRead fails: an epoll file has no offsets.
func (ep *EventPoll) PRead(*vfs.File, []byte, int64) (int, error) { return 0, unix.ESPIPE }

// PWrite fails: an epoll file has no offsets.
func (ep *EventPoll) PWrite(*vfs.File, []byte, int64) (int, error) { return 0, unix.ESPIPE }

// Seek does nothing and returns 0 (noop_llseek).
func (ep *EventPoll) Seek(*vfs.File, int64, int) (int64, error) { return 0, nil }

// Stat reports an anonymous inode: mode 0600 with no file type.
func (ep *EventPoll) Stat(*vfs.File) (unix.Stat_t, error) {
	return unix.Stat_t{Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}

// Getdents fails: an epoll file is no directory.
func (ep *EventPoll) Getdents(*vfs.File, []byte) (int, error) { return 0, unix.ENOTDIR }

// Ioctl answers ENOTTY (the busy-poll EPIOC* requests are not offered).
func (ep *EventPoll) Ioctl(*vfs.File, uintptr, uintptr, vfs.IOContext) (uintptr, error) {
	return 0, unix.ENOTTY
}

// HostFD returns -1: the instance lives in the sentry.
func (ep *EventPoll) HostFD() int { return -1 }
