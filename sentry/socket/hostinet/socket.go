package hostinet

import (
	"sync"
	"time"

	"moat/sentry/fs/host"
	"moat/sentry/kernel"
	"moat/sentry/socket"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// sock is one AF_INET or AF_INET6 socket of the application: a
// non-blocking host socket the sentry owns and drives. The application
// never sees fd's number.
type sock struct {
	fd       int
	family   int
	stype    int
	protocol int
	// uid and gid are the creator's filesystem ids, which fstat reports
	// as the socket inode's owner (Linux's sock_alloc takes them).
	uid, gid uint32

	// queue is woken by the host readiness notifier on every edge of fd.
	queue vfs.WaitQueue

	// mu guards the timeouts. They are set on the host socket too (so
	// getsockopt answers with the host's own rounding); the sentry keeps
	// its copy because it, not the host, does the sleeping.
	mu sync.Mutex
	// rcvTimeo and sndTimeo are SO_RCVTIMEO and SO_SNDTIMEO: 0 means
	// forever, negative means "do not wait" (a negative tv_sec).
	rcvTimeo, sndTimeo time.Duration
}

var _ socket.Socket = (*sock)(nil)

// newSock wraps host socket fd (non-blocking, close-on-exec) as an open
// file with status flags O_RDWR|flags, and registers it with the
// readiness notifier. It takes over fd, closing it on failure.
func newSock(t *kernel.Task, fd, family, stype, protocol, flags int) (*vfs.File, error) {
	s := &sock{fd: fd, family: family, stype: stype, protocol: protocol}
	if t != nil {
		c := t.Credentials()
		s.uid, s.gid = c.FSUID, c.FSGID
	}
	if err := host.AddFD(fd, &s.queue); err != nil {
		unix.Close(fd)
		// Only a failing epoll instance gets here: the sentry's fault,
		// reported as the kernel reports running out of memory.
		return nil, unix.ENOMEM
	}
	return vfs.NewFile(s, unix.O_RDWR|flags&unix.O_NONBLOCK, vfs.Location{}), nil
}

// Family implements socket.Socket.
func (s *sock) Family() int { return s.family }

// Type implements socket.Socket.
func (s *sock) Type() int { return s.stype }

// Protocol implements socket.Socket.
func (s *sock) Protocol() int { return s.protocol }

// timeout returns the deadline for a wait that starts now with timeout
// d (the zero time for none), and whether the call must not wait at all.
func deadlineFor(d time.Duration) (time.Time, bool) {
	switch {
	case d < 0:
		return time.Time{}, true
	case d == 0:
		return time.Time{}, false
	}
	return time.Now().Add(d), false
}

// wait sleeps until the host socket may be ready for events: EAGAIN
// when deadline passes (what Linux reports for an expired SO_RCVTIMEO or
// SO_SNDTIMEO), EINTR on a signal.
func (s *sock) wait(in vfs.Interruptible, events vfs.EventMask, deadline time.Time) error {
	err := host.WaitFD(s.fd, &s.queue, events, in, deadline)
	if err == unix.ETIMEDOUT {
		return unix.EAGAIN
	}
	return err
}

func (s *sock) timeouts() (rcv, snd time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcvTimeo, s.sndTimeo
}

// Bind implements socket.Socket.
func (s *sock) Bind(_ *kernel.Task, addr []byte) error {
	a, err := s.normalise(addr, false)
	if err != nil {
		return err
	}
	return hostBind(s.fd, a)
}

// Listen implements socket.Socket. The host answers EOPNOTSUPP for a
// datagram socket and EINVAL for a connected one, as Linux does.
func (s *sock) Listen(_ *kernel.Task, backlog int) error {
	return errno(unix.Listen(s.fd, backlog))
}

// Accept implements socket.Socket. SO_RCVTIMEO bounds the wait, as for
// Linux's inet_csk_accept.
func (s *sock) Accept(t *kernel.Task, flags int, nonblock bool) (*vfs.File, []byte, error) {
	rcv, _ := s.timeouts()
	deadline, now := deadlineFor(rcv)
	var buf [socket.MaxAddrLen]byte
	for {
		nfd, n, err := hostAccept(s.fd, buf[:])
		if err == nil {
			fl := 0
			if flags&unix.SOCK_NONBLOCK != 0 {
				fl = unix.O_NONBLOCK
			}
			f, err := newSock(t, nfd, s.family, s.stype, s.protocol, fl)
			if err != nil {
				return nil, nil, err
			}
			return f, append([]byte(nil), buf[:n]...), nil
		}
		if err != unix.EAGAIN || nonblock || now {
			return nil, nil, err
		}
		if err := s.wait(t, vfs.EventIn, deadline); err != nil {
			return nil, nil, err
		}
	}
}

// Connect implements socket.Socket. The host socket never blocks: a
// blocking connect starts it, then sleeps until the host says the
// handshake ended (writable) and reports SO_ERROR. Interrupted, it
// returns EINTR and the handshake goes on, as on Linux; a connect called
// again then waits for the same handshake (the host answers EALREADY,
// which a blocking caller turns into another wait). SO_SNDTIMEO bounds
// the wait (EINPROGRESS when it expires, as Linux reports).
func (s *sock) Connect(t *kernel.Task, addr []byte, nonblock bool) error {
	a, err := s.normalise(addr, true)
	if err != nil {
		return err
	}
	err = hostConnect(s.fd, a)
	if s.stype != unix.SOCK_STREAM || (err != unix.EINPROGRESS && err != unix.EALREADY) {
		return err
	}
	if nonblock {
		return err
	}
	_, snd := s.timeouts()
	deadline, now := deadlineFor(snd)
	if now {
		return unix.EINPROGRESS
	}
	for {
		werr := s.wait(t, vfs.EventOut, deadline)
		if werr == unix.EAGAIN {
			return unix.EINPROGRESS
		}
		if werr != nil {
			return werr
		}
		soerr, gerr := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if gerr != nil {
			return errno(gerr)
		}
		if soerr != 0 {
			return unix.Errno(soerr)
		}
		// Writable with no error: connected, unless the edge was
		// something else (the host then still says EALREADY).
		if err := hostConnect(s.fd, a); err == unix.EISCONN || err == nil {
			return nil
		} else if err != unix.EALREADY && err != unix.EINPROGRESS {
			return err
		}
	}
}

// Shutdown implements socket.Socket; the host answers ENOTCONN for an
// unconnected socket and wakes its waiters.
func (s *sock) Shutdown(_ *kernel.Task, how int) error {
	return errno(unix.Shutdown(s.fd, how))
}

// SockName implements socket.Socket.
func (s *sock) SockName(*kernel.Task) ([]byte, error) { return s.name(false) }

// PeerName implements socket.Socket.
func (s *sock) PeerName(*kernel.Task) ([]byte, error) { return s.name(true) }

func (s *sock) name(peer bool) ([]byte, error) {
	var buf [socket.MaxAddrLen]byte
	n, err := hostName(s.fd, buf[:], peer)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), buf[:min(n, len(buf))]...), nil
}

