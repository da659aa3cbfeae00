package lock

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var k = Key{Dev: 1, Ino: 2}

// chanBlocker sleeps until ch closes or intr is closed.
type chanBlocker struct{ intr chan struct{} }

func (c chanBlocker) Block(ch <-chan struct{}, _ time.Time) error {
	select {
	case <-ch:
		return nil
	case <-c.intr:
		return unix.EINTR
	}
}

func rng(s, e int64) Range { return Range{s, e} }

func TestFlock(t *testing.T) {
	var tb Table
	a, b := new(int), new(int)
	steps := []struct {
		owner any
		typ   Type
		want  error
	}{
		{a, Read, nil},
		{b, Read, nil},
		{b, Write, unix.EWOULDBLOCK}, // a's shared lock is in the way; b's is gone
		{a, Write, nil},              // b holds nothing now
		{b, Read, unix.EWOULDBLOCK},
		{a, Unlock, nil},
		{b, Write, nil},
		{b, Write, nil}, // same type again: no-op
	}
	for i, s := range steps {
		if err := tb.Flock(k, s.owner, s.typ, nil); err != s.want {
			t.Fatalf("step %d: Flock = %v, want %v", i, err, s.want)
		}
	}
	tb.Release(b)
	if tb.Active() {
		t.Fatalf("table still active after releasing every owner")
	}
	if len(tb.files) != 0 {
		t.Fatalf("files not tidied: %v", tb.files)
	}
}

func TestFlockBlocksUntilRelease(t *testing.T) {
	var tb Table
	a, b := new(int), new(int)
	if err := tb.Flock(k, a, Write, nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- tb.Flock(k, b, Read, chanBlocker{make(chan struct{})}) }()
	select {
	case err := <-done:
		t.Fatalf("Flock returned %v while the file was locked", err)
	case <-time.After(20 * time.Millisecond):
	}
	tb.Release(a)
	if err := <-done; err != nil {
		t.Fatalf("Flock after release = %v", err)
	}
}

func TestFlockInterrupted(t *testing.T) {
	var tb Table
	a, b := new(int), new(int)
	_ = tb.Flock(k, a, Write, nil)
	intr := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- tb.Flock(k, b, Write, chanBlocker{intr}) }()
	time.Sleep(10 * time.Millisecond)
	close(intr)
	if err := <-done; err != unix.EINTR {
		t.Fatalf("interrupted Flock = %v, want EINTR", err)
	}
	tb.Release(a)
	if len(tb.files) != 0 || tb.Active() {
		t.Fatalf("state left behind: files %v active %v", tb.files, tb.Active())
	}
}

func TestRecordSplitMerge(t *testing.T) {
	a := new(int)
	type want struct {
		typ  Type
		s, e int64
	}
	cases := []struct {
		name string
		ops  []Record
		want []want
	}{
		{"merge adjacent", []Record{{Type: Write, Range: rng(0, 9)}, {Type: Write, Range: rng(10, 19)}},
			[]want{{Write, 0, 19}}},
		{"merge overlapping", []Record{{Type: Read, Range: rng(0, 9)}, {Type: Read, Range: rng(5, 30)}},
			[]want{{Read, 0, 30}}},
		{"split by unlock", []Record{{Type: Write, Range: rng(0, OffsetMax)}, {Type: Unlock, Range: rng(10, 19)}},
			[]want{{Write, 0, 9}, {Write, 20, OffsetMax}}},
		{"split by other type", []Record{{Type: Write, Range: rng(0, 99)}, {Type: Read, Range: rng(10, 19)}},
			[]want{{Write, 0, 9}, {Read, 10, 19}, {Write, 20, 99}}},
		{"downgrade whole", []Record{{Type: Write, Range: rng(5, 9)}, {Type: Read, Range: rng(0, 20)}},
			[]want{{Read, 0, 20}}},
		{"unlock all", []Record{{Type: Write, Range: rng(5, 9)}, {Type: Read, Range: rng(20, 29)}, {Type: Unlock, Range: rng(0, OffsetMax)}},
			nil},
		{"not adjacent", []Record{{Type: Read, Range: rng(0, 9)}, {Type: Read, Range: rng(11, 19)}},
			[]want{{Read, 0, 9}, {Read, 11, 19}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var tb Table
			for _, op := range c.ops {
				op.Owner = a
				if err := tb.Set(k, op, nil); err != nil {
					t.Fatalf("Set(%+v) = %v", op, err)
				}
			}
			var got []want
			if fl := tb.files[k]; fl != nil {
				for _, r := range fl.records {
					got = append(got, want{r.Type, r.Range.Start, r.Range.End})
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("records %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("records %v, want %v", got, c.want)
				}
			}
			if len(c.want) == 0 && (tb.Active() || len(tb.files) != 0) {
				t.Fatalf("empty table still active")
			}
		})
	}
}

func TestRecordConflicts(t *testing.T) {
	var tb Table
	a, b := new(int), new(int)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tb.Set(k, Record{Type: Read, Range: rng(0, 9), Owner: a, PID: 7}, nil))
	must(tb.Set(k, Record{Type: Read, Range: rng(5, 14), Owner: b}, nil))
	if err := tb.Set(k, Record{Type: Write, Range: rng(12, 20), Owner: a}, nil); err != unix.EAGAIN {
		t.Fatalf("write over b's read lock = %v, want EAGAIN", err)
	}
	if err := tb.Set(k, Record{Type: Write, Range: rng(15, 20), Owner: a}, nil); err != nil {
		t.Fatalf("write beside b's lock = %v", err)
	}
	c, ok := tb.Test(k, b, Write, rng(0, OffsetMax))
	if !ok || c.Owner != a || c.PID != 7 || c.Range != rng(0, 9) {
		t.Fatalf("Test = %+v %v, want a's read lock 0-9 pid 7", c, ok)
	}
	if _, ok := tb.Test(k, b, Read, rng(0, 9)); ok {
		t.Fatalf("read locks reported as conflicting")
	}
	tb.ReleaseFile(k, a)
	if _, ok := tb.Test(k, b, Write, rng(0, OffsetMax)); ok {
		t.Fatalf("a's locks survive ReleaseFile")
	}
	if !tb.Holds(b) || tb.Holds(a) {
		t.Fatalf("Holds: a %v b %v", tb.Holds(a), tb.Holds(b))
	}
}

func TestDeadlock(t *testing.T) {
	var tb Table
	a, b := new(int), new(int)
	k2 := Key{Dev: 1, Ino: 3}
	_ = tb.Set(k, Record{Type: Write, Range: rng(0, 0), Owner: a}, nil)
	_ = tb.Set(k2, Record{Type: Write, Range: rng(0, 0), Owner: b}, nil)
	done := make(chan error, 1)
	go func() {
		done <- tb.Set(k2, Record{Type: Write, Range: rng(0, 0), Owner: a}, chanBlocker{make(chan struct{})})
	}()
	// Wait until a is registered as waiting for b.
	for {
		tb.mu.Lock()
		_, w := tb.waiting[a]
		tb.mu.Unlock()
		if w {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := tb.Set(k, Record{Type: Write, Range: rng(0, 0), Owner: b}, chanBlocker{make(chan struct{})}); err != unix.EDEADLK {
		t.Fatalf("closing the cycle = %v, want EDEADLK", err)
	}
	tb.Release(b)
	if err := <-done; err != nil {
		t.Fatalf("a's wait after b released = %v", err)
	}
}
