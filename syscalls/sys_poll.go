package syscalls

import (
	"time"

	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

const (
	// pollfdSize is sizeof(struct pollfd).
	pollfdSize = 8
	// hostPollMin and hostPollMax bound how often a wait that includes
	// host descriptors (which cannot notify the sentry) looks at them
	// again: quickly at first, backing off while nothing happens.
	hostPollMin = time.Millisecond
	hostPollMax = 20 * time.Millisecond
	// maxSelectFDs bounds the descriptors select looks at (fs.nr_open).
	maxSelectFDs = 1 << 20
)

// What select's three sets mean in poll events (fs/select.c).
const (
	selectIn  = vfs.EventIn | vfs.EventRdNorm | vfs.EventRdBand | vfs.EventHUp | vfs.EventErr
	selectOut = vfs.EventOut | vfs.EventWrNorm | vfs.EventWrBand | vfs.EventErr
	selectEx  = vfs.EventPri
)

// pollItem is one descriptor a poll or select waits on.
type pollItem struct {
	fd      int32
	events  vfs.EventMask
	revents vfs.EventMask
	// file is nil for a negative fd (ignored) or a bad one (POLLNVAL).
	file *vfs.File
}

// pollSet is the descriptors of one poll or select call and their files.
type pollSet []pollItem

// open takes a reference on every item's file; bad descriptors get
// POLLNVAL (poll) — select checks them itself before.
func (ps pollSet) open(t *kernel.Task) {
	ft := t.FDTable()
	for i := range ps {
		if ps[i].fd < 0 {
			continue
		}
		f, err := ft.Get(ps[i].fd)
		if err == nil {
			ps[i].file = f
		}
	}
}

// close drops the references open took.
func (ps pollSet) close() {
	for i := range ps {
		if ps[i].file != nil {
			ps[i].file.DecRef()
			ps[i].file = nil
		}
	}
}

// check computes every item's revents and returns how many have some.
func (ps pollSet) check() int {
	n := 0
	for i := range ps {
		it := &ps[i]
		switch {
		case it.fd < 0:
			it.revents = 0
		case it.file == nil:
			it.revents = vfs.EventNVal
		default:
			it.revents = vfs.Readiness(it.file, it.events)
		}
		if it.revents != 0 {
			n++
		}
	}
	return n
}

// wait is the heart of poll and select: it returns at once when some
// descriptor is ready or block is false, else sleeps until one is, the
// deadline passes (zero: never) or a signal comes (EINTR). Files that
// can notify wake the task through one shared wait entry; host
// descriptors are looked at again every few milliseconds.
func (ps pollSet) wait(t *kernel.Task, block bool, deadline time.Time) (int, error) {
	n := ps.check()
	if n > 0 || !block {
		return n, nil
	}
	base := vfs.NewWaitEntry(0)
	type reg struct {
		w vfs.Waitable
		e *vfs.WaitEntry
	}
	var regs []reg
	polled := false
	for i := range ps {
		if ps[i].file == nil {
			continue
		}
		w, ok := ps[i].file.Impl().(vfs.Waitable)
		if !ok {
			continue
		}
		e := base.WithMask(ps[i].events)
		if !w.EventRegister(e) {
			polled = true
		}
		regs = append(regs, reg{w, e})
	}
	defer func() {
		for _, r := range regs {
			r.w.EventUnregister(r.e)
		}
	}()
	tick := hostPollMin
	for {
		// Registered before this check: a change after it is not lost.
		if n := ps.check(); n > 0 {
			return n, nil
		}
		until := deadline
		if polled {
			next := time.Now().Add(tick)
			if until.IsZero() || next.Before(until) {
				until = next
			}
			tick = min(2*tick, hostPollMax)
		}
		err := t.Block(base.C(), until)
		switch {
		case err == unix.EINTR:
			return 0, unix.EINTR
		case err == unix.ETIMEDOUT && !deadline.IsZero() && !time.Now().Before(deadline):
			return ps.check(), nil
		case err != nil && err != unix.ETIMEDOUT:
			return 0, err
		}
	}
}

// deadlineAfter turns a relative timeout into a deadline; block is false
// for a zero timeout.
func deadlineAfter(ts timespec) (deadline time.Time, block bool) {
	d := time.Duration(ts.sec)*time.Second + time.Duration(ts.nsec)
	if ts.sec > int64(time.Duration(1<<63-1)/time.Second)-1 {
		return time.Time{}, true // effectively forever
	}
	if d == 0 {
		return time.Time{}, false
	}
	return time.Now().Add(d), true
}

// remaining is the time left until deadline, 0 once it passed.
func remaining(deadline time.Time) timespec {
	d := time.Until(deadline)
	if d < 0 {
		d = 0
	}
	return timespec{int64(d / time.Second), int64(d % time.Second)}
}

// copyInPollFDs reads nfds struct pollfd.
func copyInPollFDs(t *kernel.Task, addr uintptr, nfds uint64) (pollSet, []byte, error) {
	l, err := t.ThreadGroup().Rlimit(unix.RLIMIT_NOFILE)
	if err != nil {
		return nil, nil, err
	}
	if nfds > l.Cur || nfds > maxSelectFDs {
		return nil, nil, unix.EINVAL
	}
	raw := make([]byte, int(nfds)*pollfdSize)
	if nfds == 0 {
		// poll(NULL, 0, ms) is a common way to sleep.
		return nil, raw, nil
	}
	if err := copyInAll(t, addr, raw); err != nil {
		return nil, nil, err
	}
	ps := make(pollSet, nfds)
	for i := range ps {
		b := raw[i*pollfdSize:]
		ps[i].fd = int32(le.Uint32(b))
		ps[i].events = vfs.EventMask(le.Uint16(b[4:]))
	}
	return ps, raw, nil
}

// copyOutRevents writes the revents fields back.
func copyOutRevents(t *kernel.Task, addr uintptr, ps pollSet, raw []byte) error {
	if len(ps) == 0 {
		return nil
	}
	for i := range ps {
		le.PutUint16(raw[i*pollfdSize+6:], uint16(ps[i].revents))
	}
	return copyOutAll(t, addr, raw)
}

// doPoll is poll and ppoll once the timeout is known.
func doPoll(t *kernel.Task, addr uintptr, nfds uint64, block bool, deadline time.Time) (int, error) {
	ps, raw, err := copyInPollFDs(t, addr, nfds)
	if err != nil {
		return 0, err
	}
	ps.open(t)
	defer ps.close()
	n, err := ps.wait(t, block, deadline)
	if err != nil {
		return 0, err
	}
	return n, copyOutRevents(t, addr, ps, raw)
}

// sysPoll implements poll(2): timeout in milliseconds, negative for none.
// A signal restarts it (with the full timeout again: Linux's restart
// block would shorten it) unless a handler runs.
func sysPoll(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	ms := a.Int(2)
	block, deadline := true, time.Time{}
	switch {
	case ms == 0:
		block = false
	case ms > 0:
		deadline = time.Now().Add(time.Duration(ms) * time.Millisecond)
	}
	n, err := doPoll(t, a[0], uint64(a.Uint(1)), block, deadline)
	if err == unix.EINTR {
		return 0, kernel.ERESTART_RESTARTBLOCK
	}
	return uintptr(n), err
}

// copyInSigmask reads the optional signal mask of ppoll and pselect6:
// EINVAL unless size is sizeof(sigset_t).
func copyInSigmask(t *kernel.Task, addr, size uintptr) (kernel.SigSet, bool, error) {
	if addr == 0 {
		return 0, false, nil
	}
	if size != kernel.SigSetSize {
		return 0, false, unix.EINVAL
	}
	v, err := copyInU64(t, addr)
	if err != nil {
		return 0, false, err
	}
	return kernel.SigSet(v), true, nil
}

// copyInTimeout reads a timespec timeout (EINVAL if invalid); addr 0
// means none.
func copyInTimeout(t *kernel.Task, addr uintptr) (deadline time.Time, block bool, err error) {
	if addr == 0 {
		return time.Time{}, true, nil
	}
	ts, err := copyInValidTimespec(t, addr)
	if err != nil {
		return time.Time{}, false, err
	}
	deadline, block = deadlineAfter(ts)
	return deadline, block, nil
}

// sysPpoll implements ppoll(2): the remaining time is written back to
// the timespec, and the signal mask is in force only during the wait.
func sysPpoll(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	deadline, block, err := copyInTimeout(t, a[2])
	if err != nil {
		return 0, err
	}
	mask, haveMask, err := copyInSigmask(t, a[3], a[4])
	if err != nil {
		return 0, err
	}
	if haveMask {
		t.SetTemporarySignalMask(mask)
	}
	n, err := doPoll(t, a[0], uint64(a.Uint(1)), block, deadline)
	if haveMask {
		t.RestoreSignalMask(err == unix.EINTR)
	}
	writeBackTimeout(t, a[2], block, deadline, false)
	if err == unix.EINTR {
		return 0, kernel.ERESTARTNOHAND
	}
	return uintptr(n), err
}

// writeBackTimeout stores the time left, as timespec or (usec) timeval,
// at addr. Faults are ignored: the call itself succeeded.
func writeBackTimeout(t *kernel.Task, addr uintptr, block bool, deadline time.Time, timeval bool) {
	if addr == 0 || block && deadline.IsZero() {
		return
	}
	var left timespec
	if block {
		left = remaining(deadline)
	}
	if timeval {
		left.nsec /= 1000
	}
	_ = copyOutTimespec(t, addr, left)
}

// fdSetBytes is the size of an fd_set covering n descriptors (whole
// longs).
func fdSetBytes(n int) int { return (n + 63) / 64 * 8 }

// doSelect is select and pselect6 once the timeout is known.
func doSelect(t *kernel.Task, nfds int32, addrs [3]uintptr, block bool, deadline time.Time) (int, error) {
	if nfds < 0 {
		return 0, unix.EINVAL
	}
	// Linux reads, checks and writes back only the descriptors its
	// table has room for.
	n := min(int(nfds), maxSelectFDs, t.FDTable().SelectLimit())
	size := fdSetBytes(n)
	var sets [3][]byte
	for i, addr := range addrs {
		if addr == 0 {
			continue
		}
		sets[i] = make([]byte, size)
		if err := copyInAll(t, addr, sets[i]); err != nil {
			return 0, err
		}
	}
	isSet := func(set []byte, fd int) bool { return set != nil && set[fd/8]&(1<<(fd%8)) != 0 }
	masks := [3]vfs.EventMask{selectIn, selectOut, selectEx}
	var ps pollSet
	for fd := range n {
		var ev vfs.EventMask
		for i := range sets {
			if isSet(sets[i], fd) {
				ev |= masks[i]
			}
		}
		if ev != 0 {
			ps = append(ps, pollItem{fd: int32(fd), events: ev})
		}
	}
	ps.open(t)
	defer ps.close()
	for _, it := range ps {
		if it.file == nil {
			return 0, unix.EBADF
		}
	}
	if _, err := ps.wait(t, block, deadline); err != nil {
		return 0, err
	}
	count := 0
	for i := range sets {
		clear(sets[i])
	}
	for _, it := range ps {
		for i := range sets {
			if sets[i] != nil && it.revents&masks[i] != 0 && it.events&masks[i] != 0 {
				fd := int(it.fd)
				sets[i][fd/8] |= 1 << (fd % 8)
				count++
			}
		}
	}
	for i, addr := range addrs {
		if sets[i] == nil {
			continue
		}
		if err := copyOutAll(t, addr, sets[i]); err != nil {
			return 0, err
		}
	}
	return count, nil
}

// sysSelect implements select(2): the timeval is updated with the time
// left, as Linux does.
func sysSelect(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	block, deadline := true, time.Time{}
	if a[4] != 0 {
		tv, err := copyInTimespec(t, a[4])
		if err != nil {
			return 0, err
		}
		if tv.sec < 0 || tv.nsec < 0 {
			return 0, unix.EINVAL
		}
		// tv.nsec holds microseconds; more than a second carries over.
		ts := timespec{tv.sec + tv.nsec/1e6, tv.nsec % 1e6 * 1000}
		deadline, block = deadlineAfter(ts)
	}
	n, err := doSelect(t, a.Int(0), [3]uintptr{a[1], a[2], a[3]}, block, deadline)
	writeBackTimeout(t, a[4], block, deadline, true)
	if err == unix.EINTR {
		return 0, kernel.ERESTARTNOHAND
	}
	return uintptr(n), err
}

// sysPselect6 implements pselect6(2): a timespec (written back), and a
// sixth argument pointing at {const sigset_t *ss; size_t ss_len}.
func sysPselect6(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	deadline, block, err := copyInTimeout(t, a[4])
	if err != nil {
		return 0, err
	}
	var mask kernel.SigSet
	haveMask := false
	if a[5] != 0 {
		b := t.Scratch()[:16]
		if err := copyInAll(t, a[5], b); err != nil {
			return 0, err
		}
		if mask, haveMask, err = copyInSigmask(t, uintptr(le.Uint64(b)), uintptr(le.Uint64(b[8:]))); err != nil {
			return 0, err
		}
	}
	if haveMask {
		t.SetTemporarySignalMask(mask)
	}
	n, err := doSelect(t, a.Int(0), [3]uintptr{a[1], a[2], a[3]}, block, deadline)
	if haveMask {
		t.RestoreSignalMask(err == unix.EINTR)
	}
	writeBackTimeout(t, a[4], block, deadline, false)
	if err == unix.EINTR {
		return 0, kernel.ERESTARTNOHAND
	}
	return uintptr(n), err
}
