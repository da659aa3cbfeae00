// Package unix implements AF_UNIX sockets inside the sentry: SOCK_STREAM,
// SOCK_DGRAM and SOCK_SEQPACKET, socketpair, pathname and abstract
// addresses, SCM_RIGHTS and SCM_CREDENTIALS. No data and no address ever
// reaches the host: a pathname socket is an S_IFSOCK node made through
// the sandbox's VFS (tmpfs, overlay or gofer mount alike), and connect
// finds the endpoint again through that node's identity (device and
// inode number), never through a host socket.
//
// The semantics are Linux's net/unix/af_unix.c; where they differ the
// syscall table's entries say so.
//
// Locking: one mutex per sandbox (namespace.mu) guards the state of every
// endpoint, the address tables and every queue. A single lock keeps the
// two-endpoint operations (connect, send to a peer, close of a peer)
// free of lock-order problems; the cost is that unrelated Unix sockets
// of one sandbox serialise on it for the short time a queue operation
// takes. Wait queues are notified with namespace.mu held (their own lock
// is a leaf), as pipes do. File references dropped while the lock is
// held (SCM_RIGHTS files of discarded messages) are released only after
// it is unlocked, since releasing one may close another Unix socket.
package unix

import (
	"sync"
	"sync/atomic"
	"time"

	"moat/sentry/kernel"
	"moat/sentry/socket"
	"moat/sentry/vfs"

	linux "golang.org/x/sys/unix"
)

// Sizes Linux uses for Unix sockets.
const (
	// defaultBuf is net.core.wmem_default and rmem_default: a new
	// socket's SO_SNDBUF and SO_RCVBUF.
	defaultBuf = 212992
	// maxBuf is net.core.wmem_max and rmem_max: SO_SNDBUF and SO_RCVBUF
	// clamp to it before doubling.
	maxBuf = 212992
	// minSndBuf and minRcvBuf are SOCK_MIN_SNDBUF and SOCK_MIN_RCVBUF
	// for 64-bit kernels (struct sk_buff rounded to 256 bytes).
	minSndBuf = 4608
	minRcvBuf = 2304
	// maxDgramQlen is net.unix.max_dgram_qlen: a datagram socket's
	// queue is full beyond this many messages (for senders that are
	// not its peer).
	maxDgramQlen = 10
	// somaxconn is net.core.somaxconn, the largest listen backlog.
	somaxconn = 4096
	// scmMaxFD is SCM_MAX_FD, the most descriptors one SCM_RIGHTS
	// message may carry.
	scmMaxFD = 253
	// pathOffset is offsetof(struct sockaddr_un, sun_path).
	pathOffset = 2
	// maxAddr is sizeof(struct sockaddr_un).
	maxAddr = 110
	// overflowID is the overflow uid and gid reported for credentials
	// that are unknown.
	overflowID = 65534
)

// Connection states.
const (
	stateUnconnected = iota
	stateListening
	stateConnected
)

// nodeKey identifies the S_IFSOCK node a socket is bound to.
type nodeKey struct {
	dev, ino uint64
}

// abstractKey is an abstract name; Linux hashes the socket type into it,
// so sockets of different types may hold the same name.
type abstractKey struct {
	stype int
	name  string
}

// namespace is the AF_UNIX state of one sandbox (its own network
// namespace): the bound names and the lock of every endpoint.
type namespace struct {
	// mu guards the tables below and every endpoint's mutable state.
	mu       sync.Mutex
	abstract map[abstractKey]*endpoint
	paths    map[nodeKey]*endpoint
	// autobind is the next autobind name to try (5 hex digits).
	autobind uint32
}

// nsKey is the kernel.Extension key of the namespace.
type nsKey struct{}

func namespaceOf(t *kernel.Task) *namespace {
	return t.Kernel().Extension(nsKey{}, func() any {
		return &namespace{abstract: map[abstractKey]*endpoint{}, paths: map[nodeKey]*endpoint{}}
	}).(*namespace)
}

// inodeNumbers gives each socket its sockfs inode number (fstat st_ino
// and /proc/PID/fd's socket:[N]).
var inodeNumbers atomic.Uint64

