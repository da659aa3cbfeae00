package tty

import (
	"sync"
	"time"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

const (
	// inputMax is N_TTY_BUF_SIZE: the most input waiting to be read
	// (with the line being edited).
	inputMax = 4096
	// outputMax bounds what the slave may write before the master reads
	// it (a write then blocks).
	outputMax = 16384
)

// LineDiscipline is N_TTY for one pseudo-terminal: input typed at the
// master is processed (termios c_iflag, c_lflag) into what the slave
// reads; what the slave writes is processed (c_oflag) into what the
// master reads. Echoes go to the master's side too.
type LineDiscipline struct {
	jobs  *Jobs
	queue vfs.WaitQueue

	// mu guards the fields below.
	mu      sync.Mutex
	termios Termios
	winsize unix.Winsize
	// in is the input the slave can read. In canonical mode it holds
	// complete lines, ends are the offsets in in where each ends, and
	// eofs the ends that came from VEOF (no character stored); edit is
	// the line being edited.
	in   []byte
	ends []int
	edit []byte
	// lnext: the next character is taken literally (VLNEXT).
	lnext bool
	// out is what the master can read.
	out []byte
	// column is the output column (ONOCR, erasing).
	column int
	// stopped is output stopped by VSTOP (IXON).
	stopped bool
}

// NewLineDiscipline returns a discipline with termios t whose signal
// characters go to jobs' foreground group.
func NewLineDiscipline(t Termios, jobs *Jobs) *LineDiscipline {
	return &LineDiscipline{termios: t, jobs: jobs}
}

// Termios returns the current settings.
func (l *LineDiscipline) Termios() Termios {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.termios
}

// SetTermios implements TCSETS*: a switch out of canonical mode makes
// the line being edited readable; flush (TCSETSF) drops pending input.
func (l *LineDiscipline) SetTermios(t Termios, flush bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if flush {
		l.flushInputLocked()
	}
	wasCanon := l.canon()
	l.termios = t
	if wasCanon && !l.canon() {
		l.in = append(l.in, l.edit...)
		l.edit, l.ends = l.edit[:0], l.ends[:0]
	} else if !wasCanon && l.canon() && len(l.in) > 0 {
		l.ends = append(l.ends[:0], len(l.in))
	}
	if l.termios.Iflag&unix.IXON == 0 {
		l.stopped = false
	}
	l.queue.Notify(vfs.EventIn | vfs.EventOut | vfs.EventRdNorm | vfs.EventWrNorm)
}

// Winsize returns the window size.
func (l *LineDiscipline) Winsize() unix.Winsize {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.winsize
}

// SetWinsize implements TIOCSWINSZ: a change sends SIGWINCH to the
// foreground process group.
func (l *LineDiscipline) SetWinsize(w unix.Winsize) {
	l.mu.Lock()
	changed := l.winsize != w
	l.winsize = w
	l.mu.Unlock()
	if changed {
		l.jobs.SignalForeground(unix.SIGWINCH)
	}
}

// Flush implements TCFLSH: TCIFLUSH drops unread input, TCOFLUSH
// unread output, TCIOFLUSH both.
func (l *LineDiscipline) Flush(which int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch which {
	case unix.TCIFLUSH:
		l.flushInputLocked()
	case unix.TCOFLUSH:
		l.out = l.out[:0]
	case unix.TCIOFLUSH:
		l.flushInputLocked()
		l.out = l.out[:0]
	default:
		return unix.EINVAL
	}
	l.queue.Notify(vfs.EventOut | vfs.EventWrNorm)
	return nil
}

// Flow implements TCXONC: TCOOFF/TCOON stop and restart output;
// TCIOFF/TCION (sending STOP/START characters) are accepted.
func (l *LineDiscipline) Flow(action int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch action {
	case unix.TCOOFF:
		l.stopped = true
	case unix.TCOON:
		l.stopped = false
		l.queue.Notify(vfs.EventIn | vfs.EventRdNorm)
	case unix.TCIOFF, unix.TCION:
	default:
		return unix.EINVAL
	}
	return nil
}

// InputQueued is FIONREAD on the slave: bytes a read could return.
func (l *LineDiscipline) InputQueued() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.canon() && len(l.ends) == 0 {
		return 0
	}
	return len(l.in)
}

