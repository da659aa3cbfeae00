package unix

import (
	"time"

	"moat/sentry/kernel"
	"moat/sentry/socket"
	"moat/sentry/vfs"

	linux "golang.org/x/sys/unix"
)

// maxStreamChunk bounds one queued piece of a stream send, as Linux
// bounds one skb of unix_stream_sendmsg.
const maxStreamChunk = 32 << 10

// interruptible returns t as a vfs.Interruptible, nil for no task (a nil
// *kernel.Task in an interface would not be nil).
func interruptible(t *kernel.Task) vfs.Interruptible {
	if t == nil {
		return nil
	}
	return t
}

// SendMsg implements socket.Socket.
func (ep *endpoint) SendMsg(t *kernel.Task, data, to []byte, ctl *socket.ControlMessages, flags int, nonblock bool) (int, error) {
	return ep.sendMsg(t, interruptible(t), data, to, ctl, flags, nonblock)
}

// senderCreds are what SCM_CREDENTIALS carry when the kernel fills them
// in: thread group ID, real uid and gid.
func senderCreds(t *kernel.Task) creds {
	if t == nil {
		return unknownCreds
	}
	c := t.Credentials()
	return creds{PID: t.PID(), UID: c.RealUID, GID: c.RealGID}
}

// checkControl refuses the control messages AF_UNIX does not take:
// other SOL_SOCKET types are EINVAL (__scm_send), other levels are
// ignored.
func checkControl(ctl *socket.ControlMessages) error {
	if ctl == nil {
		return nil
	}
	for _, r := range ctl.Raw {
		if r.Level == linux.SOL_SOCKET {
			return linux.EINVAL
		}
	}
	return nil
}

func (ep *endpoint) sendMsg(t *kernel.Task, in vfs.Interruptible, data, to []byte, ctl *socket.ControlMessages, flags int, nonblock bool) (int, error) {
	if flags&linux.MSG_OOB != 0 {
		return 0, linux.EOPNOTSUPP
	}
	if err := checkControl(ctl); err != nil {
		return 0, err
	}
	if ep.stype == linux.SOCK_STREAM {
		n, err := ep.sendStream(t, in, data, to, ctl, nonblock)
		if err == linux.EPIPE && n == 0 && flags&linux.MSG_NOSIGNAL == 0 && t != nil {
			t.SendSignal(linux.SIGPIPE, nil)
		}
		if n > 0 {
			return n, nil
		}
		return 0, err
	}
	return ep.sendDgram(t, in, data, to, ctl, nonblock)
}

// sendTimeout is the wait a send may make.
//
// Preconditions: ep.ns.mu is locked.
func (ep *endpoint) sendTimeout(nonblock bool) time.Duration {
	if nonblock {
		return -1
	}
	return ep.opts.sndtimeo
}

func (ep *endpoint) sendStream(t *kernel.Task, in vfs.Interruptible, data, to []byte, ctl *socket.ControlMessages, nonblock bool) (int, error) {
	ns := ep.ns
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if len(to) > 0 {
		if ep.state == stateConnected {
			return 0, linux.EISCONN
		}
		return 0, linux.EOPNOTSUPP
	}
	if ep.state != stateConnected || ep.peer == nil {
		return 0, linux.ENOTCONN
	}
	if ep.shutWR {
		return 0, linux.EPIPE
	}
	var cr *socket.Credentials
	if ctl != nil {
		cr = ctl.Credentials
	}
	sent := 0
	first := true
	for first || sent < len(data) {
		if len(data) == 0 {
			return 0, nil
		}
		first = false
		err := ep.waitLocked(in, &ep.queue, vfs.EventOut, ep.sendTimeout(nonblock), func() bool {
			return ep.wmem < ep.opts.sndbuf || ep.shutWR || ep.err != 0
		})
		if err != nil {
			return sent, err
		}
		if ep.err != 0 {
			err := ep.err
			ep.err = 0
			return sent, err
		}
		p := ep.peer
		if ep.shutWR || p == nil || p.released || p.shutRD {
			return sent, linux.EPIPE
		}
		size := min(len(data)-sent, ep.opts.sndbuf/2-64, maxStreamChunk)
		m := &message{data: append([]byte(nil), data[sent:sent+size]...), sender: ep}
		if sent == 0 && ctl != nil {
			// Only the first piece carries the files (unix_stream_sendmsg).
			m.rights, ctl.Rights = ctl.Rights, nil
		}
		ep.attachCreds(t, m, p, cr)
		p.recv = append(p.recv, m)
		ep.wmem += size
		sent += size
		p.queue.Notify(vfs.EventIn | vfs.EventRdNorm)
	}
	return sent, nil
}

// attachCreds records the credentials of a message: those the sender
// passed, else its own when either side has SO_PASSCRED.
//
// Preconditions: ep.ns.mu is locked.
func (ep *endpoint) attachCreds(t *kernel.Task, m *message, to *endpoint, given *socket.Credentials) {
	switch {
	case given != nil:
		m.creds, m.hasCreds = *given, true
	case ep.opts.passcred || to.opts.passcred:
		m.creds, m.hasCreds = senderCreds(t), true
	}
}

