package vfs

import (
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestWaitQueueNotifyByMask(t *testing.T) {
	var q WaitQueue
	in := NewWaitEntry(EventIn)
	out := in.WithMask(EventOut) // shares in's channel
	other := NewWaitEntry(EventOut)
	var got atomic.Uint32
	cb := NewCallbackEntry(EventPri, func(m EventMask) { got.Store(uint32(m)) })
	for _, e := range []*WaitEntry{in, other, cb} {
		q.Register(e)
	}
	q.Notify(EventIn)
	select {
	case <-in.C():
	default:
		t.Fatal("POLLIN entry not woken")
	}
	select {
	case <-other.C():
		t.Fatal("POLLOUT-only entry woken by POLLIN")
	default:
	}
	q.Notify(EventPri)
	if got.Load() != uint32(EventPri) {
		t.Fatalf("callback got %#x", got.Load())
	}
	// Errors and hangups wake every waiter.
	q.Register(out)
	q.Unregister(in)
	q.Notify(EventHUp)
	select {
	case <-out.C():
	default:
		t.Fatal("POLLHUP did not wake a POLLOUT entry")
	}
	q.Unregister(out)
	q.Notify(EventOut)
	select {
	case <-out.C():
		t.Fatal("unregistered entry woken")
	default:
	}
}

type flagIn struct{ v atomic.Bool }

func (f *flagIn) Interrupted() bool { return f.v.Load() }

func TestBlockFallback(t *testing.T) {
	ch := make(chan struct{}, 1)
	if err := Block(nil, ch, time.Now().Add(5*time.Millisecond)); err != unix.ETIMEDOUT {
		t.Fatalf("deadline: %v, want ETIMEDOUT", err)
	}
	ch <- struct{}{}
	if err := Block(nil, ch, time.Time{}); err != nil {
		t.Fatalf("token: %v", err)
	}
	in := &flagIn{}
	in.v.Store(true)
	if err := Block(in, ch, time.Time{}); err != unix.EINTR {
		t.Fatalf("interrupted: %v, want EINTR", err)
	}
}

// fifoInode records how it was opened.
type fifoInode struct {
	Inode
	in Interruptible
}

func (f *fifoInode) Open(int) (FileImpl, error) { return nil, unix.ENXIO }
func (f *fifoInode) OpenInterruptible(_ int, in Interruptible) (FileImpl, error) {
	f.in = in
	return nil, nil
}

func TestOpenInodePassesCaller(t *testing.T) {
	ino := &fifoInode{}
	caller := &flagIn{}
	if _, err := openInode(ino, 0, &Creds{Caller: caller}); err != nil || ino.in != caller {
		t.Fatalf("open with a caller: err %v, in %v", err, ino.in)
	}
	if _, err := openInode(ino, 0, &Creds{}); err != unix.ENXIO {
		t.Fatalf("open without a caller went to %v, want Open's ENXIO", err)
	}
}