// OutputQueued is FIONREAD on the master: bytes it could read.
func (l *LineDiscipline) OutputQueued() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.out)
}

// Notify wakes every waiter (a side opened or closed).
func (l *LineDiscipline) Notify() {
	l.queue.Notify(vfs.EventIn | vfs.EventOut | vfs.EventHUp | vfs.EventErr | vfs.EventRdNorm | vfs.EventWrNorm)
}

// Register adds a waiter; Unregister removes it.
func (l *LineDiscipline) Register(e *vfs.WaitEntry) { l.queue.Register(e) }

// Unregister removes e.
func (l *LineDiscipline) Unregister(e *vfs.WaitEntry) { l.queue.Unregister(e) }

func (l *LineDiscipline) canon() bool { return l.termios.Lflag&unix.ICANON != 0 }

// flushInputLocked drops all input.
//
// Preconditions: l.mu is locked.
func (l *LineDiscipline) flushInputLocked() {
	l.in, l.ends, l.edit = l.in[:0], l.ends[:0], l.edit[:0]
	l.lnext = false
}

// slaveReadable reports whether a slave read would return data now.
//
// Preconditions: l.mu is locked.
func (l *LineDiscipline) slaveReadableLocked() bool {
	if l.canon() {
		return len(l.ends) > 0
	}
	return len(l.in) > 0
}

// inputRoomLocked is how many more input bytes fit.
//
// Preconditions: l.mu is locked.
func (l *LineDiscipline) inputRoomLocked() int {
	return inputMax - len(l.in) - len(l.edit)
}

// SlaveReadiness returns the slave side's events (hangup added by the
// caller).
func (l *LineDiscipline) SlaveReadiness() vfs.EventMask {
	l.mu.Lock()
	defer l.mu.Unlock()
	var r vfs.EventMask
	if l.slaveReadableLocked() {
		r |= vfs.EventIn | vfs.EventRdNorm
	}
	if len(l.out) < outputMax {
		r |= vfs.EventOut | vfs.EventWrNorm
	}
	return r
}

// MasterReadiness returns the master side's events.
func (l *LineDiscipline) MasterReadiness() vfs.EventMask {
	l.mu.Lock()
	defer l.mu.Unlock()
	var r vfs.EventMask
	if len(l.out) > 0 && !l.stopped {
		r |= vfs.EventIn | vfs.EventRdNorm
	}
	if l.inputRoomLocked() > 0 {
		r |= vfs.EventOut | vfs.EventWrNorm
	}
	return r
}

// readSlaveLocked takes input for a slave read into dst: one line in
// canonical mode (eof reports an end-of-file line), whatever is there
// otherwise. n is 0 when nothing could be taken.
//
// Preconditions: l.mu is locked.
func (l *LineDiscipline) readSlaveLocked(dst []byte) (n int, eof bool) {
	if l.canon() {
		if len(l.ends) == 0 {
			return 0, false
		}
		end := l.ends[0]
		if end == 0 {
			// An EOF line: the read returns 0.
			l.ends = l.ends[1:]
			return 0, true
		}
		n = copy(dst, l.in[:end])
		l.in = l.in[:copy(l.in, l.in[n:])]
		for i := range l.ends {
			l.ends[i] -= n
		}
		if l.ends[0] == 0 && n == end {
			l.ends = l.ends[1:]
		}
		return n, false
	}
	n = copy(dst, l.in)
	l.in = l.in[:copy(l.in, l.in[n:])]
	return n, false
}

