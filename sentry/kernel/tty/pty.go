package tty

import (
	"strconv"
	"sync"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Terminal ioctl requests (asm-generic/ioctls.h; the same numbers on
// amd64 and arm64) that x/sys/unix does not name on every architecture.
const (
	tiocgptn   = 0x80045430
	tiocsptlck = 0x40045431
	tiocgptlck = 0x80045439
	tiocgexcl  = 0x80045440
	tiocsig    = 0x40045436
	tiocexcl   = 0x540C
	tiocnxcl   = 0x540D
	tiocgetd   = 0x5424
	tiocsetd   = 0x5423
	tiocoutq   = 0x5411
	fionread   = 0x541B
	tcsbrk     = 0x5409
	tcsbrkp    = 0x5425
	tcxonc     = 0x540A
	tcflsh     = 0x540B
	tiocsti    = 0x5412

	// TIOCGPTPEER opens the slave of a master; the fd table's owner
	// (package syscalls) handles it.
	TIOCGPTPEER = 0x5441
)

// PTY is one pseudo-terminal pair: the line discipline between its
// master (the /dev/ptmx side) and its slave (/dev/pts/N).
type PTY struct {
	// Index is N in /dev/pts/N.
	Index uint32
	ld    *LineDiscipline
	jobs  Jobs
	// masterStat and slaveStat report the devpts inodes.
	masterStat, slaveStat func() (unix.Stat_t, error)
	// onMasterClose runs once the master is closed (devpts drops the
	// index).
	onMasterClose func()

	// mu guards the fields below.
	mu sync.Mutex
	// locked: the slave cannot be opened (TIOCSPTLCK); a new pair is.
	locked bool
	// exclusive: TIOCEXCL, further slave opens fail with EBUSY.
	exclusive bool
	// masterOpen is false once the master's file is released: the
	// slave is hung up.
	masterOpen bool
	// slaves counts open slave files; slaveSeen is set by the first
	// open (before it a master read blocks, after the last close it
	// fails with EIO, Linux's TTY_OTHER_CLOSED).
	slaves    int
	slaveSeen bool
}

// NewPTY makes a locked pair with index n and returns its master's
// FileImpl. The stat functions report the master's and the slave's
// inodes; onMasterClose runs when the master goes.
func NewPTY(n uint32, masterStat, slaveStat func() (unix.Stat_t, error), onMasterClose func()) (*PTY, *Master) {
	p := &PTY{Index: n, masterStat: masterStat, slaveStat: slaveStat, onMasterClose: onMasterClose, locked: true, masterOpen: true}
	p.ld = NewLineDiscipline(DefaultSlaveTermios(), &p.jobs)
	return p, &Master{p: p}
}

// OpenSlave opens the slave: EIO while locked or once the master is
// gone, EBUSY under TIOCEXCL.
func (p *PTY) OpenSlave() (*Slave, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.locked || !p.masterOpen {
		return nil, unix.EIO
	}
	if p.exclusive {
		return nil, unix.EBUSY
	}
	p.slaves++
	p.slaveSeen = true
	p.ld.Notify()
	return &Slave{p: p}, nil
}

func (p *PTY) hungUp() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.masterOpen
}

func (p *PTY) otherClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.slaveSeen && p.slaves == 0
}

// Master is the FileImpl of a pty master.
type Master struct{ p *PTY }

// Slave is the FileImpl of an open pty slave.
type Slave struct{ p *PTY }

var (
	_ vfs.FileImpl   = (*Master)(nil)
	_ vfs.BlockingIO = (*Master)(nil)
	_ vfs.Waitable   = (*Master)(nil)
	_ Terminal       = (*Master)(nil)
	_ vfs.FileImpl   = (*Slave)(nil)
	_ vfs.BlockingIO = (*Slave)(nil)
	_ vfs.Waitable   = (*Slave)(nil)
	_ Terminal       = (*Slave)(nil)
)

// PTY returns the pair.
func (m *Master) PTY() *PTY { return m.p }