func (ep *endpoint) sendDgram(t *kernel.Task, in vfs.Interruptible, data, to []byte, ctl *socket.ControlMessages, nonblock bool) (int, error) {
	ns := ep.ns
	seqpacket := ep.stype == linux.SOCK_SEQPACKET
	ns.mu.Lock()
	if seqpacket {
		if ep.state != stateConnected {
			ns.mu.Unlock()
			return 0, linux.ENOTCONN
		}
		to = nil // unix_seqpacket_sendmsg ignores the address
	}
	if len(to) > 0 {
		if err := validate(to); err != nil {
			ns.mu.Unlock()
			return 0, err
		}
	} else if ep.peer == nil {
		ns.mu.Unlock()
		return 0, linux.ENOTCONN
	}
	if ep.opts.passcred {
		if err := ep.autobindLocked(); err != nil {
			ns.mu.Unlock()
			return 0, err
		}
	}
	if len(data) > ep.opts.sndbuf-32 {
		ns.mu.Unlock()
		return 0, linux.EMSGSIZE
	}
	// sock_alloc_send_pskb: a pending error, a shut writer, then room
	// in the send buffer.
	err := ep.waitLocked(in, &ep.queue, vfs.EventOut, ep.sendTimeout(nonblock), func() bool {
		return ep.wmem < ep.opts.sndbuf || ep.shutWR || ep.err != 0
	})
	if err == nil && ep.err != 0 {
		err, ep.err = ep.err, 0
	}
	if err == nil && ep.shutWR {
		err = linux.EPIPE
	}
	ns.mu.Unlock()
	if err != nil {
		return 0, err
	}
	var cr *socket.Credentials
	if ctl != nil {
		cr = ctl.Credentials
	}
	for {
		var o *endpoint
		if len(to) > 0 {
			if t == nil {
				return 0, linux.EINVAL
			}
			o, err = ep.lookup(t, to)
			if err != nil {
				return 0, err
			}
		}
		ns.mu.Lock()
		if o == nil {
			if o = ep.peer; o == nil {
				ns.mu.Unlock()
				return 0, linux.ECONNRESET
			}
		}
		if o.peer != nil && o.peer != ep && !o.released {
			ns.mu.Unlock()
			return 0, linux.EPERM
		}
		if o.released {
			err := linux.ECONNREFUSED
			if seqpacket {
				err = linux.EPIPE
			} else if ep.peer == o {
				ep.peer = nil
			}
			ns.mu.Unlock()
			return 0, err
		}
		if o.shutRD {
			ns.mu.Unlock()
			return 0, linux.EPIPE
		}
		if o.peer != ep && len(o.recv) > maxDgramQlen {
			err := ep.waitLocked(in, &o.queue, vfs.EventOut, ep.sendTimeout(nonblock), func() bool {
				return o.released || len(o.recv) <= maxDgramQlen
			})
			ns.mu.Unlock()
			if err != nil {
				return 0, err
			}
			continue
		}
		m := &message{data: append([]byte(nil), data...), sender: ep}
		if ep.addr != nil {
			m.from = ep.addr
		}
		if ctl != nil {
			m.rights, ctl.Rights = ctl.Rights, nil
		}
		ep.attachCreds(t, m, o, cr)
		o.recv = append(o.recv, m)
		ep.wmem += len(data)
		o.queue.Notify(vfs.EventIn | vfs.EventRdNorm)
		ns.mu.Unlock()
		return len(data), nil
	}
}

// RecvMsg implements socket.Socket.
func (ep *endpoint) RecvMsg(t *kernel.Task, dst []byte, flags int, nonblock, wantCtl bool) (socket.RecvResult, error) {
	return ep.recvMsg(t, interruptible(t), dst, flags, nonblock, wantCtl)
}

// recvTimeout is the wait a receive may make.
//
// Preconditions: ep.ns.mu is locked.
func (ep *endpoint) recvTimeout(nonblock bool) time.Duration {
	if nonblock {
		return -1
	}
	return ep.opts.rcvtimeo
}

func (ep *endpoint) recvMsg(t *kernel.Task, in vfs.Interruptible, dst []byte, flags int, nonblock, _ bool) (socket.RecvResult, error) {
	if flags&linux.MSG_OOB != 0 {
		return socket.RecvResult{}, linux.EOPNOTSUPP
	}
	ns := ep.ns
	ns.mu.Lock()
	var r socket.RecvResult
	var err error
	if ep.stype == linux.SOCK_STREAM {
		r, err = ep.recvStream(in, dst, flags, nonblock)
	} else {
		r, err = ep.recvDgram(in, dst, flags, nonblock)
	}
	ns.mu.Unlock()
	return r, err
}

