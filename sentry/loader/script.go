package loader

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

const (
	// binprmBufSize is how much of a file exec looks at to recognise its
	// format (BINPRM_BUF_SIZE, 256 since Linux 5.1): a "#!" line longer
	// than this is cut.
	binprmBufSize = 256
	// maxHandlerDepth is how many format handlers one exec may go
	// through. Linux's exec_binprm fails with ELOOP when depth > 5, and
	// the final ELF load counts: five nested scripts work, six do not
	// (checked against the host kernel).
	maxHandlerDepth = 5
)

// errNotScript says a file does not start with "#!".
var errNotScript = errors.New("not a #! script")

// readHead reads the first binprmBufSize bytes of f; a shorter file
// leaves the rest zero, as the kernel's zeroed buffer does.
func readHead(f File) ([binprmBufSize]byte, error) {
	var buf [binprmBufSize]byte
	_, err := f.ReadAt(buf[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return buf, fmt.Errorf("loader: %s: read header: %w", f.Name(), err)
	}
	return buf, nil
}

func spaceTab(c byte) bool { return c == ' ' || c == '\t' }

// nextNonSpaceTab returns the index of the first byte in buf[first:last+1]
// that is not a space or tab, or -1.
func nextNonSpaceTab(buf []byte, first, last int) int {
	for ; first <= last; first++ {
		if !spaceTab(buf[first]) {
			return first
		}
	}
	return -1
}

// nextTerminator returns the index of the first space, tab or NUL in
// buf[first:last+1], or -1.
func nextTerminator(buf []byte, first, last int) int {
	for ; first <= last; first++ {
		if spaceTab(buf[first]) || buf[first] == 0 {
			return first
		}
	}
	return -1
}

// cString returns b up to its first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// parseScript parses a "#!" line the way Linux's binfmt_script does: the
// interpreter is the first word after "#!" (leading blanks skipped), the
// optional argument is everything after the blanks that follow it up to
// the end of the line, trailing blanks removed. A line with no newline
// within the buffer is accepted only when the interpreter's name ends
// inside it (otherwise it was cut and the file is ENOEXEC). It returns
// errNotScript for a file that does not start with "#!".
func parseScript(head [binprmBufSize]byte) (interp, arg string, hasArg bool, err error) {
	buf := head[:]
	if buf[0] != '#' || buf[1] != '!' {
		return "", "", false, errNotScript
	}
	bufEnd := len(buf) - 1
	iEnd := bytes.IndexByte(buf, '\n')
	if iEnd < 0 {
		iEnd = nextNonSpaceTab(buf, 2, bufEnd)
		if iEnd < 0 {
			return "", "", false, fmt.Errorf("#! line is all blanks: %w", unix.ENOEXEC)
		}
		if nextTerminator(buf, iEnd, bufEnd) < 0 {
			return "", "", false, fmt.Errorf("#! interpreter name longer than %d bytes: %w", binprmBufSize, unix.ENOEXEC)
		}
		// The kernel ends the line at the last byte of its buffer,
		// which it then overwrites with the terminating NUL.
		iEnd = bufEnd
	}
	for iEnd > 2 && spaceTab(buf[iEnd-1]) {
		iEnd--
	}
	iName := nextNonSpaceTab(buf, 2, iEnd)
	if iName < 0 || iName == iEnd {
		return "", "", false, fmt.Errorf("#! line names no interpreter: %w", unix.ENOEXEC)
	}
	iSep := nextTerminator(buf, iName, iEnd)
	nameEnd := iEnd
	if iSep >= 0 {
		nameEnd = iSep
		if buf[iSep] != 0 {
			if iArg := nextNonSpaceTab(buf, iSep, iEnd); iArg >= 0 {
				arg, hasArg = cString(buf[iArg:iEnd]), true
			}
		}
	}
	return cString(buf[iName:nameEnd]), arg, hasArg, nil
}

// scriptArgv rewrites argv for a script run through interp, as Linux
// does: argv[0] is dropped and replaced by the interpreter, its optional
// argument, and the script's path as exec was given it.
func scriptArgv(argv []string, interp, arg string, hasArg bool, script string) []string {
	out := make([]string, 0, len(argv)+3)
	out = append(out, interp)
	if hasArg {
		out = append(out, arg)
	}
	out = append(out, script)
	if len(argv) > 1 {
		out = append(out, argv[1:]...)
	}
	return out
}
