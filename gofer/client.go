package gofer

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// ErrConnection wraps every failure of the connection itself (the gofer
// died, the socket broke, a reply made no sense). Once it is returned the
// Client is unusable. It is deliberately not a unix.Errno: the sentry
// should answer the application EIO, not the host's socket errno.
var ErrConnection = errors.New("gofer: connection lost")

// Client speaks the gofer protocol over one Unix socket. It is safe for
// concurrent use: requests are serialised by mu, one in flight at a time.
type Client struct {
	sock *os.File
	fd   int // sock's descriptor, in blocking mode

	// closed makes Close idempotent: a second shutdown could hit a
	// descriptor number reused since.
	closed atomic.Bool

	mu sync.Mutex
	// broken is sticky: set on the first transport or protocol failure
	// and on Close, returned by every later call.
	broken  error
	greeted bool // Tversion done
	tag     uint32
	nextFID FID
	enc     encoder
	rbuf    []byte
	oob     []byte
}

// NewClient wraps sock, the sentry's end of the SOCK_SEQPACKET socket to a
// gofer. It sends nothing: the version handshake happens on the first
// request, so the gofer may be started after NewClient returns.
func NewClient(sock *os.File) (*Client, error) {
	if sock == nil {
		return nil, errors.New("gofer: NewClient: nil socket")
	}
	typ, err := unix.GetsockoptInt(int(sock.Fd()), unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return nil, fmt.Errorf("gofer: NewClient: socket %q: %w", sock.Name(), err)
	}
	if typ != unix.SOCK_SEQPACKET {
		return nil, fmt.Errorf("gofer: NewClient: socket %q is type %d, want SOCK_SEQPACKET", sock.Name(), typ)
	}
	return &Client{
		sock:    sock,
		fd:      int(sock.Fd()), // Fd also puts the descriptor in blocking mode.
		nextFID: 1,
		enc:     encoder{b: make([]byte, 0, MaxMessage)},
		rbuf:    make([]byte, MaxMessage),
		oob:     make([]byte, unix.CmsgSpace(4*4)),
	}, nil
}

// Attach returns a FID for the root of the served tree.
func (c *Client) Attach() (FID, Attr, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.allocFID()
	r, _, err := c.call(&request{op: opTattach, fid: id})
	if err != nil {
		return 0, Attr{}, err
	}
	return id, r.attr, nil
}

// Walk looks up one path component, name, in directory dir. name is never
// "", "." or ".." and contains no "/": the sentry resolves those. A
// symlink is not followed: the FID names the link itself. Errors are
// unix.Errno values the sentry can return to the application (ENOENT,
// ENOTDIR, EACCES, ENAMETOOLONG, EINVAL for a name the sentry should
// have resolved itself), or wrap ErrConnection.
func (c *Client) Walk(dir FID, name string) (FID, Attr, error) {
	if err := checkName(name); err != nil {
		return 0, Attr{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.allocFID()
	r, _, err := c.call(&request{op: opTwalk, fid: dir, newID: id, name: name})
	if err != nil {
		return 0, Attr{}, err
	}
	return id, r.attr, nil
}

// Stat returns the current metadata of f.
func (c *Client) Stat(f FID) (Attr, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, _, err := c.call(&request{op: opTstat, fid: f})
	if err != nil {
		return Attr{}, err
	}
	return r.attr, nil
}

// Readlink returns the target of the symlink f (EINVAL if f is not one).
func (c *Client) Readlink(f FID) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, _, err := c.call(&request{op: opTreadlink, fid: f})
	if err != nil {
		return "", err
	}
	return r.target, nil
}

// Open opens f with the open(2) flags (O_RDONLY, O_DIRECTORY, ...; no
// O_CREAT) and returns the host descriptor the gofer passed back, with
// close-on-exec set. The caller owns it. Write access, O_TRUNC and
// O_APPEND fail with EROFS on a read-only tree; O_CREAT is Create's job
// (EINVAL here); devices, FIFOs and sockets fail with EACCES; a symlink
// with ELOOP.
func (c *Client) Open(f FID, flags int) (*os.File, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, file, err := c.call(&request{op: opTopen, fid: f, flags: uint32(flags)})
	if err != nil {
		return nil, err
	}
	return file, nil
}

// Clunk forgets f. The gofer closes its descriptor once no FID walked
// from f needs it any more.
func (c *Client) Clunk(f FID) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, _, err := c.call(&request{op: opTclunk, fid: f})
	return err
}

