// Package tty is the sandbox's terminal layer: the line discipline
// (termios input and output processing, canonical editing, echo, the
// signal characters, VMIN/VTIME) and pseudo-terminal pairs whose two ends
// are vfs files. devpts (sentry/fs/dev) makes the pairs; host terminals
// (sentry/fs/host) share the job-control part (Jobs) with them.
//
// Locking: LineDiscipline.mu → a wait queue's lock; Jobs.mu is a leaf and
// is never held while signals are sent (the kernel's Kernel.mu is taken
// by SignalProcessGroup after it is released). PTY.mu → LineDiscipline.mu.
package tty

import (
	"encoding/binary"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// TermiosSize is the size of the kernel's struct termios (four tcflag_t,
// c_line, c_cc[19]; no speeds, unlike glibc's struct), the same on amd64
// and arm64. WinsizeSize is struct winsize's.
const (
	TermiosSize = 4*4 + 1 + NCCS
	WinsizeSize = 4 * 2
	// NCCS is the kernel's number of control characters.
	NCCS = 19
)

// Indexes of c_cc (asm-generic/termbits.h).
const (
	VINTR    = 0
	VQUIT    = 1
	VERASE   = 2
	VKILL    = 3
	VEOF     = 4
	VTIME    = 5
	VMIN     = 6
	VSTART   = 8
	VSTOP    = 9
	VSUSP    = 10
	VEOL     = 11
	VREPRINT = 12
	VWERASE  = 14
	VLNEXT   = 15
	VEOL2    = 16
)

// disabled is _POSIX_VDISABLE: a c_cc slot holding it matches nothing.
const disabled = 0

// Termios is the kernel's struct termios.
type Termios struct {
	Iflag, Oflag, Cflag, Lflag uint32
	Line                       uint8
	Cc                         [NCCS]uint8
}

// defaultCc is the kernel's INIT_C_CC: ^C ^\ DEL ^U ^D, VTIME 0, VMIN 1,
// ^Q ^S ^Z, ^R ^O ^W ^V.
var defaultCc = [NCCS]uint8{3, 034, 0177, 025, 4, 0, 1, 0, 021, 023, 032, 0, 022, 017, 027, 026, 0}

// DefaultSlaveTermios is what a new pty slave starts with: the kernel's
// tty_std_termios with the pty driver's c_cflag (B38400|CS8|CREAD).
func DefaultSlaveTermios() Termios {
	return Termios{
		Iflag: unix.ICRNL | unix.IXON,
		Oflag: unix.OPOST | unix.ONLCR,
		Cflag: unix.B38400 | unix.CS8 | unix.CREAD,
		Lflag: unix.ISIG | unix.ICANON | unix.ECHO | unix.ECHOE | unix.ECHOK |
			unix.ECHOCTL | unix.ECHOKE | unix.IEXTEN,
		Cc: defaultCc,
	}
}

// Encode writes t as the kernel's struct termios into b (TermiosSize).
func (t *Termios) Encode(b []byte) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], t.Iflag)
	le.PutUint32(b[4:], t.Oflag)
	le.PutUint32(b[8:], t.Cflag)
	le.PutUint32(b[12:], t.Lflag)
	b[16] = t.Line
	copy(b[17:], t.Cc[:])
}

// Decode reads a struct termios from b (TermiosSize).
func (t *Termios) Decode(b []byte) {
	le := binary.LittleEndian
	t.Iflag, t.Oflag = le.Uint32(b[0:]), le.Uint32(b[4:])
	t.Cflag, t.Lflag = le.Uint32(b[8:]), le.Uint32(b[12:])
	t.Line = b[16]
	copy(t.Cc[:], b[17:17+NCCS])
}

// FromUnix converts x/sys/unix's Termios (the same kernel struct).
func FromUnix(u *unix.Termios) Termios {
	t := Termios{Iflag: u.Iflag, Oflag: u.Oflag, Cflag: u.Cflag, Lflag: u.Lflag, Line: u.Line}
	copy(t.Cc[:], u.Cc[:])
	return t
}

// ToUnix converts t to x/sys/unix's Termios, keeping the speeds of base.
func (t *Termios) ToUnix(base *unix.Termios) *unix.Termios {
	u := *base
	u.Iflag, u.Oflag, u.Cflag, u.Lflag, u.Line = t.Iflag, t.Oflag, t.Cflag, t.Lflag, t.Line
	copy(u.Cc[:], t.Cc[:])
	return &u
}

// CopyInTermios reads a struct termios from app memory at addr.
func CopyInTermios(io vfs.IOContext, addr uintptr) (Termios, error) {
	var b [TermiosSize]byte
	if n, err := io.CopyIn(addr, b[:]); err != nil || n != len(b) {
		return Termios{}, unix.EFAULT
	}
	var t Termios
	t.Decode(b[:])
	return t, nil
}

// CopyOutTermios writes t to app memory at addr.
func CopyOutTermios(io vfs.IOContext, addr uintptr, t *Termios) error {
	var b [TermiosSize]byte
	t.Encode(b[:])
	return copyOut(io, addr, b[:])
}

// CopyInWinsize reads a struct winsize from app memory at addr.
func CopyInWinsize(io vfs.IOContext, addr uintptr) (unix.Winsize, error) {
	var b [WinsizeSize]byte
	if n, err := io.CopyIn(addr, b[:]); err != nil || n != len(b) {
		return unix.Winsize{}, unix.EFAULT
	}
	le := binary.LittleEndian
	return unix.Winsize{Row: le.Uint16(b[0:]), Col: le.Uint16(b[2:]), Xpixel: le.Uint16(b[4:]), Ypixel: le.Uint16(b[6:])}, nil
}

// CopyOutWinsize writes w to app memory at addr.
func CopyOutWinsize(io vfs.IOContext, addr uintptr, w *unix.Winsize) error {
	var b [WinsizeSize]byte
	le := binary.LittleEndian
	le.PutUint16(b[0:], w.Row)
	le.PutUint16(b[2:], w.Col)
	le.PutUint16(b[4:], w.Xpixel)
	le.PutUint16(b[6:], w.Ypixel)
	return copyOut(io, addr, b[:])
}

// CopyInInt reads a C int from app memory at addr.
func CopyInInt(io vfs.IOContext, addr uintptr) (int32, error) {
	var b [4]byte
	if n, err := io.CopyIn(addr, b[:]); err != nil || n != len(b) {
		return 0, unix.EFAULT
	}
	return int32(binary.LittleEndian.Uint32(b[:])), nil
}

// CopyOutInt writes a C int to app memory at addr.
func CopyOutInt(io vfs.IOContext, addr uintptr, v int32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(v))
	return copyOut(io, addr, b[:])
}

func copyOut(io vfs.IOContext, addr uintptr, b []byte) error {
	n, err := io.CopyOut(addr, b)
	if err != nil || n != len(b) {
		return unix.EFAULT
	}
	return nil
}
