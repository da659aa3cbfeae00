// Package socket is the family-neutral socket layer of the sentry: the
// interface every socket family implements (Socket), the per-family
// constructors (Provider, Register) that socket(2) and socketpair(2)
// dispatch to, and the family-neutral forms of control messages.
//
// Families live in sub-packages: sentry/socket/unix (AF_UNIX, entirely in
// the sentry) and sentry/socket/hostinet (AF_INET and AF_INET6 on host
// sockets). Each registers itself from an init function; the syscalls
// package imports them for that side effect and dispatches through New
// and NewPair without knowing the families.
//
// Conventions shared by every method below:
//   - Errors returned to the application are unix.Errno values, exactly
//     those Linux returns for the same call on the same family.
//   - Addresses are raw struct sockaddr bytes as the application passed
//     them (at most MaxAddrLen bytes, already copied in, length checked
//     against 0..MaxAddrLen by the caller) or as it must receive them
//     (the exact length Linux reports in *addrlen, even where that is
//     shorter than the struct).
//   - t is the calling task: the credentials, the fd table, and the
//     Blocker used to sleep (EINTR when a signal comes; the syscall layer
//     turns that into a restart where Linux restarts).
//   - nonblock is true when the call must not sleep: the file has
//     O_NONBLOCK, or the call passed MSG_DONTWAIT. Sleeping calls honour
//     SO_RCVTIMEO / SO_SNDTIMEO themselves (EAGAIN when they expire, as
//     Linux reports). A sleep cut short by a signal returns
//     kernel.ERESTARTSYS when no timeout is set and EINTR when one is
//     (Linux's sock_intr_errno); the syscall layer passes either on.
package socket

