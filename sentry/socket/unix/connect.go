package unix

import (
	"fmt"

	"moat/sentry/kernel"
	"moat/sentry/vfs"

	linux "golang.org/x/sys/unix"
)

// family returns the sa_family of a raw address (0 if too short).
func family(addr []byte) int {
	if len(addr) < 2 {
		return 0
	}
	return int(addr[0]) | int(addr[1])<<8
}

// validate is unix_validate_addr: a family, at least one byte of name,
// at most sizeof(struct sockaddr_un).
func validate(addr []byte) error {
	if len(addr) <= pathOffset || len(addr) > maxAddr || family(addr) != linux.AF_UNIX {
		return linux.EINVAL
	}
	return nil
}

// pathOf returns the file name of a pathname address: sun_path up to its
// first NUL.
func pathOf(addr []byte) string {
	p := addr[pathOffset:]
	for i, c := range p {
		if c == 0 {
			return string(p[:i])
		}
	}
	return string(p)
}

// pathAddr is the address a pathname socket reports: the family, the
// path and its NUL (unix_mkname_bsd's length).
func pathAddr(path string) []byte {
	b := make([]byte, pathOffset+len(path)+1)
	b[0] = linux.AF_UNIX
	copy(b[pathOffset:], path)
	return b
}

// unnamed is the address of an unbound socket: the family alone.
func unnamed() []byte { return []byte{linux.AF_UNIX, 0} }

// Bind implements socket.Socket: a pathname makes an S_IFSOCK node
// (EADDRINUSE if the name exists), an abstract name claims it in the
// sandbox (EADDRINUSE if taken), a bare family autobinds; EINVAL for a
// bad address or a socket that is already bound.
func (ep *endpoint) Bind(t *kernel.Task, addr []byte) error {
	if len(addr) < pathOffset || family(addr) != linux.AF_UNIX {
		return linux.EINVAL
	}
	if len(addr) == pathOffset {
		ep.ns.mu.Lock()
		defer ep.ns.mu.Unlock()
		return ep.autobindLocked()
	}
	if err := validate(addr); err != nil {
		return err
	}
	if addr[pathOffset] == 0 {
		return ep.bindAbstract(addr)
	}
	return ep.bindPath(t, pathOf(addr))
}

func (ep *endpoint) bindAbstract(addr []byte) error {
	ns := ep.ns
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ep.addr != nil {
		return linux.EINVAL
	}
	k := abstractKey{stype: ep.stype, name: string(addr[pathOffset:])}
	if _, ok := ns.abstract[k]; ok {
		return linux.EADDRINUSE
	}
	ns.abstract[k] = ep
	ep.abstract = &k
	ep.addr = append([]byte(nil), addr...)
	return nil
}

// autobindLocked gives an unbound socket an abstract name of five hex
// digits, as unix_autobind; a bound socket keeps its name.
//
// Preconditions: ep.ns.mu is locked.
func (ep *endpoint) autobindLocked() error {
	if ep.addr != nil {
		return nil
	}
	ns := ep.ns
	for range 1 << 20 {
		n := ns.autobind & 0xfffff
		ns.autobind++
		name := fmt.Sprintf("\x00%05x", n)
		k := abstractKey{stype: ep.stype, name: name}
		if _, ok := ns.abstract[k]; ok {
			continue
		}
		ns.abstract[k] = ep
		ep.abstract = &k
		ep.addr = append([]byte{linux.AF_UNIX, 0}, name...)
		return nil
	}
	return linux.ENOSPC
}

// bindPath makes the socket's node through the VFS with mode 0777 less
// the umask, and records its identity.
func (ep *endpoint) bindPath(t *kernel.Task, path string) error {
	v := t.Kernel().VFS()
	c := t.VFSCreds()
	root, cwd := t.FSContext().Get()
	mode := linux.S_IFSOCK | 0o777&^t.ThreadGroup().Umask()
	if err := v.MknodAt(c, root, cwd, path, mode); err != nil {
		if err == linux.EEXIST {
			return linux.EADDRINUSE
		}
		return err
	}
	st, err := v.StatAt(c, root, cwd, path, linux.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return err
	}
	k := nodeKey{dev: st.Dev, ino: st.Ino}
	ns := ep.ns
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ep.addr != nil {
		// Linux makes the node first and removes it again when the
		// socket turns out to be bound already.
		ns.mu.Unlock()
		_ = v.UnlinkAt(c, root, cwd, path, false)
		ns.mu.Lock()
		return linux.EINVAL
	}
	// A node with the same identity can only be left from a socket
	// whose node was removed (the inode number was reused): the new
	// binding takes the identity over.
	ns.paths[k] = ep
	ep.node = &k
	ep.addr = pathAddr(path)
	return nil
}