// ReadSlave is a read on the slave: canonical lines, or VMIN/VTIME in
// raw mode. hungUp reports the master gone (the read returns 0).
func (l *LineDiscipline) ReadSlave(dst []byte, nonblock bool, in vfs.Interruptible, hungUp func() bool) (int, error) {
	e := vfs.NewWaitEntry(vfs.EventIn | vfs.EventHUp)
	l.queue.Register(e)
	defer l.queue.Unregister(e)
	var deadline time.Time
	done := 0
	for {
		if hungUp() {
			return done, nil
		}
		l.mu.Lock()
		canon := l.canon()
		vmin, vtime := int(l.termios.Cc[VMIN]), int(l.termios.Cc[VTIME])
		n, eof := l.readSlaveLocked(dst[done:])
		l.mu.Unlock()
		if n > 0 || eof {
			l.queue.Notify(vfs.EventOut | vfs.EventWrNorm)
		}
		done += n
		if canon {
			if n > 0 || eof {
				return done, nil
			}
		} else {
			want := min(vmin, len(dst))
			if done >= want && (done > 0 || vtime == 0) {
				return done, nil
			}
			if done == len(dst) {
				return done, nil
			}
			if vtime > 0 && (vmin == 0 && deadline.IsZero() || vmin > 0 && n > 0) {
				// VTIME is a total timeout without VMIN, an inter-byte
				// timer (restarted by each byte) with it.
				deadline = time.Now().Add(time.Duration(vtime) * 100 * time.Millisecond)
			}
		}
		if nonblock {
			if done > 0 {
				return done, nil
			}
			return 0, unix.EAGAIN
		}
		if err := vfs.Block(in, e.C(), deadline); err != nil {
			if err == unix.ETIMEDOUT {
				return done, nil
			}
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
	}
}

// ReadMaster is a read on the master: output the slave wrote and echoes.
// otherClosed reports every slave closed after one was opened (EIO once
// the data is read).
func (l *LineDiscipline) ReadMaster(dst []byte, nonblock bool, in vfs.Interruptible, otherClosed func() bool) (int, error) {
	e := vfs.NewWaitEntry(vfs.EventIn | vfs.EventHUp)
	l.queue.Register(e)
	defer l.queue.Unregister(e)
	for {
		l.mu.Lock()
		n := 0
		if !l.stopped {
			n = copy(dst, l.out)
			l.out = l.out[:copy(l.out, l.out[n:])]
		}
		l.mu.Unlock()
		if n > 0 {
			l.queue.Notify(vfs.EventOut | vfs.EventWrNorm)
			return n, nil
		}
		if otherClosed() {
			return 0, unix.EIO
		}
		if nonblock {
			return 0, unix.EAGAIN
		}
		if err := vfs.Block(in, e.C(), time.Time{}); err != nil {
			return 0, err
		}
	}
}

// WriteSlave is a write on the slave: output processing into what the
// master reads, blocking while that is full.
func (l *LineDiscipline) WriteSlave(src []byte, nonblock bool, in vfs.Interruptible, hungUp func() bool) (int, error) {
	e := vfs.NewWaitEntry(vfs.EventOut | vfs.EventHUp)
	l.queue.Register(e)
	defer l.queue.Unregister(e)
	done := 0
	for {
		if hungUp() {
			if done > 0 {
				return done, nil
			}
			return 0, unix.EIO
		}
		l.mu.Lock()
		for done < len(src) && len(l.out)+2 <= outputMax {
			l.outputLocked(src[done])
			done++
		}
		l.mu.Unlock()
		l.queue.Notify(vfs.EventIn | vfs.EventRdNorm)
		if done == len(src) {
			return done, nil
		}
		if nonblock {
			if done > 0 {
				return done, nil
			}
			return 0, unix.EAGAIN
		}
		if err := vfs.Block(in, e.C(), time.Time{}); err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
	}
}

// WriteMaster is a write on the master: each byte is typed at the
// terminal (input processing, editing, echo, signals), blocking while
// the input is full.
func (l *LineDiscipline) WriteMaster(src []byte, nonblock bool, in vfs.Interruptible) (int, error) {
	e := vfs.NewWaitEntry(vfs.EventOut)
	l.queue.Register(e)
	defer l.queue.Unregister(e)
	done := 0
	for {
		var sigs []unix.Signal
		l.mu.Lock()
		for done < len(src) && l.inputRoomLocked() > 0 {
			if sig := l.inputLocked(src[done]); sig != 0 {
				sigs = append(sigs, sig)
			}
			done++
		}
		l.mu.Unlock()
		l.queue.Notify(vfs.EventIn | vfs.EventRdNorm)
		for _, s := range sigs {
			l.jobs.SignalForeground(s)
		}
		if done == len(src) {
			return done, nil
		}
		if nonblock {
			if done > 0 {
				return done, nil
			}
			return 0, unix.EAGAIN
		}
		if err := vfs.Block(in, e.C(), time.Time{}); err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
	}
}

// iscntrl is the kernel's iscntrl for the Latin-1 range it handles.
func iscntrl(c byte) bool { return c < 32 || c == 127 }

// outputLocked appends c to the output after c_oflag processing
// (do_output_char).
//
// Preconditions: l.mu is locked.
func (l *LineDiscipline) outputLocked(c byte) {
	o := l.termios.Oflag
	if o&unix.OPOST == 0 {
		l.out = append(l.out, c)
		return
	}
	switch c {
	case '\n':
		if o&unix.ONLRET != 0 {
			l.column = 0
		}
		if o&unix.ONLCR != 0 {
			l.column = 0
			l.out = append(l.out, '\r', '\n')
			return
		}
	case '\r':
		if o&unix.ONOCR != 0 && l.column == 0 {
			return
		}
		if o&unix.OCRNL != 0 {
			c = '\n'
			if o&unix.ONLRET != 0 {
				l.column = 0
			}
			break
		}
		l.column = 0
	case '\t':
		l.column = (l.column | 7) + 1
	case '\b':
		if l.column > 0 {
			l.column--
		}
	default:
		if o&unix.OLCUC != 0 && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if !iscntrl(c) {
			l.column++
		}
	}
	l.out = append(l.out, c)
}

// echoLocked echoes c as echo_char does: control characters as ^X under
// ECHOCTL (tab excepted), others through output processing.
//
// Preconditions: l.mu is locked.
func (l *LineDiscipline) echoLocked(c byte) {
	if l.termios.Lflag&unix.ECHOCTL != 0 && iscntrl(c) && c != '\t' {
		l.out = append(l.out, '^', c^0o100)
		l.column += 2
		return
	}
	l.outputLocked(c)
}

// is reports whether c is the control character at index i (and that
// slot is not disabled).
//
// Preconditions: l.mu is locked.
func (l *LineDiscipline) is(c byte, i int) bool {
	v := l.termios.Cc[i]
	return v != disabled && c == v
}

// inputLocked processes one byte typed at the terminal and returns the
// signal it raises, if any.
//
// Preconditions: l.mu is locked.
func (l *LineDiscipline) inputLocked(c byte) unix.Signal {
	t := &l.termios
	if t.Iflag&unix.ISTRIP != 0 {
		c &= 0x7f
	}
	if l.lnext {
		l.lnext = false
		l.storeLocked(c, true)
		return 0
	}
	if t.Iflag&unix.IXON != 0 {
		if l.is(c, VSTOP) {
			l.stopped = true
			return 0
		}
		if l.is(c, VSTART) {
			l.stopped = false
			return 0
		}
		if t.Iflag&unix.IXANY != 0 {
			l.stopped = false
		}
	}
	if t.Lflag&unix.ISIG != 0 {
		var sig unix.Signal
		switch {
		case l.is(c, VINTR):
			sig = unix.SIGINT
		case l.is(c, VQUIT):
			sig = unix.SIGQUIT
		case l.is(c, VSUSP):
			sig = unix.SIGTSTP
		}
		if sig != 0 {
			if t.Lflag&unix.NOFLSH == 0 {
				l.flushInputLocked()
				l.out = l.out[:0]
			}
			if t.Lflag&unix.ECHO != 0 {
				l.echoLocked(c)
			}
			return sig
		}
	}
	switch c {
	case '\r':
		if t.Iflag&unix.IGNCR != 0 {
			return 0
		}
		if t.Iflag&unix.ICRNL != 0 {
			c = '\n'
		}
	case '\n':
		if t.Iflag&unix.INLCR != 0 {
			c = '\r'
		}
	}
	if l.canon() {
		if l.is(c, VERASE) || l.is(c, VKILL) || t.Lflag&unix.IEXTEN != 0 && l.is(c, VWERASE) {
			l.eraseLocked(c)
			return 0
		}
		if t.Lflag&unix.IEXTEN != 0 && l.is(c, VLNEXT) {
			l.lnext = true
			if t.Lflag&unix.ECHO != 0 && t.Lflag&unix.ECHOCTL != 0 {
				l.out = append(l.out, '^', '\b')
			}
			return 0
		}
		if c == '\n' {
			if t.Lflag&(unix.ECHO|unix.ECHONL) != 0 {
				l.outputLocked('\n')
			}
			l.edit = append(l.edit, c)
			l.endLineLocked()
			return 0
		}
		if l.is(c, VEOF) {
			l.endLineLocked()
			return 0
		}
		if l.is(c, VEOL) || t.Lflag&unix.IEXTEN != 0 && l.is(c, VEOL2) {
			if t.Lflag&unix.ECHO != 0 {
				l.echoLocked(c)
			}
			l.edit = append(l.edit, c)
			l.endLineLocked()
			return 0
		}
	}
	l.storeLocked(c, false)
	return 0
}

// storeLocked adds an ordinary character to the input, echoing it.
//
// Preconditions: l.mu is locked.
func (l *LineDiscipline) storeLocked(c byte, literal bool) {
	t := &l.termios
	if t.Lflag&unix.ECHO != 0 {
		if c == '\n' && !literal {
			l.outputLocked('\n')
		} else {
			l.echoLocked(c)
		}
	}
	if l.canon() {
		// A full line keeps room for its newline only (n_tty drops the
		// rest).
		if len(l.edit) < inputMax-1 {
			l.edit = append(l.edit, c)
		}
		return
	}
	l.in = append(l.in, c)
}

// endLineLocked makes the edited line readable.
//
// Preconditions: l.mu is locked.
func (l *LineDiscipline) endLineLocked() {
	l.in = append(l.in, l.edit...)
	l.edit = l.edit[:0]
	l.ends = append(l.ends, len(l.in))
}

// eraseLocked handles ERASE, WERASE and KILL in canonical mode (n_tty's
// eraser).
//
// Preconditions: l.mu is locked.
func (l *LineDiscipline) eraseLocked(c byte) {
	t := &l.termios
	if len(l.edit) == 0 {
		return
	}
	echo := t.Lflag&unix.ECHO != 0
	kill := l.is(c, VKILL)
	werase := !kill && !l.is(c, VERASE)
	if kill {
		if !echo {
			l.edit = l.edit[:0]
			return
		}
		if t.Lflag&unix.ECHOK == 0 || t.Lflag&unix.ECHOKE == 0 || t.Lflag&unix.ECHOE == 0 {
			l.edit = l.edit[:0]
			l.echoLocked(c)
			if t.Lflag&unix.ECHOK != 0 {
				l.outputLocked('\n')
			}
			return
		}
	}
	seenAlnum := false
	for len(l.edit) > 0 {
		e := l.edit[len(l.edit)-1]
		if werase {
			alnum := e == '_' || e >= '0' && e <= '9' || e >= 'a' && e <= 'z' || e >= 'A' && e <= 'Z'
			if alnum {
				seenAlnum = true
			} else if seenAlnum {
				break
			}
		}
		l.edit = l.edit[:len(l.edit)-1]
		if echo {
			switch {
			case !kill && !werase && t.Lflag&unix.ECHOE == 0:
				l.echoLocked(c)
			case iscntrl(e) && e != '\t' && t.Lflag&unix.ECHOCTL != 0:
				l.out = append(l.out, '\b', ' ', '\b', '\b', ' ', '\b')
			case !iscntrl(e) || t.Lflag&unix.ECHOCTL != 0:
				l.out = append(l.out, '\b', ' ', '\b')
			}
		}
		if !kill && !werase {
			break
		}
	}
}