// Close closes the connection; the gofer exits when its last client is
// gone. A call blocked waiting for the gofer returns ErrConnection.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	// Shutdown first wakes a recvmsg blocked under mu; only then can
	// Close take mu and close the descriptor without racing a reuse of
	// its number.
	_ = unix.Shutdown(c.fd, unix.SHUT_RDWR)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.broken = errClosed
	return c.sock.Close()
}

var errClosed = fmt.Errorf("%w: client closed", ErrConnection)

// allocFID returns a FID never handed out before on this connection.
//
// Preconditions: c.mu is locked.
func (c *Client) allocFID() FID {
	id := c.nextFID
	c.nextFID++
	return id
}

// call sends req and waits for its reply. An Rerror comes back as the
// unix.Errno it carries; everything else that goes wrong breaks the
// connection. The returned file is set only for Ropen.
//
// Preconditions: c.mu is locked.
func (c *Client) call(req *request) (reply, *os.File, error) {
	if c.broken != nil {
		return reply{}, nil, c.broken
	}
	if !c.greeted {
		if err := c.greet(); err != nil {
			return reply{}, nil, c.fail(err)
		}
	}
	r, file, err := c.roundTrip(req)
	if err != nil {
		return reply{}, nil, c.fail(err)
	}
	if r.op == opRerror {
		return reply{}, nil, unix.Errno(r.errno)
	}
	return r, file, nil
}

// greet negotiates the protocol version.
//
// Preconditions: c.mu is locked.
func (c *Client) greet() error {
	r, _, err := c.roundTrip(&request{op: opTversion, flags: Version, msize: MaxMessage})
	if err != nil {
		return err
	}
	if r.op == opRerror {
		return fmt.Errorf("Tversion refused: %w", unix.Errno(r.errno))
	}
	if r.vers != Version {
		return fmt.Errorf("gofer speaks version %d, want %d", r.vers, Version)
	}
	c.greeted = true
	return nil
}

// fail makes err the connection's sticky error.
//
// Preconditions: c.mu is locked.
func (c *Client) fail(err error) error {
	c.broken = fmt.Errorf("%w: %v", ErrConnection, err)
	return c.broken
}

// roundTrip sends one request and reads its reply, checking that the reply
// answers it. It returns an Rerror as a reply, not as an error.
//
// Preconditions: c.mu is locked.
func (c *Client) roundTrip(req *request) (reply, *os.File, error) {
	c.tag++
	req.tag = c.tag
	c.enc.request(req)
	if err := sendRetry(c.fd, c.enc.b, nil); err != nil {
		return reply{}, nil, fmt.Errorf("sending %v: %v", req.op, err)
	}
	n, oobn, flags, err := recvRetry(c.fd, c.rbuf, c.oob)
	if err != nil {
		return reply{}, nil, fmt.Errorf("awaiting %v reply: %v", req.op, err)
	}
	fds, ferr := parseRights(c.oob[:oobn])
	// From here every failure path closes the descriptors received.
	if n == 0 {
		closeAll(fds)
		return reply{}, nil, fmt.Errorf("awaiting %v reply: gofer closed the connection", req.op)
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		closeAll(fds)
		return reply{}, nil, fmt.Errorf("%v reply truncated", req.op)
	}
	if ferr != nil {
		closeAll(fds)
		return reply{}, nil, fmt.Errorf("%v reply: %v", req.op, ferr)
	}
	r, err := decodeReply(c.rbuf[:n])
	if err != nil {
		closeAll(fds)
		return reply{}, nil, fmt.Errorf("%v reply: %v", req.op, err)
	}
	if r.tag != req.tag {
		closeAll(fds)
		return reply{}, nil, fmt.Errorf("%v reply has tag %d, want %d", req.op, r.tag, req.tag)
	}
	if r.op != req.op+1 && r.op != opRerror {
		closeAll(fds)
		return reply{}, nil, fmt.Errorf("%v answered by %v", req.op, r.op)
	}
	wantFD := r.op == opRopen || r.op == opRcreate
	if (len(fds) == 1) != wantFD || len(fds) > 1 {
		closeAll(fds)
		return reply{}, nil, fmt.Errorf("%v carried %d descriptors", r.op, len(fds))
	}
	if !wantFD {
		return r, nil, nil
	}
	return r, os.NewFile(uintptr(fds[0]), fmt.Sprintf("gofer:fid%d", req.fid)), nil
}

// checkName rejects what Walk never sends: the sentry resolves ".", ".."
// and "/" itself, so one reaching here is a sentry bug, answered EINVAL.
func checkName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return unix.EINVAL
	case len(name) > maxName:
		return unix.ENAMETOOLONG
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' || name[i] == 0 {
			return unix.EINVAL
		}
	}
	return nil
}
