package host

import (
	"encoding/binary"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Sizes of the kernel's structs for TCGETS and TIOCGWINSZ: struct termios
// (four tcflag_t, c_line, c_cc[19]; no speeds, unlike glibc's) and struct
// winsize. They are the same on amd64 and arm64, both little endian.
const (
	termiosSize = 4*4 + 1 + 19
	winsizeSize = 4 * 2
)

// copyOutTermios writes t to app memory at addr as the kernel's struct
// termios.
func copyOutTermios(io vfs.IOContext, addr uintptr, t *unix.Termios) error {
	var b [termiosSize]byte
	le := binary.LittleEndian
	le.PutUint32(b[0:], t.Iflag)
	le.PutUint32(b[4:], t.Oflag)
	le.PutUint32(b[8:], t.Cflag)
	le.PutUint32(b[12:], t.Lflag)
	b[16] = t.Line
	copy(b[17:], t.Cc[:19])
	return copyOut(io, addr, b[:])
}

// copyOutWinsize writes w to app memory at addr as struct winsize.
func copyOutWinsize(io vfs.IOContext, addr uintptr, w *unix.Winsize) error {
	var b [winsizeSize]byte
	le := binary.LittleEndian
	le.PutUint16(b[0:], w.Row)
	le.PutUint16(b[2:], w.Col)
	le.PutUint16(b[4:], w.Xpixel)
	le.PutUint16(b[6:], w.Ypixel)
	return copyOut(io, addr, b[:])
}

func copyOut(io vfs.IOContext, addr uintptr, b []byte) error {
	n, err := io.CopyOut(addr, b)
	if err != nil {
		return err
	}
	if n != len(b) {
		return unix.EFAULT
	}
	return nil
}
