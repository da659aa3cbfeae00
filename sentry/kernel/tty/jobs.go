package tty

import (
	"sync"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Signaller sends signals to processes on a terminal's behalf: the
// kernel, which a terminal learns when it becomes a session's controlling
// terminal.
type Signaller interface {
	// SignalProcessGroup sends sig to every process of group pgrp.
	SignalProcessGroup(pgrp int32, sig unix.Signal)
	// SignalProcess sends sig to process pid.
	SignalProcess(pid int32, sig unix.Signal)
}

// Jobs is the job-control state of one terminal: the session it is the
// controlling terminal of and its foreground process group (0: none).
// The kernel decides who may change them (sentry/kernel's sessions_tty.go);
// the terminal only reads them to send its signals.
type Jobs struct {
	// mu guards the fields below. A leaf.
	mu   sync.Mutex
	sid  int32
	pgrp int32
	sig  Signaller
}

// Session returns the session the terminal controls (0: none).
func (j *Jobs) Session() int32 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.sid
}

// Foreground returns the foreground process group (0: none).
func (j *Jobs) Foreground() int32 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.pgrp
}

// Attach makes the terminal the controlling terminal of session sid with
// foreground group pgrp; s delivers its signals.
func (j *Jobs) Attach(sid, pgrp int32, s Signaller) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.sid, j.pgrp, j.sig = sid, pgrp, s
}

// Detach ends the terminal's association with a session.
func (j *Jobs) Detach() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.sid, j.pgrp = 0, 0
}

// SetForeground changes the foreground process group.
func (j *Jobs) SetForeground(pgrp int32) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.pgrp = pgrp
}

// SignalForeground sends sig to the foreground process group, if any
// (the signal characters, SIGWINCH, hangups).
func (j *Jobs) SignalForeground(sig unix.Signal) {
	j.mu.Lock()
	pgrp, s := j.pgrp, j.sig
	j.mu.Unlock()
	if pgrp > 0 && s != nil {
		s.SignalProcessGroup(pgrp, sig)
	}
}

// Terminal is implemented by the FileImpl of every terminal (pty slaves
// and masters, host terminals): what the kernel's controlling-terminal
// code and the job-control ioctls need.
type Terminal interface {
	// TerminalJobs returns the job-control state (for a pty master, its
	// slave's, as Linux's ioctls act on the slave).
	TerminalJobs() *Jobs
	// IsPTYMaster reports whether this is a pty master, which never
	// becomes a controlling terminal and answers the job-control
	// queries for its slave.
	IsPTYMaster() bool
	// Reopen opens the terminal again (/dev/tty).
	Reopen(flags int) (vfs.FileImpl, error)
}

// JobChecker is implemented by the calling task (*kernel.Task): before a
// read (SIGTTIN) or a write with TOSTOP or a termios change (SIGTTOU) on
// its controlling terminal by a background process group, it sends the
// signal to that group and returns ERESTARTSYS, or returns EIO when the
// signal is ignored or blocked (reads), or nil to let the call go on.
type JobChecker interface {
	CheckTerminalAccess(j *Jobs, sig unix.Signal) error
}

// checkAccess runs in's job-control check when in can do one.
func checkAccess(in any, j *Jobs, sig unix.Signal) error {
	if c, ok := in.(JobChecker); ok {
		return c.CheckTerminalAccess(j, sig)
	}
	return nil
}