// sockfsDev is the st_dev fstat reports for a socket: an anonymous
// device, as sockfs has (major 0).
const sockfsDev = 8

// creds are the credentials recorded for SO_PEERCRED and SCM_CREDENTIALS.
type creds = socket.Credentials

// unknownCreds are what Linux reports where no credentials were recorded.
var unknownCreds = creds{PID: 0, UID: overflowID, GID: overflowID}

// message is one queued send: a datagram or seqpacket record, or one
// chunk of a stream.
type message struct {
	data []byte
	// off is how much of data a stream reader consumed already.
	off int
	// from is the sender's address when it was sent (nil if unbound).
	from []byte
	// sender is charged for len(data) until the message is consumed.
	sender *endpoint
	rights []*vfs.File
	creds  creds
	// hasCreds is set when credentials were attached (SO_PASSCRED on
	// either side, or an explicit SCM_CREDENTIALS).
	hasCreds bool
}

// endpoint is one AF_UNIX socket; it is the FileImpl of the socket's
// vfs.File.
type endpoint struct {
	ns    *namespace
	stype int
	ino   uint64
	// uid and gid own the sockfs inode (the creator's fsuid and fsgid).
	uid, gid uint32
	ctime    linux.Timespec
	queue    vfs.WaitQueue

	// The fields below are guarded by ns.mu.

	state int
	// addr is the bound address as getsockname reports it (nil when
	// unbound); node or abstract says where it is registered.
	addr     []byte
	node     *nodeKey
	abstract *abstractKey
	// peer is the connected peer (stream, seqpacket) or the default
	// destination (datagram).
	peer *endpoint
	recv []*message
	// wmem is how many bytes this endpoint sent that are still queued
	// at a receiver.
	wmem int
	// backlog are the accepted-side endpoints of connections not yet
	// accepted; maxBacklog is listen's backlog.
	backlog    []*endpoint
	maxBacklog int
	// shutRD and shutWR are the shutdown state (either side's).
	shutRD, shutWR bool
	// err is the pending SO_ERROR.
	err linux.Errno
	// released is set once the file is closed (or, for an endpoint
	// still in a backlog, once its listener went).
	released bool
	// peerCreds answer SO_PEERCRED.
	peerCreds    creds
	hasPeerCreds bool
	opts         options
}

// options are the SOL_SOCKET options kept for getsockopt.
type options struct {
	passcred, reuseaddr, reuseport, keepalive, broadcast bool
	oobinline, dontroute                                 bool
	sndbuf, rcvbuf                                       int
	priority                                             int
	lingerOn                                             bool
	lingerSecs                                           int
	rcvlowat                                             int
	// rcvtimeo and sndtimeo: 0 waits forever, a negative value never
	// waits (a negative timeval, as Linux).
	rcvtimeo, sndtimeo time.Duration
}

var (
	_ socket.Socket  = (*endpoint)(nil)
	_ vfs.BlockingIO = (*endpoint)(nil)
)

type provider struct{}

func init() { socket.Register(linux.AF_UNIX, provider{}) }

// checkType answers unix_create's checks: EPROTONOSUPPORT for a protocol
// other than 0 or PF_UNIX, ESOCKTNOSUPPORT for an unknown type; SOCK_RAW
// is accepted and becomes SOCK_DGRAM, as Linux does.
func checkType(stype, protocol int) (int, error) {
	if protocol != 0 && protocol != linux.AF_UNIX {
		return 0, linux.EPROTONOSUPPORT
	}
	switch stype {
	case linux.SOCK_STREAM, linux.SOCK_DGRAM, linux.SOCK_SEQPACKET:
		return stype, nil
	case linux.SOCK_RAW:
		return linux.SOCK_DGRAM, nil
	}
	return 0, linux.ESOCKTNOSUPPORT
}

// Socket implements socket.Provider.
func (provider) Socket(t *kernel.Task, stype, protocol, flags int) (*vfs.File, error) {
	stype, err := checkType(stype, protocol)
	if err != nil {
		return nil, err
	}
	ep := newEndpoint(t, namespaceOf(t), stype)
	return newFile(ep, flags), nil
}