import (
	"sync"

	"moat/sentry/kernel"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// MaxAddrLen is the largest socket address the kernel accepts (sizeof
// struct sockaddr_storage): a longer addrlen is EINVAL.
const MaxAddrLen = 128

// Socket is what the FileImpl of every socket implements. A socket file
// is a vfs.File whose Impl() is a Socket; read(2) and write(2) go through
// the FileImpl's BlockingIO methods (as recv/send with no flags), poll and
// epoll through vfs.Waitable, fstat reports S_IFSOCK.
type Socket interface {
	vfs.FileImpl
	vfs.Waitable

	// Family returns the address family (AF_UNIX, AF_INET ...), as
	// SO_DOMAIN reports it.
	Family() int
	// Type returns the socket type (SOCK_STREAM ...) without
	// SOCK_NONBLOCK or SOCK_CLOEXEC, as SO_TYPE reports it.
	Type() int
	// Protocol returns the protocol, as SO_PROTOCOL reports it.
	Protocol() int

	// Bind implements bind(2): assign the local address addr. EINVAL
	// if the socket is already bound or addr is too short for the
	// family, EAFNOSUPPORT for another family's address, EADDRINUSE if
	// the address is taken, plus the path errors of a file system name
	// (AF_UNIX).
	Bind(t *kernel.Task, addr []byte) error

	// Listen implements listen(2): mark a connection-oriented socket
	// as accepting connections with the given backlog (already clamped
	// to [0, somaxconn] by the caller). EOPNOTSUPP for a socket type
	// that does not listen, EINVAL for a connected socket. A listening
	// socket may be listened on again to change the backlog.
	Listen(t *kernel.Task, backlog int) error

	// Accept implements accept4(2): take the first pending connection
	// and return it as a new file (one reference, status flags O_RDWR
	// plus O_NONBLOCK when flags has SOCK_NONBLOCK) with the peer's
	// address (what getpeername on the new socket reports). EINVAL if
	// the socket is not listening, EOPNOTSUPP for a type that does not
	// accept, EAGAIN when nothing is pending and nonblock, else it
	// sleeps (EINTR on a signal).
	Accept(t *kernel.Task, flags int, nonblock bool) (*vfs.File, []byte, error)

	// Connect implements connect(2). For a connection-oriented socket:
	// connect to the listener at addr (ECONNREFUSED if there is none or
	// its backlog is full and nonblock, EISCONN if already connected,
	// EINPROGRESS / EALREADY for a non-blocking connect that cannot
	// finish at once). For a datagram socket: set the default peer
	// (AF_UNSPEC dissolves the association).
	Connect(t *kernel.Task, addr []byte, nonblock bool) error

	// Shutdown implements shutdown(2); how is SHUT_RD, SHUT_WR or
	// SHUT_RDWR (the caller has rejected other values with EINVAL).
	// ENOTCONN if the family requires a connection (AF_INET does,
	// AF_UNIX does not).
	Shutdown(t *kernel.Task, how int) error

	// SockName implements getsockname(2): the local address, with the
	// length Linux reports (for an unbound AF_UNIX socket just the
	// family, 2 bytes).
	SockName(t *kernel.Task) ([]byte, error)

	// PeerName implements getpeername(2): the peer's address, ENOTCONN
	// when there is no peer.
	PeerName(t *kernel.Task) ([]byte, error)

	// GetSockOpt implements getsockopt(2) for level and name. optLen is
	// the caller's buffer size (>= 0; the caller rejected negative
	// lengths with EINVAL). It returns the option's value; the caller
	// copies out at most optLen bytes of it and reports the copied
	// length, as Linux does for the options that truncate. Options
	// that must refuse a short buffer return EINVAL themselves.
	// ENOPROTOOPT for an unknown option.
	GetSockOpt(t *kernel.Task, level, name, optLen int) ([]byte, error)

	// SetSockOpt implements setsockopt(2) with the value's bytes
	// (already copied in; EINVAL for a value too short for the option,
	// ENOPROTOOPT for an unknown option).
	SetSockOpt(t *kernel.Task, level, name int, opt []byte) error

	// SendMsg implements sendmsg(2) for one message: data is the
	// gathered iovecs, to the address to (nil for a connected send),
	// with the control messages ctl (may be nil) and the MSG_* flags.
	// It returns how much of data was sent. A stream send that sleeps
	// returns once everything is sent, or with the count so far when
	// interrupted or timed out (an error only if nothing was sent).
	// When the socket keeps the files of ctl.Rights (queued with the
	// data) it sets ctl.Rights to nil; the caller releases whatever is
	// left there afterwards (ctl.Release), success or not. EPIPE when
	// the socket cannot send any more; the family raises SIGPIPE itself
	// where Linux does (stream sockets, unless MSG_NOSIGNAL), since not
	// every family does (a Unix SOCK_SEQPACKET does not). Control
	// messages the family does not take are EINVAL, as Linux answers.
	SendMsg(t *kernel.Task, data []byte, to []byte, ctl *ControlMessages, flags int, nonblock bool) (int, error)

	// RecvMsg implements recvmsg(2) for one message into dst, with the
	// MSG_* flags (MSG_PEEK, MSG_TRUNC, MSG_WAITALL, MSG_CMSG_CLOEXEC is
	// the caller's business). wantCtl is false when the caller has no
	// room for control messages at all (msg_controllen 0): the socket
	// still consumes them, and reports MSG_CTRUNC if there were some.
	RecvMsg(t *kernel.Task, dst []byte, flags int, nonblock bool, wantCtl bool) (RecvResult, error)
}

// RecvResult is what one RecvMsg received.
type RecvResult struct {
	// N is the number of bytes copied into dst.
	N int
	// Len is the length recvmsg returns: N, or with MSG_TRUNC on a
	// datagram socket the message's real length.
	Len int
	// From is the sender's address (nil when there is none to report,
	// e.g. a connected stream socket).
	From []byte
	// Control are the control messages that came with the data. The
	// caller owns the references in Control.Rights.
	Control ControlMessages
	// Flags are the msg_flags to report (MSG_TRUNC, MSG_CTRUNC, MSG_EOR
	// ...). The caller adds MSG_CTRUNC when the control messages do not
	// fit its buffer.
	Flags int
}

// Credentials are an SCM_CREDENTIALS message (struct ucred): process ID
// in the receiver's PID namespace, user and group IDs.
type Credentials struct {
	PID      int32
	UID, GID uint32
}

// RawControl is a control message this package has no form for, kept as
// its cmsg_level, cmsg_type and data bytes (IP_TOS, timestamps ...).
type RawControl struct {
	Level, Type int
	Data        []byte
}

// ControlMessages are the ancillary data of one message, family-neutral.
type ControlMessages struct {
	// Rights are SCM_RIGHTS files, each holding one reference that
	// belongs to whoever holds the ControlMessages.
	Rights []*vfs.File
	// Credentials, when not nil, are an SCM_CREDENTIALS message.
	Credentials *Credentials
	// Raw are the other messages, in order.
	Raw []RawControl
}

// Release drops the references of the Rights files (a message that is
// discarded or whose files did not fit).
func (c *ControlMessages) Release() {
	for _, f := range c.Rights {
		f.DecRef()
	}
	c.Rights = nil
}

// Empty reports whether there is no control message at all.
func (c *ControlMessages) Empty() bool {
	return len(c.Rights) == 0 && c.Credentials == nil && len(c.Raw) == 0
}

// Provider makes the sockets of one address family.
type Provider interface {
	// Socket implements socket(2) for the family: stype is the type
	// without SOCK_NONBLOCK and SOCK_CLOEXEC, flags is O_NONBLOCK or 0
	// (the new file's status flags besides O_RDWR). It returns a file
	// with one reference whose Impl() is a Socket, or
	// ESOCKTNOSUPPORT / EPROTONOSUPPORT / EPROTOTYPE as the family's
	// create function in Linux answers.
	Socket(t *kernel.Task, stype, protocol, flags int) (*vfs.File, error)
	// Pair implements socketpair(2) for the family (EOPNOTSUPP for
	// families that have none, as AF_INET).
	Pair(t *kernel.Task, stype, protocol, flags int) (*vfs.File, *vfs.File, error)
}

var (
	// providersMu guards providers, filled at init by the families.
	providersMu sync.RWMutex
	providers   = map[int]Provider{}
)

// Register makes p the provider of family. Families call it from init;
// a second registration of a family replaces the first.
func Register(family int, p Provider) {
	providersMu.Lock()
	defer providersMu.Unlock()
	providers[family] = p
}

func provider(family int) Provider {
	providersMu.RLock()
	defer providersMu.RUnlock()
	return providers[family]
}

// New implements socket(2) once the type's flags are split off:
// EAFNOSUPPORT for a family no package registered (as Linux answers for
// a family it has no module for), else the family's answer.
func New(t *kernel.Task, family, stype, protocol, flags int) (*vfs.File, error) {
	p := provider(family)
	if p == nil {
		return nil, unix.EAFNOSUPPORT
	}
	return p.Socket(t, stype, protocol, flags)
}

// NewPair implements socketpair(2) like New.
func NewPair(t *kernel.Task, family, stype, protocol, flags int) (*vfs.File, *vfs.File, error) {
	p := provider(family)
	if p == nil {
		return nil, nil, unix.EAFNOSUPPORT
	}
	return p.Pair(t, stype, protocol, flags)
}

// FromFile returns the socket behind f, or false when f is no socket
// (the syscalls answer ENOTSOCK).
func FromFile(f *vfs.File) (Socket, bool) {
	s, ok := f.Impl().(Socket)
	return s, ok
}

// IsNonBlocking reports whether a call on f with the MSG_* flags must not
// sleep: O_NONBLOCK on the file or MSG_DONTWAIT on the call.
func IsNonBlocking(f *vfs.File, msgFlags int) bool {
	return f.Flags()&unix.O_NONBLOCK != 0 || msgFlags&unix.MSG_DONTWAIT != 0
}
