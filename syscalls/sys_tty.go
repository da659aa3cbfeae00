package syscalls

import (
	"moat/sentry/fs/dev"
	"moat/sentry/kernel"
	"moat/sentry/kernel/tty"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Job-control ioctl requests (asm-generic/ioctls.h).
const (
	tiocsctty = 0x540E
	tiocgpgrp = 0x540F
	tiocspgrp = 0x5410
	tiocsti   = 0x5412
	tiocnotty = 0x5422
	tiocgsid  = 0x5429
)

// ttyOpened finishes an open of a terminal: /dev/tty becomes a new open
// file of the caller's controlling terminal (ENXIO without one), and a
// session leader without one that opens a terminal without O_NOCTTY
// acquires it. It returns the file to install (with its own reference;
// f keeps the caller's).
func ttyOpened(t *kernel.Task, f *vfs.File, flags int) (*vfs.File, error) {
	impl := f.Impl()
	if _, ok := impl.(dev.CurrentTTY); ok {
		term := t.ControllingTerminal()
		if term == nil {
			return nil, unix.ENXIO
		}
		ni, err := term.Reopen(flags)
		if err != nil {
			return nil, err
		}
		// /dev/tty never changes the controlling terminal.
		return vfs.NewFile(ni, f.Flags(), f.Location()), nil
	}
	if term, ok := impl.(tty.Terminal); ok && flags&unix.O_NOCTTY == 0 {
		if err := t.SetControllingTerminal(term, false, false, f.Readable()); err != nil {
			return nil, err
		}
	}
	f.IncRef()
	return f, nil
}

// ttyIoctl answers the requests that need the calling task on a
// terminal: the job-control ones and TIOCGPTPEER, which installs a
// descriptor. ok is false for other files and requests.
func ttyIoctl(t *kernel.Task, f *vfs.File, req, arg uintptr) (ret uintptr, ok bool, err error) {
	term, isTerm := f.Impl().(tty.Terminal)
	if !isTerm {
		return 0, false, nil
	}
	switch req {
	case tiocsctty:
		return 0, true, t.SetControllingTerminal(term, true, arg == 1, f.Readable())
	case tiocnotty:
		return 0, true, t.ReleaseControllingTerminal(term)
	case tiocgpgrp:
		pg, err := t.TerminalForeground(term)
		if err != nil {
			return 0, true, err
		}
		return 0, true, tty.CopyOutInt(t, arg, pg)
	case tiocgsid:
		sid, err := t.TerminalSession(term)
		if err != nil {
			return 0, true, err
		}
		return 0, true, tty.CopyOutInt(t, arg, sid)
	case tiocspgrp:
		if err := t.CheckSetForeground(term); err != nil {
			return 0, true, err
		}
		pg, err := tty.CopyInInt(t, arg)
		if err != nil {
			return 0, true, err
		}
		return 0, true, t.SetTerminalForeground(term, pg)
	case tiocsti:
		// legacy_tiocsti off: pushing input is refused to everyone.
		return 0, true, unix.EPERM
	case tty.TIOCGPTPEER:
		m, isMaster := f.Impl().(*tty.Master)
		if !isMaster {
			return 0, true, unix.ENOTTY
		}
		if arg&^uintptr(unix.O_ACCMODE|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC) != 0 {
			return 0, true, unix.EINVAL
		}
		s, err := m.PTY().OpenSlave()
		if err != nil {
			return 0, true, err
		}
		flags := int(arg) &^ unix.O_CLOEXEC
		sf := vfs.NewFile(s, flags|oLargefile, vfs.Location{})
		defer sf.DecRef()
		if flags&unix.O_NOCTTY == 0 {
			if err := t.SetControllingTerminal(s, false, false, sf.Readable()); err != nil {
				return 0, true, err
			}
		}
		fd, err := t.FDTable().Install(sf, 0, arg&unix.O_CLOEXEC != 0, nofile(t))
		if err != nil {
			return 0, true, err
		}
		return uintptr(fd), true, nil
	}
	return 0, false, nil
}
