package tty

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeSignaller records the signals a terminal sends.
type fakeSignaller struct{ sent []unix.Signal }

func (f *fakeSignaller) SignalProcessGroup(_ int32, sig unix.Signal) { f.sent = append(f.sent, sig) }
func (f *fakeSignaller) SignalProcess(_ int32, sig unix.Signal)      { f.sent = append(f.sent, sig) }

// TestInput types at a default (canonical, echoing) terminal and checks
// what a read gets and what is echoed.
func TestInput(t *testing.T) {
	for _, tc := range []struct {
		name, typed, read, echo string
		setup                   func(*Termios)
	}{
		{name: "line", typed: "ab\r", read: "ab\n", echo: "ab\r\n"},
		{name: "erase", typed: "ab\x7fc\n", read: "ac\n", echo: "ab\b \bc\r\n"},
		{name: "erase control", typed: "a\x01\x7f\n", read: "a\n", echo: "a^A\b \b\b \b\r\n"},
		{name: "werase", typed: "one two\x17x\n", read: "one x\n", echo: "one two\b \b\b \b\b \bx\r\n"},
		{name: "kill echok", typed: "abc\x15d\n", read: "d\n", echo: "abc^U\r\nd\r\n",
			setup: func(t *Termios) { t.Lflag &^= unix.ECHOKE }},
		{name: "lnext", typed: "\x16\x15\n", read: "\x15\n", echo: "^\b^U\r\n"},
		{name: "eol", typed: "ab;", read: "ab;", echo: "ab;",
			setup: func(t *Termios) { t.Cc[VEOL] = ';' }},
		{name: "no echo, echonl", typed: "s\n", read: "s\n", echo: "\r\n",
			setup: func(t *Termios) { t.Lflag = t.Lflag&^unix.ECHO | unix.ECHONL }},
		{name: "inlcr", typed: "x\n\r", read: "x\r\n", echo: "x^M\r\n",
			setup: func(t *Termios) { t.Iflag |= unix.INLCR }},
		{name: "raw", typed: "\x7f\x15", read: "\x7f\x15", echo: "",
			setup: func(t *Termios) { t.Lflag &^= unix.ICANON | unix.ECHO }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm := DefaultSlaveTermios()
			if tc.setup != nil {
				tc.setup(&tm)
			}
			l := NewLineDiscipline(tm, &Jobs{})
			if _, err := l.WriteMaster([]byte(tc.typed), true, nil); err != nil {
				t.Fatal(err)
			}
			b := make([]byte, 64)
			n, err := l.ReadSlave(b, true, nil, func() bool { return false })
			if err != nil || string(b[:n]) != tc.read {
				t.Errorf("read %q, %v; want %q", b[:n], err, tc.read)
			}
			n, _ = l.ReadMaster(b, true, nil, func() bool { return false })
			if string(b[:n]) != tc.echo {
				t.Errorf("echo %q, want %q", b[:n], tc.echo)
			}
		})
	}
}

// TestSignalCharacters checks ^C, ^\ and ^Z signal the foreground group
// and flush the input, and SIGWINCH on a size change only.
func TestSignalCharacters(t *testing.T) {
	s := &fakeSignaller{}
	j := &Jobs{}
	j.Attach(7, 7, s)
	l := NewLineDiscipline(DefaultSlaveTermios(), j)
	l.WriteMaster([]byte("abc\x03\x1c\x1a"), true, nil)
	want := []unix.Signal{unix.SIGINT, unix.SIGQUIT, unix.SIGTSTP}
	if len(s.sent) != 3 || s.sent[0] != want[0] || s.sent[1] != want[1] || s.sent[2] != want[2] {
		t.Errorf("signals %v, want %v", s.sent, want)
	}
	if q := l.InputQueued(); q != 0 {
		t.Errorf("%d bytes queued after ^C, want the input flushed", q)
	}
	s.sent = nil
	l.SetWinsize(unix.Winsize{Row: 1, Col: 2})
	l.SetWinsize(unix.Winsize{Row: 1, Col: 2})
	if len(s.sent) != 1 || s.sent[0] != unix.SIGWINCH {
		t.Errorf("signals after two equal resizes %v, want one SIGWINCH", s.sent)
	}
}

// TestVTime checks VMIN 0 / VTIME 1 gives up after about 100 ms with 0.
func TestVTime(t *testing.T) {
	tm := DefaultSlaveTermios()
	tm.Lflag &^= unix.ICANON
	tm.Cc[VMIN], tm.Cc[VTIME] = 0, 1
	l := NewLineDiscipline(tm, &Jobs{})
	start := time.Now()
	n, err := l.ReadSlave(make([]byte, 4), false, nil, func() bool { return false })
	if n != 0 || err != nil || time.Since(start) < 90*time.Millisecond {
		t.Errorf("read = %d, %v after %v; want 0, nil after 100ms", n, err, time.Since(start))
	}
}
