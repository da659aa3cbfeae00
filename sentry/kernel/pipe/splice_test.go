package pipe

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestTransferAndTee(t *testing.T) {
	cases := []struct {
		name    string
		n       int
		consume bool
		moved   string
		left    string
	}{
		{"splice part", 3, true, "abc", "def"},
		{"splice all", 100, true, "abcdef", ""},
		{"tee part", 4, false, "abcd", "abcdef"},
	}
	for _, c := range cases {
		sr, sw := NewPipe(0, 0, unix.O_NONBLOCK)
		dr, dw := NewPipe(0, 0, unix.O_NONBLOCK)
		sw.Write([]byte("abcdef"))
		n, err := Transfer(PipeOf(sr), PipeOf(dw), c.n, c.consume)
		if err != nil || n != len(c.moved) {
			t.Errorf("%s: Transfer = %d, %v; want %d", c.name, n, err, len(c.moved))
		}
		buf := make([]byte, 16)
		got, _ := dr.Read(buf)
		if string(buf[:got]) != c.moved {
			t.Errorf("%s: destination has %q, want %q", c.name, buf[:got], c.moved)
		}
		got, _ = sr.Read(buf)
		if got < 0 {
			got = 0
		}
		if string(buf[:got]) != c.left {
			t.Errorf("%s: source has %q left, want %q", c.name, buf[:got], c.left)
		}
		for _, f := range []interface{ DecRef() }{sr, sw, dr, dw} {
			f.DecRef()
		}
	}
}

func TestTransferNoReader(t *testing.T) {
	sr, sw := NewPipe(0, 0, 0)
	defer sr.DecRef()
	defer sw.DecRef()
	dr, dw := NewPipe(0, 0, 0)
	defer dw.DecRef()
	dr.DecRef()
	sw.Write([]byte("x"))
	if _, err := Transfer(PipeOf(sr), PipeOf(dw), 1, true); err != unix.EPIPE {
		t.Fatalf("Transfer to a pipe without readers: %v, want EPIPE", err)
	}
	if err := PipeOf(dw).WaitWritable(false, nil); err != unix.EPIPE {
		t.Fatalf("WaitWritable without readers: %v, want EPIPE", err)
	}
	if PipeOf(sr).Queued() != 1 {
		t.Fatal("a failed transfer consumed the source")
	}
}

func TestTakeUnreadAndWaits(t *testing.T) {
	r, w := NewPipe(0, 0, 0)
	defer r.DecRef()
	p := PipeOf(r)
	if err := p.WaitReadable(true, nil); err != unix.EAGAIN {
		t.Fatalf("WaitReadable(nonblock) on an empty pipe: %v, want EAGAIN", err)
	}
	w.Write([]byte("hello"))
	buf := make([]byte, 8)
	n := p.Take(buf)
	p.Unread(buf[2:n])
	got := make([]byte, 8)
	if k, _ := r.Read(got); string(got[:k]) != "llo" {
		t.Fatalf("after Take and Unread the pipe holds %q, want llo", got[:k])
	}
	w.DecRef()
	if err := p.WaitReadable(false, nil); err != nil || !p.AtEOF() {
		t.Fatalf("WaitReadable at EOF: %v, AtEOF %v", err, p.AtEOF())
	}
	var in flag
	in.v.Store(true)
	r2, w2 := NewPipe(0, 0, 0)
	defer r2.DecRef()
	defer w2.DecRef()
	if err := PipeOf(r2).WaitReadable(false, &in); err != unix.EINTR {
		t.Fatalf("interrupted WaitReadable: %v, want EINTR", err)
	}
	PipeOf(w2).Put(make([]byte, DefaultSize))
	if err := PipeOf(w2).WaitWritable(false, &in); err != unix.EINTR {
		t.Fatalf("interrupted WaitWritable: %v, want EINTR", err)
	}
}
