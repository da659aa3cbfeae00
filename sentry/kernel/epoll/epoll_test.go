package epoll_test

import (
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"moat/sentry/kernel/epoll"
	"moat/sentry/kernel/eventfd"
	"moat/sentry/kernel/pipe"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

const in = uint32(vfs.EventIn)

func newEventFD(t *testing.T) *vfs.File {
	t.Helper()
	f, err := eventfd.New(0, eventfd.NonBlock)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func signal(t *testing.T, f *vfs.File) {
	t.Helper()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], 1)
	if _, err := f.Write(b[:]); err != nil {
		t.Fatal(err)
	}
}

func drain(t *testing.T, f *vfs.File) {
	t.Helper()
	var b [8]byte
	if _, err := f.Read(b[:]); err != nil {
		t.Fatal(err)
	}
}

func ctl(t *testing.T, ep *vfs.File, op int, fd int32, f *vfs.File, events uint32, data uint64) {
	t.Helper()
	if err := epoll.Ctl(ep, op, fd, f, epoll.Event{Events: events, Data: data}); err != nil {
		t.Fatalf("epoll_ctl(%d, fd %d): %v", op, fd, err)
	}
}

// poll0 is epoll_wait with a zero timeout.
func poll0(ep *vfs.File) []epoll.Event {
	evs, _ := epoll.FromFile(ep).Wait(nil, 16, false, time.Time{})
	return evs
}

// TestTriggerModes checks how often one readable eventfd reports, per
// mode, over three waits.
func TestTriggerModes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events uint32
		want   []int // events per wait
	}{
		{"level", in, []int{1, 1, 1}},
		{"edge", in | epoll.EPOLLET, []int{1, 0, 0}},
		{"oneshot", in | epoll.EPOLLONESHOT, []int{1, 0, 0}},
		{"oneshot edge", in | epoll.EPOLLONESHOT | epoll.EPOLLET, []int{1, 0, 0}},
		{"nothing asked", 0, []int{0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep, efd := epoll.New(), newEventFD(t)
			defer ep.DecRef()
			defer efd.DecRef()
			ctl(t, ep, epoll.CtlAdd, 5, efd, tc.events, 77)
			signal(t, efd)
			for i, want := range tc.want {
				evs := poll0(ep)
				if len(evs) != want {
					t.Fatalf("wait %d: %d events %v, want %d", i, len(evs), evs, want)
				}
				if want == 1 && (evs[0].Data != 77 || evs[0].Events != in) {
					t.Fatalf("wait %d: event %+v, want data 77 events %#x", i, evs[0], in)
				}
			}
		})
	}
}