// Read implements vfs.FileImpl.
func (m *Master) Read(f *vfs.File, dst []byte) (int, error) { return m.ReadInterruptible(f, dst, nil) }

// Write implements vfs.FileImpl.
func (m *Master) Write(f *vfs.File, src []byte) (int, error) {
	return m.WriteInterruptible(f, src, nil)
}

// ReadInterruptible implements vfs.BlockingIO: what the slave wrote.
func (m *Master) ReadInterruptible(f *vfs.File, dst []byte, in vfs.Interruptible) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	return m.p.ld.ReadMaster(dst, f.Flags()&unix.O_NONBLOCK != 0, in, m.p.otherClosed)
}

// WriteInterruptible implements vfs.BlockingIO: input for the slave.
func (m *Master) WriteInterruptible(f *vfs.File, src []byte, in vfs.Interruptible) (int, error) {
	if len(src) == 0 {
		return 0, nil
	}
	return m.p.ld.WriteMaster(src, f.Flags()&unix.O_NONBLOCK != 0, in)
}

// PRead implements vfs.FileImpl: terminals have no offsets.
func (m *Master) PRead(*vfs.File, []byte, int64) (int, error) { return 0, unix.ESPIPE }

// PWrite implements vfs.FileImpl.
func (m *Master) PWrite(*vfs.File, []byte, int64) (int, error) { return 0, unix.ESPIPE }

// Seek implements vfs.FileImpl.
func (m *Master) Seek(*vfs.File, int64, int) (int64, error) { return 0, unix.ESPIPE }

// Stat implements vfs.FileImpl: the ptmx inode.
func (m *Master) Stat(*vfs.File) (unix.Stat_t, error) { return m.p.masterStat() }

// Getdents implements vfs.FileImpl.
func (m *Master) Getdents(*vfs.File, []byte) (int, error) { return 0, unix.ENOTDIR }

// HostFD implements vfs.FileImpl.
func (m *Master) HostFD() int { return -1 }

// Release implements vfs.FileImpl: the slave is hung up; its session
// leader gets SIGHUP and SIGCONT and the session loses it.
func (m *Master) Release() {
	p := m.p
	p.mu.Lock()
	p.masterOpen = false
	p.mu.Unlock()
	p.jobs.hangup()
	p.ld.Notify()
	if p.onMasterClose != nil {
		p.onMasterClose()
	}
}

// Readiness implements vfs.Waitable.
func (m *Master) Readiness(mask vfs.EventMask) vfs.EventMask {
	r := m.p.ld.MasterReadiness()
	if m.p.otherClosed() {
		r |= vfs.EventHUp
	}
	return r & mask
}

// EventRegister implements vfs.Waitable.
func (m *Master) EventRegister(e *vfs.WaitEntry) bool { m.p.ld.Register(e); return true }

// EventUnregister implements vfs.Waitable.
func (m *Master) EventUnregister(e *vfs.WaitEntry) { m.p.ld.Unregister(e) }

// TerminalJobs implements Terminal: the slave's.
func (m *Master) TerminalJobs() *Jobs { return &m.p.jobs }

// IsPTYMaster implements Terminal.
func (m *Master) IsPTYMaster() bool { return true }

// Reopen implements Terminal: a master is never a controlling terminal.
func (m *Master) Reopen(int) (vfs.FileImpl, error) { return nil, unix.EIO }

// Ioctl implements vfs.FileImpl: the pty requests, then the terminal
// ones acting on the slave.
func (m *Master) Ioctl(_ *vfs.File, req, arg uintptr, io vfs.IOContext) (uintptr, error) {
	p := m.p
	switch req {
	case tiocgptn:
		return 0, CopyOutInt(io, arg, int32(p.Index))
	case tiocsptlck:
		v, err := CopyInInt(io, arg)
		if err != nil {
			return 0, err
		}
		p.mu.Lock()
		p.locked = v != 0
		p.mu.Unlock()
		return 0, nil
	case tiocgptlck:
		p.mu.Lock()
		locked := p.locked
		p.mu.Unlock()
		return 0, CopyOutInt(io, arg, boolInt(locked))
	case tiocsig:
		sig := unix.Signal(arg)
		if sig <= 0 || sig > 64 {
			return 0, unix.EINVAL
		}
		p.jobs.SignalForeground(sig)
		return 0, nil
	case fionread:
		return 0, CopyOutInt(io, arg, int32(p.ld.OutputQueued()))
	}
	return p.ioctl(req, arg, io, true)
}