// Pair implements socket.Provider: two connected endpoints, each the
// other's peer, with each other's credentials as SO_PEERCRED.
func (provider) Pair(t *kernel.Task, stype, protocol, flags int) (*vfs.File, *vfs.File, error) {
	stype, err := checkType(stype, protocol)
	if err != nil {
		return nil, nil, err
	}
	ns := namespaceOf(t)
	a, b := newEndpoint(t, ns, stype), newEndpoint(t, ns, stype)
	c := taskCreds(t)
	a.peer, b.peer = b, a
	a.peerCreds, b.peerCreds = c, c
	a.hasPeerCreds, b.hasPeerCreds = true, true
	if stype != linux.SOCK_DGRAM {
		a.state, b.state = stateConnected, stateConnected
	}
	return newFile(a, flags), newFile(b, flags), nil
}

func newEndpoint(t *kernel.Task, ns *namespace, stype int) *endpoint {
	var ts linux.Timespec
	_ = linux.ClockGettime(linux.CLOCK_REALTIME, &ts)
	ep := &endpoint{ns: ns, stype: stype, ino: inodeNumbers.Add(1), ctime: ts}
	if t != nil {
		c := t.Credentials()
		ep.uid, ep.gid = c.FSUID, c.FSGID
	}
	ep.opts.sndbuf, ep.opts.rcvbuf = defaultBuf, defaultBuf
	ep.opts.rcvlowat = 1
	return ep
}

func newFile(ep *endpoint, flags int) *vfs.File {
	return vfs.NewFile(ep, linux.O_RDWR|flags&linux.O_NONBLOCK, vfs.Location{})
}

// taskCreds are t's credentials as SO_PEERCRED reports them: thread
// group ID, effective uid and gid.
func taskCreds(t *kernel.Task) creds {
	if t == nil {
		return unknownCreds
	}
	c := t.Credentials()
	return creds{PID: t.PID(), UID: c.EffectiveUID, GID: c.EffectiveGID}
}

// Family implements socket.Socket.
func (ep *endpoint) Family() int { return linux.AF_UNIX }

// Type implements socket.Socket.
func (ep *endpoint) Type() int { return ep.stype }

// Protocol implements socket.Socket: always 0 (PF_UNIX is stored as 0).
func (ep *endpoint) Protocol() int { return 0 }

// connOriented reports whether the type has connections.
func (ep *endpoint) connOriented() bool { return ep.stype != linux.SOCK_DGRAM }

// ProcLinkName is what /proc/PID/fd shows for the socket.
func (ep *endpoint) ProcLinkName() string { return "socket:[" + itoa(ep.ino) + "]" }

func itoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

// Read implements read(2) without a task to interrupt it.
func (ep *endpoint) Read(f *vfs.File, dst []byte) (int, error) {
	return ep.ReadInterruptible(f, dst, nil)
}

// Write implements write(2) without a task to interrupt it.
func (ep *endpoint) Write(f *vfs.File, src []byte) (int, error) {
	return ep.WriteInterruptible(f, src, nil)
}

// ReadInterruptible implements read(2): recv with no flags.
func (ep *endpoint) ReadInterruptible(f *vfs.File, dst []byte, in vfs.Interruptible) (int, error) {
	t, _ := in.(*kernel.Task)
	r, err := ep.recvMsg(t, in, dst, 0, socket.IsNonBlocking(f, 0), false)
	if err != nil {
		return 0, err
	}
	r.Control.Release()
	return r.Len, nil
}

// WriteInterruptible implements write(2): send with no flags.
func (ep *endpoint) WriteInterruptible(f *vfs.File, src []byte, in vfs.Interruptible) (int, error) {
	t, _ := in.(*kernel.Task)
	return ep.sendMsg(t, in, src, nil, nil, 0, socket.IsNonBlocking(f, 0))
}

// PRead fails: sockets have no offsets.
func (ep *endpoint) PRead(*vfs.File, []byte, int64) (int, error) { return 0, linux.ESPIPE }