// errno keeps host errnos and turns anything else into EIO.
func errno(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(unix.Errno); ok {
		return e
	}
	return unix.EIO
}

// Readiness implements vfs.Waitable by asking the host.
func (s *sock) Readiness(mask vfs.EventMask) vfs.EventMask {
	return host.FDReadiness(s.fd, mask)
}

// EventRegister implements vfs.Waitable: the notifier wakes s.queue on
// every host edge.
func (s *sock) EventRegister(e *vfs.WaitEntry) bool {
	s.queue.Register(e)
	return true
}

// EventUnregister implements vfs.Waitable.
func (s *sock) EventUnregister(e *vfs.WaitEntry) { s.queue.Unregister(e) }

// Release implements vfs.FileImpl: the host socket closes with the last
// reference, as the application's socket does.
func (s *sock) Release() {
	host.RemoveFD(s.fd)
	unix.Close(s.fd)
}

// Read implements vfs.FileImpl as recv with no flags, never sleeping
// (the blocking form is ReadInterruptible).
func (s *sock) Read(f *vfs.File, dst []byte) (int, error) {
	r, err := s.recv(nil, dst, 0, true, false)
	return r.N, err
}

// Write implements vfs.FileImpl as send with no flags, never sleeping.
func (s *sock) Write(f *vfs.File, src []byte) (int, error) {
	return s.send(nil, src, nil, nil, 0, true)
}

// ReadInterruptible implements vfs.BlockingIO: read(2) is recv(2) with
// no flags.
func (s *sock) ReadInterruptible(f *vfs.File, dst []byte, in vfs.Interruptible) (int, error) {
	r, err := s.recv(in, dst, 0, f.Flags()&unix.O_NONBLOCK != 0, false)
	return r.N, err
}

// WriteInterruptible implements vfs.BlockingIO: write(2) is send(2) with
// no flags (EPIPE raises SIGPIPE in the caller).
func (s *sock) WriteInterruptible(f *vfs.File, src []byte, in vfs.Interruptible) (int, error) {
	return s.send(in, src, nil, nil, 0, f.Flags()&unix.O_NONBLOCK != 0)
}

// PRead implements vfs.FileImpl: sockets have no offset.
func (s *sock) PRead(*vfs.File, []byte, int64) (int, error) { return 0, unix.ESPIPE }

// PWrite implements vfs.FileImpl.
func (s *sock) PWrite(*vfs.File, []byte, int64) (int, error) { return 0, unix.ESPIPE }

// Seek implements vfs.FileImpl.
func (s *sock) Seek(*vfs.File, int64, int) (int64, error) { return 0, unix.ESPIPE }

// Getdents implements vfs.FileImpl.
func (s *sock) Getdents(*vfs.File, []byte) (int, error) { return 0, unix.ENOTDIR }

// HostFD implements vfs.FileImpl: a socket cannot be mapped, and its
// host descriptor is never handed out.
func (s *sock) HostFD() int { return -1 }

// Stat implements vfs.FileImpl: the host's answer for the socket inode
// (S_IFSOCK|0777, sockfs's device and inode number), owned by the
// creating task's ids rather than by the sentry's host identity.
func (s *sock) Stat(*vfs.File) (unix.Stat_t, error) {
	var st unix.Stat_t
	if err := unix.Fstat(s.fd, &st); err != nil {
		return st, errno(err)
	}
	st.Uid, st.Gid = s.uid, s.gid
	return st, nil
}