// Read implements vfs.FileImpl.
func (s *Slave) Read(f *vfs.File, dst []byte) (int, error) { return s.ReadInterruptible(f, dst, nil) }

// Write implements vfs.FileImpl.
func (s *Slave) Write(f *vfs.File, src []byte) (int, error) {
	return s.WriteInterruptible(f, src, nil)
}

// ReadInterruptible implements vfs.BlockingIO: a background process
// group of the terminal's session gets SIGTTIN first.
func (s *Slave) ReadInterruptible(f *vfs.File, dst []byte, in vfs.Interruptible) (int, error) {
	if err := checkAccess(in, &s.p.jobs, unix.SIGTTIN); err != nil {
		return 0, err
	}
	if len(dst) == 0 {
		return 0, nil
	}
	return s.p.ld.ReadSlave(dst, f.Flags()&unix.O_NONBLOCK != 0, in, s.p.hungUp)
}

// WriteInterruptible implements vfs.BlockingIO: with TOSTOP a
// background process group gets SIGTTOU first.
func (s *Slave) WriteInterruptible(f *vfs.File, src []byte, in vfs.Interruptible) (int, error) {
	if s.p.ld.Termios().Lflag&unix.TOSTOP != 0 {
		if err := checkAccess(in, &s.p.jobs, unix.SIGTTOU); err != nil {
			return 0, err
		}
	}
	if len(src) == 0 {
		return 0, nil
	}
	return s.p.ld.WriteSlave(src, f.Flags()&unix.O_NONBLOCK != 0, in, s.p.hungUp)
}

// PRead implements vfs.FileImpl.
func (s *Slave) PRead(*vfs.File, []byte, int64) (int, error) { return 0, unix.ESPIPE }

// PWrite implements vfs.FileImpl.
func (s *Slave) PWrite(*vfs.File, []byte, int64) (int, error) { return 0, unix.ESPIPE }

// Seek implements vfs.FileImpl.
func (s *Slave) Seek(*vfs.File, int64, int) (int64, error) { return 0, unix.ESPIPE }

// Stat implements vfs.FileImpl: the /dev/pts/N inode.
func (s *Slave) Stat(*vfs.File) (unix.Stat_t, error) { return s.p.slaveStat() }

// Getdents implements vfs.FileImpl.
func (s *Slave) Getdents(*vfs.File, []byte) (int, error) { return 0, unix.ENOTDIR }

// HostFD implements vfs.FileImpl.
func (s *Slave) HostFD() int { return -1 }

// Release implements vfs.FileImpl.
func (s *Slave) Release() {
	p := s.p
	p.mu.Lock()
	p.slaves--
	p.mu.Unlock()
	p.ld.Notify()
}

// Readiness implements vfs.Waitable: a hung-up slave is ready for
// everything, as Linux's hung_up_tty_poll says.
func (s *Slave) Readiness(mask vfs.EventMask) vfs.EventMask {
	if s.p.hungUp() {
		return (vfs.EventIn | vfs.EventOut | vfs.EventErr | vfs.EventHUp | vfs.EventRdNorm | vfs.EventWrNorm) & mask
	}
	return s.p.ld.SlaveReadiness() & mask
}

// EventRegister implements vfs.Waitable.
func (s *Slave) EventRegister(e *vfs.WaitEntry) bool { s.p.ld.Register(e); return true }

// EventUnregister implements vfs.Waitable.
func (s *Slave) EventUnregister(e *vfs.WaitEntry) { s.p.ld.Unregister(e) }