// PWrite fails: sockets have no offsets.
func (ep *endpoint) PWrite(*vfs.File, []byte, int64) (int, error) { return 0, linux.ESPIPE }

// Seek fails: sockets have no offsets.
func (ep *endpoint) Seek(*vfs.File, int64, int) (int64, error) { return 0, linux.ESPIPE }

// Stat reports the sockfs inode: S_IFSOCK 0777 owned by the creator.
func (ep *endpoint) Stat(*vfs.File) (linux.Stat_t, error) {
	return linux.Stat_t{
		Dev: sockfsDev, Ino: ep.ino, Mode: linux.S_IFSOCK | 0o777, Nlink: 1,
		Uid: ep.uid, Gid: ep.gid, Blksize: 4096,
		Atim: ep.ctime, Mtim: ep.ctime, Ctim: ep.ctime,
	}, nil
}

// Getdents fails: a socket is no directory.
func (ep *endpoint) Getdents(*vfs.File, []byte) (int, error) { return 0, linux.ENOTDIR }

// HostFD returns -1: the socket lives in the sentry.
func (ep *endpoint) HostFD() int { return -1 }

// ioctls (asm-generic/ioctls.h, linux/sockios.h).
const (
	fionread = 0x541B // also SIOCINQ
	siocoutq = 0x5411 // TIOCOUTQ
)

// Ioctl answers SIOCINQ/FIONREAD (the bytes a read would get: for a
// datagram socket the size of the next message) and SIOCOUTQ (bytes sent
// and not yet read by the peer); others ENOTTY... as sock_ioctl, which
// answers ENOIOCTLCMD turned into ENOTTY.
func (ep *endpoint) Ioctl(_ *vfs.File, req, arg uintptr, io vfs.IOContext) (uintptr, error) {
	var v int
	ep.ns.mu.Lock()
	switch req {
	case fionread:
		if ep.state == stateListening {
			ep.ns.mu.Unlock()
			return 0, linux.EINVAL
		}
		if ep.stype == linux.SOCK_STREAM {
			for _, m := range ep.recv {
				v += len(m.data) - m.off
			}
		} else if len(ep.recv) > 0 {
			v = len(ep.recv[0].data)
		}
	case siocoutq:
		if ep.state == stateListening {
			ep.ns.mu.Unlock()
			return 0, linux.EINVAL
		}
		v = ep.wmem
	default:
		ep.ns.mu.Unlock()
		return 0, linux.ENOTTY
	}
	ep.ns.mu.Unlock()
	b := []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
	if n, err := io.CopyOut(arg, b); err != nil || n != len(b) {
		return 0, linux.EFAULT
	}
	return 0, nil
}

// Release closes the socket: its name is freed, a connected peer sees
// EOF (and ECONNRESET if this side left data unread), connections
// waiting in a listener's backlog are reset, and the files of unread
// SCM_RIGHTS messages are released.
func (ep *endpoint) Release() {
	ep.ns.mu.Lock()
	var drop []*vfs.File
	ep.closeLocked(false, &drop)
	ep.ns.mu.Unlock()
	for _, f := range drop {
		f.DecRef()
	}
}

// closeLocked tears the endpoint down; embryo is set for a connection
// that was never accepted. Files to release are appended to drop.
//
// Preconditions: ep.ns.mu is locked.
func (ep *endpoint) closeLocked(embryo bool, drop *[]*vfs.File) {
	if ep.released {
		return
	}
	ep.released = true
	ep.unbindLocked()
	for _, c := range ep.backlog {
		c.closeLocked(true, drop)
	}
	ep.backlog = nil
	if p := ep.peer; p != nil && ep.connOriented() {
		p.shutRD, p.shutWR = true, true
		if len(ep.recv) > 0 || embryo {
			p.err = linux.ECONNRESET
		}
		p.queue.Notify(vfs.EventIn | vfs.EventOut | vfs.EventHUp | vfs.EventRdHUp | vfs.EventErr)
	}
	if ep.connOriented() {
		ep.peer = nil
	}
	for _, m := range ep.recv {
		*drop = append(*drop, m.rights...)
		m.sender.uncharge(len(m.data) - m.off)
	}
	ep.recv = nil
	ep.state = stateUnconnected
	ep.queue.Notify(vfs.EventIn | vfs.EventOut | vfs.EventHUp)
}