// lookup finds the socket bound at addr for a connect or send:
// ECONNREFUSED when nothing of the type listens there, EPROTOTYPE for a
// pathname socket of another type, the path's errors, EACCES without
// write permission on the node.
func (ep *endpoint) lookup(t *kernel.Task, addr []byte) (*endpoint, error) {
	if addr[pathOffset] == 0 {
		ep.ns.mu.Lock()
		defer ep.ns.mu.Unlock()
		o := ep.ns.abstract[abstractKey{stype: ep.stype, name: string(addr[pathOffset:])}]
		if o == nil || o.released {
			return nil, linux.ECONNREFUSED
		}
		return o, nil
	}
	v := t.Kernel().VFS()
	c := t.VFSCreds()
	root, cwd := t.FSContext().Get()
	loc, err := v.LookupAt(c, root, cwd, pathOf(addr), true)
	if err != nil {
		return nil, err
	}
	if err := v.Permission(c, loc, vfs.MayWrite); err != nil && err != linux.EROFS {
		return nil, err
	}
	st, err := v.Stat(loc)
	if err != nil {
		return nil, err
	}
	if st.Mode&linux.S_IFMT != linux.S_IFSOCK {
		return nil, linux.ECONNREFUSED
	}
	ep.ns.mu.Lock()
	defer ep.ns.mu.Unlock()
	o := ep.ns.paths[nodeKey{dev: st.Dev, ino: st.Ino}]
	if o == nil || o.released {
		return nil, linux.ECONNREFUSED
	}
	if o.stype != ep.stype {
		return nil, linux.EPROTOTYPE
	}
	return o, nil
}

// Listen implements socket.Socket: EOPNOTSUPP for datagram sockets,
// EINVAL for an unbound or connected one.
func (ep *endpoint) Listen(t *kernel.Task, backlog int) error {
	if !ep.connOriented() {
		return linux.EOPNOTSUPP
	}
	ep.ns.mu.Lock()
	defer ep.ns.mu.Unlock()
	if ep.addr == nil || ep.state == stateConnected {
		return linux.EINVAL
	}
	ep.maxBacklog = max(0, min(backlog, somaxconn))
	if ep.state != stateListening {
		// init_peercred: a listener's SO_PEERCRED are its own, and
		// what its connecting sockets get as theirs.
		ep.state = stateListening
		ep.peerCreds, ep.hasPeerCreds = taskCreds(t), true
	}
	// A bigger backlog may let blocked connects in.
	ep.queue.Notify(vfs.EventOut)
	return nil
}

// Accept implements socket.Socket.
func (ep *endpoint) Accept(t *kernel.Task, flags int, nonblock bool) (*vfs.File, []byte, error) {
	if !ep.connOriented() {
		return nil, nil, linux.EOPNOTSUPP
	}
	ns := ep.ns
	ns.mu.Lock()
	if ep.state != stateListening {
		ns.mu.Unlock()
		return nil, nil, linux.EINVAL
	}
	timeout := ep.opts.rcvtimeo
	if nonblock {
		timeout = -1
	}
	err := ep.waitLocked(t, &ep.queue, vfs.EventIn, timeout, func() bool {
		return len(ep.backlog) > 0 || ep.state != stateListening
	})
	if err == nil && ep.state != stateListening {
		err = linux.EINVAL
	}
	if err != nil {
		ns.mu.Unlock()
		return nil, nil, err
	}
	c := ep.backlog[0]
	ep.backlog = ep.backlog[1:]
	// A slot in the backlog is free for a blocked connect.
	ep.queue.Notify(vfs.EventOut)
	peer := unnamed()
	if c.peer != nil && c.peer.addr != nil {
		peer = append([]byte(nil), c.peer.addr...)
	}
	if t != nil {
		cr := t.Credentials()
		c.uid, c.gid = cr.FSUID, cr.FSGID
	}
	ns.mu.Unlock()
	return newFile(c, flags&linux.O_NONBLOCK), peer, nil
}