// recvDgram receives one datagram or seqpacket record; the rest of a
// record that does not fit is lost (MSG_TRUNC in the flags).
//
// Preconditions: ep.ns.mu is locked.
func (ep *endpoint) recvDgram(in vfs.Interruptible, dst []byte, flags int, nonblock bool) (socket.RecvResult, error) {
	var r socket.RecvResult
	if ep.stype == linux.SOCK_SEQPACKET && ep.state != stateConnected {
		return r, linux.ENOTCONN
	}
	for {
		if ep.err != 0 {
			err := ep.err
			ep.err = 0
			return r, err
		}
		if len(ep.recv) > 0 {
			break
		}
		if ep.shutRD {
			return r, nil
		}
		err := ep.waitLocked(in, &ep.queue, vfs.EventIn, ep.recvTimeout(nonblock), func() bool {
			return len(ep.recv) > 0 || ep.shutRD || ep.err != 0
		})
		if err != nil {
			return r, err
		}
	}
	m := ep.recv[0]
	r.N = copy(dst, m.data)
	r.Len = r.N
	if r.N < len(m.data) {
		r.Flags |= linux.MSG_TRUNC
		if flags&linux.MSG_TRUNC != 0 {
			r.Len = len(m.data)
		}
	}
	if m.sender != nil && m.sender.addr != nil {
		r.From = append([]byte(nil), m.sender.addr...)
	}
	ep.deliverControl(&r, m, flags&linux.MSG_PEEK != 0)
	if flags&linux.MSG_PEEK == 0 {
		ep.recv = ep.recv[1:]
		m.sender.uncharge(len(m.data))
		// A sender waiting for room in this queue may go on.
		ep.queue.Notify(vfs.EventOut)
	}
	return r, nil
}

// deliverControl hands m's credentials (if this socket has SO_PASSCRED)
// and files to r: taken, or with MSG_PEEK, duplicated.
//
// Preconditions: ep.ns.mu is locked.
func (ep *endpoint) deliverControl(r *socket.RecvResult, m *message, peek bool) {
	if ep.opts.passcred {
		c := unknownCreds
		if m.hasCreds {
			c = m.creds
		}
		r.Control.Credentials = &c
	}
	if len(m.rights) == 0 {
		return
	}
	if peek {
		for _, f := range m.rights {
			f.IncRef()
		}
		r.Control.Rights = append(r.Control.Rights, m.rights...)
		return
	}
	r.Control.Rights = append(r.Control.Rights, m.rights...)
	m.rights = nil
}

// recvStream reads from the stream: what is queued, up to len(dst),
// never gluing data sent with other credentials (with SO_PASSCRED) and
// stopping after data that carried files; MSG_WAITALL waits for all of
// dst.
//
// Preconditions: ep.ns.mu is locked.
func (ep *endpoint) recvStream(in vfs.Interruptible, dst []byte, flags int, nonblock bool) (socket.RecvResult, error) {
	var r socket.RecvResult
	if ep.state != stateConnected {
		return r, linux.EINVAL
	}
	if len(dst) == 0 {
		return r, nil
	}
	peek := flags&linux.MSG_PEEK != 0
	waitAll := flags&linux.MSG_WAITALL != 0 && !peek
	var credsSeen *socket.Credentials
	copied := 0
	for {
		if len(ep.recv) == 0 {
			if copied > 0 && !waitAll {
				break
			}
			if ep.err != 0 {
				if copied > 0 {
					break
				}
				err := ep.err
				ep.err = 0
				return r, err
			}
			if ep.shutRD {
				break
			}
			err := ep.waitLocked(in, &ep.queue, vfs.EventIn, ep.recvTimeout(nonblock), func() bool {
				return len(ep.recv) > 0 || ep.shutRD || ep.err != 0
			})
			if err != nil {
				if copied > 0 {
					break
				}
				return r, err
			}
			continue
		}
		stop := false
		for i := 0; i < len(ep.recv) && copied < len(dst); {
			m := ep.recv[i]
			if ep.opts.passcred {
				c := unknownCreds
				if m.hasCreds {
					c = m.creds
				}
				if credsSeen == nil {
					credsSeen = &c
					r.Control.Credentials = credsSeen
				} else if *credsSeen != c {
					stop = true
					break
				}
			}
			if copied == 0 && m.sender != nil && m.sender.addr != nil {
				r.From = append([]byte(nil), m.sender.addr...)
			}
			n := copy(dst[copied:], m.data[m.off:])
			copied += n
			hasRights := len(m.rights) > 0
			if hasRights {
				if peek {
					for _, f := range m.rights {
						f.IncRef()
					}
					r.Control.Rights = append(r.Control.Rights, m.rights...)
				} else {
					r.Control.Rights = append(r.Control.Rights, m.rights...)
					m.rights = nil
				}
			}
			if peek {
				i++
			} else {
				m.off += n
				m.sender.uncharge(n)
				if m.off == len(m.data) {
					ep.recv = ep.recv[1:]
				}
			}
			if hasRights {
				stop = true
				break
			}
		}
		if stop || copied == len(dst) || peek || !waitAll {
			break
		}
	}
	r.N, r.Len = copied, copied
	return r, nil
}