// uncharge returns n bytes of send buffer to ep and wakes its writers.
//
// Preconditions: ep.ns.mu is locked.
func (ep *endpoint) uncharge(n int) {
	if ep == nil || n == 0 {
		return
	}
	ep.wmem -= n
	ep.queue.Notify(vfs.EventOut | vfs.EventWrNorm)
}

// unbindLocked frees the endpoint's name.
//
// Preconditions: ep.ns.mu is locked.
func (ep *endpoint) unbindLocked() {
	if ep.node != nil && ep.ns.paths[*ep.node] == ep {
		delete(ep.ns.paths, *ep.node)
	}
	if ep.abstract != nil && ep.ns.abstract[*ep.abstract] == ep {
		delete(ep.ns.abstract, *ep.abstract)
	}
}

// Readiness implements vfs.Waitable with unix_poll's and
// unix_dgram_poll's answers.
func (ep *endpoint) Readiness(mask vfs.EventMask) vfs.EventMask {
	ep.ns.mu.Lock()
	defer ep.ns.mu.Unlock()
	var r vfs.EventMask
	if ep.err != 0 {
		r |= vfs.EventErr
	}
	if ep.shutRD && ep.shutWR {
		r |= vfs.EventHUp
	}
	if ep.shutRD {
		r |= vfs.EventRdHUp | vfs.EventIn | vfs.EventRdNorm
	}
	if len(ep.recv) > 0 || (ep.state == stateListening && len(ep.backlog) > 0) {
		r |= vfs.EventIn | vfs.EventRdNorm
	}
	if ep.connOriented() {
		if ep.state == stateUnconnected {
			r |= vfs.EventHUp
		}
		if ep.state != stateListening && ep.writableLocked() {
			r |= vfs.EventOut | vfs.EventWrNorm | vfs.EventWrBand
		}
		return r & mask
	}
	writable := ep.writableLocked()
	if p := ep.peer; writable && p != nil && p.peer != ep && len(p.recv) > maxDgramQlen {
		writable = false
	}
	if writable {
		r |= vfs.EventOut | vfs.EventWrNorm | vfs.EventWrBand
	}
	return r & mask
}

// writableLocked is unix_writable: less than a quarter of the send
// buffer is in flight.
func (ep *endpoint) writableLocked() bool { return ep.wmem*4 <= ep.opts.sndbuf }

// EventRegister implements vfs.Waitable.
func (ep *endpoint) EventRegister(e *vfs.WaitEntry) bool { ep.queue.Register(e); return true }

// EventUnregister implements vfs.Waitable.
func (ep *endpoint) EventUnregister(e *vfs.WaitEntry) { ep.queue.Unregister(e) }

// waitLocked sleeps until cond holds, waking on q for mask. timeout is
// the socket's SO_RCVTIMEO or SO_SNDTIMEO. A timeout is EAGAIN; a signal
// is ERESTARTSYS without a timeout and EINTR with one (sock_intr_errno).
//
// Preconditions: ep.ns.mu is locked; it is locked again on return.
func (ep *endpoint) waitLocked(in vfs.Interruptible, q *vfs.WaitQueue, mask vfs.EventMask, timeout time.Duration, cond func() bool) error {
	if cond() {
		return nil
	}
	if timeout < 0 {
		return linux.EAGAIN
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	e := vfs.NewWaitEntry(mask)
	q.Register(e)
	defer q.Unregister(e)
	for !cond() {
		ep.ns.mu.Unlock()
		err := vfs.Block(in, e.C(), deadline)
		ep.ns.mu.Lock()
		switch err {
		case nil:
		case linux.ETIMEDOUT:
			if cond() {
				return nil
			}
			return linux.EAGAIN
		case linux.EINTR:
			if timeout > 0 {
				return linux.EINTR
			}
			return kernel.ERESTARTSYS
		default:
			return err
		}
	}
	return nil
}
