package mq

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestPriorityOrderAndLimits(t *testing.T) {
	r := NewRegistry()
	q, err := r.Create("q", 0o600, &Attr{MaxMsg: 3, MsgSize: 8}, Owner{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		s string
		p uint32
	}{{"a", 1}, {"b", 5}, {"c", 1}} {
		if err := q.Send([]byte(m.s), m.p, true, time.Time{}, nil, 1, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Send([]byte("d"), 0, true, time.Time{}, nil, 1, 0); err != unix.EAGAIN {
		t.Fatalf("full queue: %v, want EAGAIN", err)
	}
	if !strings.HasPrefix(q.Info(), "QSIZE:3 ") {
		t.Fatalf("info %q", q.Info())
	}
	var got string
	for i := 0; i < 3; i++ {
		b, _, err := q.Receive(true, time.Time{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got += string(b)
	}
	if got != "bac" {
		t.Fatalf("order %q, want bac", got)
	}
	if _, err := r.Create("q", 0o600, nil, Owner{}); err != unix.EEXIST {
		t.Fatalf("create twice: %v", err)
	}
	if _, err := r.Create("big", 0o600, &Attr{MaxMsg: 11, MsgSize: 8}, Owner{}); err != unix.EINVAL {
		t.Fatalf("unprivileged over msg_max: %v", err)
	}
	if err := r.Unlink("q", 1000, false); err != unix.EPERM {
		t.Fatalf("unlink by other: %v", err)
	}
	if err := r.Unlink("q", 0, false); err != nil {
		t.Fatal(err)
	}
}

func TestNotifyOnce(t *testing.T) {
	r := NewRegistry()
	q, _ := r.Create("n", 0o600, nil, Owner{})
	fired := 0
	if err := q.SetNotify(&Notification{PID: 5, Signo: 10, Fire: func(int32, uint32) { fired++ }}, 5); err != nil {
		t.Fatal(err)
	}
	if err := q.SetNotify(&Notification{PID: 6}, 6); err != unix.EBUSY {
		t.Fatalf("second registration: %v", err)
	}
	_ = q.Send([]byte("x"), 0, true, time.Time{}, nil, 1, 0)
	_ = q.Send([]byte("y"), 0, true, time.Time{}, nil, 1, 0)
	if fired != 1 {
		t.Fatalf("fired %d times, want 1", fired)
	}
}
