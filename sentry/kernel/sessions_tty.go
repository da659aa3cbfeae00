package kernel

import (
	"moat/sentry/kernel/tty"

	"golang.org/x/sys/unix"
)

// Controlling terminals. A session has at most one (Kernel.cttys, by
// SID, under Kernel.mu) and a terminal controls at most one session
// (its tty.Jobs); the two always agree, except that a terminal hung up
// on its own (its pty master closed) clears only its side, so lookups
// check both. Unlike Linux, which keeps the terminal per process
// (signal->tty), every process of a session shares the session's: a
// TIOCNOTTY by a process that does not lead the session changes
// nothing.

// capSysAdmin is CAP_SYS_ADMIN.
const capSysAdmin = 21

// cttyLocked returns the controlling terminal of session sid, or nil.
//
// Preconditions: k.mu is locked.
func (k *Kernel) cttyLocked(sid int32) tty.Terminal {
	term := k.cttys[sid]
	if term == nil {
		return nil
	}
	if term.TerminalJobs().Session() != sid {
		delete(k.cttys, sid)
		return nil
	}
	return term
}

// ControllingTerminal returns the caller's controlling terminal (what
// /dev/tty opens), or nil.
func (t *Task) ControllingTerminal() tty.Terminal {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cttyLocked(t.tg.sid)
}

// IsControllingTerminal reports whether term is the caller's controlling
// terminal.
func (t *Task) IsControllingTerminal(term tty.Terminal) bool {
	j := term.TerminalJobs()
	c := t.ControllingTerminal()
	return c != nil && c.TerminalJobs() == j
}

// SetControllingTerminal implements TIOCSCTTY (explicit) and the
// acquisition at open(2) without O_NOCTTY (not explicit: silently
// nothing when a rule forbids it). The caller must lead its session,
// which must have no controlling terminal, and term must control no
// session, unless steal is asked by a holder of CAP_SYS_ADMIN; an
// explicit call also needs read access (readable) or CAP_SYS_ADMIN.
func (t *Task) SetControllingTerminal(term tty.Terminal, explicit, steal, readable bool) error {
	if term.IsPTYMaster() {
		if explicit {
			// A master acts on its slave's behalf only for queries.
			return unix.ENOTTY
		}
		return nil
	}
	j := term.TerminalJobs()
	admin := t.Credentials().HasCap(capSysAdmin)
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	me := t.tg
	leader := me.sid == me.pid
	cur := k.cttyLocked(me.sid)
	if leader && cur != nil && cur.TerminalJobs() == j {
		return nil
	}
	if !leader || cur != nil {
		if explicit {
			return unix.EPERM
		}
		return nil
	}
	if other := j.Session(); other != 0 {
		if !explicit {
			return nil
		}
		if !steal || !admin {
			return unix.EPERM
		}
		delete(k.cttys, other)
	}
	if explicit && !readable && !admin {
		return unix.EPERM
	}
	if k.cttys == nil {
		k.cttys = map[int32]tty.Terminal{}
	}
	k.cttys[me.sid] = term
	j.Attach(me.sid, me.pgid, k)
	return nil
}

// ReleaseControllingTerminal implements TIOCNOTTY on term: ENOTTY unless
// it is the caller's controlling terminal. A session leader gives it
// up for the whole session, and its foreground group gets SIGHUP and
// SIGCONT, as Linux's disassociate_ctty does.
func (t *Task) ReleaseControllingTerminal(term tty.Terminal) error {
	j := term.TerminalJobs()
	k := t.k
	k.mu.Lock()
	me := t.tg
	cur := k.cttyLocked(me.sid)
	if cur == nil || cur.TerminalJobs() != j {
		k.mu.Unlock()
		return unix.ENOTTY
	}
	if me.sid != me.pid {
		k.mu.Unlock()
		return nil
	}
	delete(k.cttys, me.sid)
	k.mu.Unlock()
	fg := j.Foreground()
	j.Detach()
	if fg > 0 {
		k.SignalProcessGroup(fg, unix.SIGHUP)
		k.SignalProcessGroup(fg, unix.SIGCONT)
	}
	return nil
}

// TerminalForeground implements TIOCGPGRP: ENOTTY unless term is the
// caller's controlling terminal (a pty master may always ask).
func (t *Task) TerminalForeground(term tty.Terminal) (int32, error) {
	if !term.IsPTYMaster() && !t.IsControllingTerminal(term) {
		return 0, unix.ENOTTY
	}
	return term.TerminalJobs().Foreground(), nil
}

// TerminalSession implements TIOCGSID: ENOTTY unless term is the caller's
// controlling terminal (or a pty master) and controls a session.
func (t *Task) TerminalSession(term tty.Terminal) (int32, error) {
	if !term.IsPTYMaster() && !t.IsControllingTerminal(term) {
		return 0, unix.ENOTTY
	}
	sid := term.TerminalJobs().Session()
	if sid == 0 {
		return 0, unix.ENOTTY
	}
	return sid, nil
}

// CheckSetForeground is the first half of TIOCSPGRP, before the
// argument is read: a background caller is stopped (SIGTTOU), and
// ENOTTY unless term is its controlling terminal in its session.
func (t *Task) CheckSetForeground(term tty.Terminal) error {
	j := term.TerminalJobs()
	if err := t.CheckTerminalAccess(j, unix.SIGTTOU); err != nil {
		if err == unix.EIO {
			return unix.ENOTTY
		}
		return err
	}
	if !t.IsControllingTerminal(term) || j.Session() != t.tg.SID() {
		return unix.ENOTTY
	}
	return nil
}