// Connect implements socket.Socket. A stream or seqpacket connect is
// complete at once (the connection waits in the listener's backlog until
// accepted); a full backlog is EAGAIN without blocking, else the connect
// sleeps for room. A datagram connect sets or (AF_UNSPEC) clears the
// default destination.
func (ep *endpoint) Connect(t *kernel.Task, addr []byte, nonblock bool) error {
	if !ep.connOriented() {
		return ep.connectDgram(t, addr)
	}
	if err := validate(addr); err != nil {
		return err
	}
	ns := ep.ns
	ns.mu.Lock()
	if ep.opts.passcred {
		if err := ep.autobindLocked(); err != nil {
			ns.mu.Unlock()
			return err
		}
	}
	ns.mu.Unlock()
	for {
		l, err := ep.lookup(t, addr)
		if err != nil {
			return err
		}
		ns.mu.Lock()
		if l.released || l.state != stateListening || l.shutRD {
			ns.mu.Unlock()
			return linux.ECONNREFUSED
		}
		if len(l.backlog) > l.maxBacklog {
			timeout := ep.opts.sndtimeo
			if nonblock {
				timeout = -1
			}
			err := ep.waitLocked(t, &l.queue, vfs.EventOut, timeout, func() bool {
				return l.released || l.state != stateListening || len(l.backlog) <= l.maxBacklog
			})
			ns.mu.Unlock()
			if err != nil {
				return err
			}
			continue // look the name up again, as unix_stream_connect
		}
		switch ep.state {
		case stateConnected:
			ns.mu.Unlock()
			return linux.EISCONN
		case stateListening:
			ns.mu.Unlock()
			return linux.EINVAL
		}
		s := newEndpoint(nil, ns, ep.stype)
		s.uid, s.gid = l.uid, l.gid
		s.state, ep.state = stateConnected, stateConnected
		s.peer, ep.peer = ep, s
		s.addr = append([]byte(nil), l.addr...)
		s.peerCreds, s.hasPeerCreds = taskCreds(t), true
		ep.peerCreds, ep.hasPeerCreds = l.peerCreds, true
		s.opts.passcred = l.opts.passcred
		l.backlog = append(l.backlog, s)
		l.queue.Notify(vfs.EventIn | vfs.EventRdNorm)
		ep.queue.Notify(vfs.EventOut | vfs.EventWrNorm)
		ns.mu.Unlock()
		return nil
	}
}

// connectDgram sets a datagram socket's default destination; AF_UNSPEC
// removes it.
func (ep *endpoint) connectDgram(t *kernel.Task, addr []byte) error {
	if len(addr) < pathOffset {
		return linux.EINVAL
	}
	ns := ep.ns
	if family(addr) == linux.AF_UNSPEC {
		ns.mu.Lock()
		ep.peer = nil
		ep.hasPeerCreds = false
		ep.queue.Notify(vfs.EventOut)
		ns.mu.Unlock()
		return nil
	}
	if err := validate(addr); err != nil {
		return err
	}
	ns.mu.Lock()
	if ep.opts.passcred {
		if err := ep.autobindLocked(); err != nil {
			ns.mu.Unlock()
			return err
		}
	}
	ns.mu.Unlock()
	o, err := ep.lookup(t, addr)
	if err != nil {
		return err
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if o.released {
		return linux.ECONNREFUSED
	}
	if o != ep && o.peer != nil && o.peer != ep {
		// unix_may_send: the target only hears from its own peer.
		return linux.EPERM
	}
	ep.peer = o
	ep.queue.Notify(vfs.EventOut)
	return nil
}

// Shutdown implements socket.Socket: the own side's flags, mirrored on a
// connected peer of a connection-oriented socket. Unix sockets never
// answer ENOTCONN.
func (ep *endpoint) Shutdown(_ *kernel.Task, how int) error {
	ns := ep.ns
	ns.mu.Lock()
	defer ns.mu.Unlock()
	rd := how == linux.SHUT_RD || how == linux.SHUT_RDWR
	wr := how == linux.SHUT_WR || how == linux.SHUT_RDWR
	ep.shutRD = ep.shutRD || rd
	ep.shutWR = ep.shutWR || wr
	ep.queue.Notify(vfs.EventIn | vfs.EventOut | vfs.EventHUp | vfs.EventRdHUp)
	if p := ep.peer; p != nil && ep.connOriented() && !p.released {
		p.shutRD = p.shutRD || wr
		p.shutWR = p.shutWR || rd
		p.queue.Notify(vfs.EventIn | vfs.EventOut | vfs.EventHUp | vfs.EventRdHUp)
	}
	return nil
}

// SockName implements socket.Socket.
func (ep *endpoint) SockName(*kernel.Task) ([]byte, error) {
	ep.ns.mu.Lock()
	defer ep.ns.mu.Unlock()
	if ep.addr == nil {
		return unnamed(), nil
	}
	return append([]byte(nil), ep.addr...), nil
}

// PeerName implements socket.Socket: ENOTCONN without a peer.
func (ep *endpoint) PeerName(*kernel.Task) ([]byte, error) {
	ep.ns.mu.Lock()
	defer ep.ns.mu.Unlock()
	p := ep.peer
	if p == nil || (ep.connOriented() && ep.state != stateConnected) {
		return nil, linux.ENOTCONN
	}
	if p.addr == nil {
		return unnamed(), nil
	}
	return append([]byte(nil), p.addr...), nil
}