// TestCtlErrors checks the errors of epoll_ctl that need no descriptor
// table.
func TestCtlErrors(t *testing.T) {
	ep, efd := epoll.New(), newEventFD(t)
	defer ep.DecRef()
	defer efd.DecRef()
	ctl(t, ep, epoll.CtlAdd, 3, efd, in, 0)
	for _, tc := range []struct {
		name   string
		epf    *vfs.File
		op     int
		fd     int32
		events uint32
		want   error
	}{
		{"add twice", ep, epoll.CtlAdd, 3, in, unix.EEXIST},
		{"same file, other fd", ep, epoll.CtlAdd, 4, in, nil},
		{"mod missing", ep, epoll.CtlMod, 9, in, unix.ENOENT},
		{"del missing", ep, epoll.CtlDel, 9, 0, unix.ENOENT},
		{"bad op", ep, 7, 3, in, unix.EINVAL},
		{"not an epoll", efd, epoll.CtlAdd, 3, in, unix.EINVAL},
		{"exclusive mod", ep, epoll.CtlMod, 3, in | epoll.EPOLLEXCLUSIVE, unix.EINVAL},
		{"exclusive oneshot", ep, epoll.CtlAdd, 6, in | epoll.EPOLLEXCLUSIVE | epoll.EPOLLONESHOT, unix.EINVAL},
	} {
		err := epoll.Ctl(tc.epf, tc.op, tc.fd, efd, epoll.Event{Events: tc.events})
		if err != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// A file that cannot be polled: EPERM before anything else.
	if err := epoll.Ctl(efd, epoll.CtlAdd, 3, vfs.NewFile(plainFile{}, unix.O_RDONLY, vfs.Location{}), epoll.Event{}); err != unix.EPERM {
		t.Errorf("plain file: %v, want EPERM", err)
	}
	if err := epoll.Ctl(ep, epoll.CtlAdd, 3, ep, epoll.Event{Events: in}); err != unix.EINVAL {
		t.Errorf("itself: %v, want EINVAL", err)
	}
}

// plainFile is a FileImpl without readiness (a regular file).
type plainFile struct{ vfs.FileImpl }

func (plainFile) Release() {}

// TestLastReferenceRemoves checks that a registration lives as long as
// the open file description, not the descriptor.
func TestLastReferenceRemoves(t *testing.T) {
	ep, efd := epoll.New(), newEventFD(t)
	defer ep.DecRef()
	ctl(t, ep, epoll.CtlAdd, 3, efd, in, 1)
	signal(t, efd)
	efd.IncRef() // a dup
	efd.DecRef() // the registered descriptor closes
	if n := len(poll0(ep)); n != 1 {
		t.Fatalf("with a dup alive: %d events, want 1", n)
	}
	efd.DecRef() // the last reference
	if n := len(poll0(ep)); n != 0 {
		t.Fatalf("after the last reference: %d events, want 0", n)
	}
	if got := vfs.Readiness(ep, vfs.EventIn); got != 0 {
		t.Fatalf("epoll readiness %#x after its only file went, want 0", got)
	}
}

// TestNesting checks cycles and the depth limit (ELOOP) and that an
// inner instance's events reach the outer one.
func TestNesting(t *testing.T) {
	outer, inner, efd := epoll.New(), epoll.New(), newEventFD(t)
	defer outer.DecRef()
	defer inner.DecRef()
	defer efd.DecRef()
	ctl(t, inner, epoll.CtlAdd, 3, efd, in, 1)
	ctl(t, outer, epoll.CtlAdd, 4, inner, in, 2)
	if err := epoll.Ctl(inner, epoll.CtlAdd, 5, outer, epoll.Event{Events: in}); err != unix.ELOOP {
		t.Errorf("cycle: %v, want ELOOP", err)
	}
	signal(t, efd)
	if evs := poll0(outer); len(evs) != 1 || evs[0].Data != 2 {
		t.Errorf("outer sees %v, want the inner instance (data 2)", evs)
	}
	drain(t, efd)
	if evs := poll0(outer); len(evs) != 0 {
		t.Errorf("outer sees %v after the drain, want nothing", evs)
	}
	// Five instances in a chain are allowed, a sixth is not.
	chain := []*vfs.File{epoll.New()}
	defer func() {
		for _, f := range chain {
			f.DecRef()
		}
	}()
	for i := 1; i < 6; i++ {
		next := epoll.New()
		chain = append(chain, next)
		err := epoll.Ctl(next, epoll.CtlAdd, 3, chain[i-1], epoll.Event{Events: in})
		want := error(nil)
		if i == 5 {
			want = unix.ELOOP
		}
		if err != want {
			t.Errorf("chain link %d: %v, want %v", i, err, want)
		}
	}
}

// interrupter is a vfs.Interruptible that reports interrupted once set.
type interrupter struct{ set atomic.Bool }

func (i *interrupter) Interrupted() bool { return i.set.Load() }

// TestWaitBlocks checks that a wait sleeps until a pipe write from
// another goroutine, times out, and gives up with EINTR.
func TestWaitBlocks(t *testing.T) {
	ep := epoll.New()
	defer ep.DecRef()
	r, w := pipe.NewPipe(0, 0, unix.O_NONBLOCK)
	defer r.DecRef()
	defer w.DecRef()
	ctl(t, ep, epoll.CtlAdd, 3, r, in|epoll.EPOLLET, 9)
	e := epoll.FromFile(ep)

	start := time.Now()
	evs, err := e.Wait(nil, 4, true, start.Add(30*time.Millisecond))
	if err != nil || len(evs) != 0 || time.Since(start) < 30*time.Millisecond {
		t.Fatalf("timeout: %v %v after %v", evs, err, time.Since(start))
	}

	go func() {
		time.Sleep(20 * time.Millisecond)
		w.Write([]byte("x"))
	}()
	evs, err = e.Wait(nil, 4, true, time.Now().Add(10*time.Second))
	if err != nil || len(evs) != 1 || evs[0].Data != 9 {
		t.Fatalf("woken: %v %v, want one event with data 9", evs, err)
	}

	var intr interrupter
	go func() {
		time.Sleep(20 * time.Millisecond)
		intr.set.Store(true)
	}()
	if _, err := e.Wait(&intr, 4, true, time.Time{}); err != unix.EINTR {
		t.Fatalf("interrupted wait: %v, want EINTR", err)
	}
}
