package host

import (
	"sync"

	"moat/sentry/kernel/tty"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// termiosSize is the kernel's struct termios size (the tests check no
// ioctl writes more).
const termiosSize = tty.TermiosSize

// Terminal ioctls forwarded to a host terminal (asm-generic/ioctls.h).
const (
	fionread = 0x541B
	tiocoutq = 0x5411
	tcflsh   = 0x540B
	tcxonc   = 0x540A
	tcsbrk   = 0x5409
	tcsbrkp  = 0x5425
	tiocgetd = 0x5424
)

// ttyFile is a host descriptor that is a terminal (the stdio of `moat
// do` run from a terminal, or the console of a -t container): termios,
// window size and queue ioctls go to the host, each argument copied
// through a buffer of the exact kernel struct size. The job-control
// state is the sandbox's own (the host's process groups mean nothing
// inside), kept in jobs.
//
// ^C: the host terminal's ISIG is left on, so the host kernel sends
// SIGINT to its foreground process group, which holds moat; moat's
// signal forwarding passes it to the container, and SignalForeground
// lets the runtime aim such signals at the app's foreground group.
type ttyFile struct {
	*file
	jobs *tty.Jobs
}

var _ tty.Terminal = (*ttyFile)(nil)

// isTerminal reports whether host descriptor fd is a terminal.
func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// TerminalJobs implements tty.Terminal.
func (h *ttyFile) TerminalJobs() *tty.Jobs { return h.jobs }

// hostTerminals maps a host terminal's device number to its job-control
// state: the stdio descriptors of one terminal (fds 0, 1 and 2 of a
// shell, each its own host descriptor here) are one terminal inside, as
// they are one tty on Linux, so the controlling terminal that init took
// through fd 0 is also the terminal of fd 2. A sandbox sees a handful of
// host terminals at most; the map is never pruned.
var hostTerminals struct {
	sync.Mutex
	jobs map[uint64]*tty.Jobs
}

// terminalJobs returns the job-control state of the host terminal rdev.
func terminalJobs(rdev uint64) *tty.Jobs {
	hostTerminals.Lock()
	defer hostTerminals.Unlock()
	if hostTerminals.jobs == nil {
		hostTerminals.jobs = map[uint64]*tty.Jobs{}
	}
	j := hostTerminals.jobs[rdev]
	if j == nil {
		j = &tty.Jobs{}
		hostTerminals.jobs[rdev] = j
	}
	return j
}

// IsPTYMaster implements tty.Terminal.
func (h *ttyFile) IsPTYMaster() bool { return false }

// Reopen implements tty.Terminal: /dev/tty on a host terminal gets a new
// descriptor of it, sharing the job-control state.
func (h *ttyFile) Reopen(int) (vfs.FileImpl, error) {
	fd, err := unix.FcntlInt(uintptr(h.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, errnoOf(err)
	}
	nf := &file{fd: fd}
	nf.notified = AddFD(fd, &nf.queue) == nil
	return &ttyFile{file: nf, jobs: h.jobs}, nil
}

// Ioctl implements vfs.FileImpl for a host terminal.
func (h *ttyFile) Ioctl(_ *vfs.File, req, arg uintptr, io vfs.IOContext) (uintptr, error) {
	switch req {
	case unix.TCGETS:
		t, err := unix.IoctlGetTermios(h.fd, unix.TCGETS)
		if err != nil {
			return 0, errnoOf(err)
		}
		nt := tty.FromUnix(t)
		return 0, tty.CopyOutTermios(io, arg, &nt)
	case unix.TCSETS, unix.TCSETSW, unix.TCSETSF:
		nt, err := tty.CopyInTermios(io, arg)
		if err != nil {
			return 0, err
		}
		if c, ok := io.(tty.JobChecker); ok {
			if err := c.CheckTerminalAccess(h.jobs, unix.SIGTTOU); err != nil {
				return 0, err
			}
		}
		cur, err := unix.IoctlGetTermios(h.fd, unix.TCGETS)
		if err != nil {
			return 0, errnoOf(err)
		}
		return 0, errnoOf(unix.IoctlSetTermios(h.fd, uint(req), nt.ToUnix(cur)))
	case unix.TIOCGWINSZ:
		w, err := unix.IoctlGetWinsize(h.fd, unix.TIOCGWINSZ)
		if err != nil {
			return 0, errnoOf(err)
		}
		return 0, tty.CopyOutWinsize(io, arg, w)
	case unix.TIOCSWINSZ:
		w, err := tty.CopyInWinsize(io, arg)
		if err != nil {
			return 0, err
		}
		old, _ := unix.IoctlGetWinsize(h.fd, unix.TIOCGWINSZ)
		if err := unix.IoctlSetWinsize(h.fd, unix.TIOCSWINSZ, &w); err != nil {
			return 0, errnoOf(err)
		}
		if old == nil || *old != w {
			h.jobs.SignalForeground(unix.SIGWINCH)
		}
		return 0, nil
	case fionread, tiocoutq:
		n, err := unix.IoctlGetInt(h.fd, uint(req))
		if err != nil {
			return 0, errnoOf(err)
		}
		return 0, tty.CopyOutInt(io, arg, int32(n))
	case tiocgetd:
		return 0, tty.CopyOutInt(io, arg, 0)
	case tcflsh, tcxonc, tcsbrk, tcsbrkp:
		// Integer arguments, passed as they are.
		return 0, errnoOf(unix.IoctlSetInt(h.fd, uint(req), int(arg)))
	}
	return 0, unix.ENOTTY
}

// copyOutTermios writes t to app memory at addr as the kernel's struct
// termios.
func copyOutTermios(io vfs.IOContext, addr uintptr, t *unix.Termios) error {
	nt := tty.FromUnix(t)
	return tty.CopyOutTermios(io, addr, &nt)
}

// copyOutWinsize writes w to app memory at addr as struct winsize.
func copyOutWinsize(io vfs.IOContext, addr uintptr, w *unix.Winsize) error {
	return tty.CopyOutWinsize(io, addr, w)
}