// ProcLinkName is what /proc/[pid]/fd shows for a slave opened with no
// path (TIOCGPTPEER): its devpts name, so ttyname finds it.
func (s *Slave) ProcLinkName() string { return "/dev/pts/" + strconv.FormatUint(uint64(s.p.Index), 10) }

// TerminalJobs implements Terminal.
func (s *Slave) TerminalJobs() *Jobs { return &s.p.jobs }

// IsPTYMaster implements Terminal.
func (s *Slave) IsPTYMaster() bool { return false }

// Reopen implements Terminal.
func (s *Slave) Reopen(int) (vfs.FileImpl, error) { return s.p.OpenSlave() }

// Ioctl implements vfs.FileImpl. A hung-up slave answers EIO.
func (s *Slave) Ioctl(_ *vfs.File, req, arg uintptr, io vfs.IOContext) (uintptr, error) {
	if s.p.hungUp() {
		return 0, unix.EIO
	}
	if req == fionread {
		return 0, CopyOutInt(io, arg, int32(s.p.ld.InputQueued()))
	}
	return s.p.ioctl(req, arg, io, false)
}

// ioctl answers the requests both sides share, on the pair's line
// discipline.
func (p *PTY) ioctl(req, arg uintptr, io vfs.IOContext, master bool) (uintptr, error) {
	ld := p.ld
	switch req {
	case unix.TCGETS:
		t := ld.Termios()
		return 0, CopyOutTermios(io, arg, &t)
	case unix.TCSETS, unix.TCSETSW, unix.TCSETSF:
		t, err := CopyInTermios(io, arg)
		if err != nil {
			return 0, err
		}
		if !master {
			if err := checkAccess(io, &p.jobs, unix.SIGTTOU); err != nil {
				return 0, err
			}
		}
		ld.SetTermios(t, req == unix.TCSETSF)
		return 0, nil
	case unix.TIOCGWINSZ:
		w := ld.Winsize()
		return 0, CopyOutWinsize(io, arg, &w)
	case unix.TIOCSWINSZ:
		w, err := CopyInWinsize(io, arg)
		if err != nil {
			return 0, err
		}
		ld.SetWinsize(w)
		return 0, nil
	case tcflsh:
		return 0, ld.Flush(int(arg))
	case tcxonc:
		return 0, ld.Flow(int(arg))
	case tcsbrk, tcsbrkp:
		// Output is handed over at once; there is no line to break.
		return 0, nil
	case tiocoutq:
		// Like Linux's ptys, output never waits in the writer's queue.
		return 0, CopyOutInt(io, arg, 0)
	case tiocexcl, tiocnxcl:
		p.mu.Lock()
		p.exclusive = req == tiocexcl
		p.mu.Unlock()
		return 0, nil
	case tiocgexcl:
		p.mu.Lock()
		ex := p.exclusive
		p.mu.Unlock()
		return 0, CopyOutInt(io, arg, boolInt(ex))
	case tiocgetd:
		return 0, CopyOutInt(io, arg, 0)
	case tiocsetd:
		d, err := CopyInInt(io, arg)
		if err != nil {
			return 0, err
		}
		if d != 0 {
			// Only N_TTY exists here.
			return 0, unix.EINVAL
		}
		return 0, nil
	case tiocsti:
		// As kernels built with legacy_tiocsti off: nobody may push
		// input into a terminal.
		return 0, unix.EPERM
	}
	return 0, unix.ENOTTY
}

// hangup detaches the terminal from its session, sending SIGHUP then
// SIGCONT to the session leader (tty_signal_session_leader).
func (j *Jobs) hangup() {
	j.mu.Lock()
	sid, s := j.sid, j.sig
	j.sid, j.pgrp = 0, 0
	j.mu.Unlock()
	if sid > 0 && s != nil {
		s.SignalProcess(sid, unix.SIGHUP)
		s.SignalProcess(sid, unix.SIGCONT)
	}
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