// SetTerminalForeground is the rest of TIOCSPGRP: EINVAL for a negative
// group, ESRCH when no process is in it, EPERM when it belongs to
// another session.
func (t *Task) SetTerminalForeground(term tty.Terminal, pgrp int32) error {
	if pgrp < 0 {
		return unix.EINVAL
	}
	k := t.k
	k.mu.Lock()
	found, same := false, false
	for _, g := range k.groups {
		if g.pgid == pgrp && !g.zombie {
			found = true
			same = g.sid == t.tg.sid
			break
		}
	}
	k.mu.Unlock()
	if !found {
		return unix.ESRCH
	}
	if !same {
		return unix.EPERM
	}
	term.TerminalJobs().SetForeground(pgrp)
	return nil
}

// CheckTerminalAccess implements tty.JobChecker (Linux's
// __tty_check_change and the read check of n_tty): a process of a
// background group of the terminal's session that reads (SIGTTIN) or
// writes with TOSTOP or changes settings (SIGTTOU) sends sig to its
// group and the call restarts once it is continued. Reads with SIGTTIN
// ignored or blocked fail with EIO; writes go on. Orphaned process
// groups are not detected (they get the signal too).
func (t *Task) CheckTerminalAccess(j *tty.Jobs, sig unix.Signal) error {
	sid, fg := j.Session(), j.Foreground()
	if sid == 0 || fg == 0 {
		return nil
	}
	k := t.k
	k.mu.Lock()
	mySID, myPGID := t.tg.sid, t.tg.pgid
	k.mu.Unlock()
	if mySID != sid || myPGID == fg {
		return nil
	}
	act := t.tg.SigAction(sig)
	t.sigMu.Lock()
	blocked := t.mask&SigBit(sig) != 0
	t.sigMu.Unlock()
	if act.Handler == SIG_IGN || blocked {
		if sig == unix.SIGTTIN {
			return unix.EIO
		}
		return nil
	}
	k.SignalProcessGroup(myPGID, sig)
	return ERESTARTSYS
}

// SignalProcessGroup implements tty.Signaller: sig from the kernel
// (SI_KERNEL) to every process of group pgrp.
func (k *Kernel) SignalProcessGroup(pgrp int32, sig unix.Signal) {
	for _, g := range k.ProcessGroup(pgrp) {
		g.SendSignal(sig, nil)
	}
}

// SignalProcess implements tty.Signaller: sig from the kernel to process
// pid, if it is alive.
func (k *Kernel) SignalProcess(pid int32, sig unix.Signal) {
	k.mu.Lock()
	g := k.groups[pid]
	if g != nil && g.zombie {
		g = nil
	}
	k.mu.Unlock()
	if g != nil {
		g.SendSignal(sig, nil)
	}
}

// adoptStdioTerminal makes a host terminal on init's standard input the
// controlling terminal of init's session, init's group in the
// foreground: as runc's init gets its console with -t, and as a shell
// started from a terminal has one, so isatty, tcsetpgrp and job control
// work in the app.
func (k *Kernel) adoptStdioTerminal(tg *ThreadGroup, fds *FDTable) {
	f, err := fds.Get(0)
	if err != nil {
		return
	}
	defer f.DecRef()
	term, ok := f.Impl().(tty.Terminal)
	if !ok || term.IsPTYMaster() || term.TerminalJobs().Session() != 0 {
		return
	}
	k.mu.Lock()
	if k.cttys == nil {
		k.cttys = map[int32]tty.Terminal{}
	}
	k.cttys[tg.sid] = term
	k.mu.Unlock()
	term.TerminalJobs().Attach(tg.sid, tg.pgid, k)
}

// SignalTerminal sends sig to the foreground process group of the
// controlling terminal of the init's session and reports whether there
// was one. The runtime calls it for the signals a host terminal
// generates (^C's SIGINT, ^\'s SIGQUIT, SIGWINCH after a resize), which
// reach the sentry's host process: inside, they belong to the foreground
// job, not to the init.
func (k *Kernel) SignalTerminal(sig unix.Signal) bool {
	k.mu.Lock()
	var term tty.Terminal
	if k.init != nil {
		term = k.cttyLocked(k.init.sid)
	}
	k.mu.Unlock()
	if term == nil || term.TerminalJobs().Foreground() <= 0 {
		return false
	}
	term.TerminalJobs().SignalForeground(sig)
	return true
}

// sessionLeaderExited ends the controlling terminal of the session tg
// led, if it did: the foreground group gets SIGHUP and the terminal is
// free again (Linux's disassociate_ctty(1) at a leader's exit).
func (k *Kernel) sessionLeaderExited(tg *ThreadGroup) {
	k.mu.Lock()
	var term tty.Terminal
	if tg.sid == tg.pid {
		term = k.cttyLocked(tg.sid)
		delete(k.cttys, tg.sid)
	}
	k.mu.Unlock()
	if term == nil {
		return
	}
	j := term.TerminalJobs()
	fg := j.Foreground()
	j.Detach()
	if fg > 0 {
		k.SignalProcessGroup(fg, unix.SIGHUP)
	}
}
