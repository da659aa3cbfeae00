package hostinet

import (
	"time"

	"moat/sentry/kernel"
	"moat/sentry/socket"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// sendFlags are the MSG_* flags of a send passed on to the host;
// MSG_DONTWAIT and MSG_NOSIGNAL are the sentry's business (the host
// socket never blocks and never signals the sentry).
const sendFlags = unix.MSG_OOB | unix.MSG_DONTROUTE | unix.MSG_EOR | unix.MSG_MORE | unix.MSG_CONFIRM

// recvFlags are the MSG_* flags of a receive passed on to the host.
const recvFlags = unix.MSG_OOB | unix.MSG_PEEK | unix.MSG_TRUNC | unix.MSG_ERRQUEUE

// maxControl bounds the control messages one receive brings back from the
// host (IP_PKTINFO, IP_TOS, IP_RECVERR's extended error, timestamps: a
// few dozen bytes each).
const maxControl = 512

// SendMsg implements socket.Socket.
func (s *sock) SendMsg(t *kernel.Task, data, to []byte, ctl *socket.ControlMessages, flags int, nonblock bool) (int, error) {
	var cbuf []byte
	if ctl != nil && !ctl.Empty() {
		if len(ctl.Rights) > 0 || ctl.Credentials != nil {
			// Linux's ip_cmsg_send refuses SOL_SOCKET messages it does
			// not know (SCM_RIGHTS, SCM_CREDENTIALS); TCP ignores
			// control messages.
			if s.stype == unix.SOCK_STREAM {
				ctl = nil
			} else {
				return 0, unix.EINVAL
			}
		}
		if ctl != nil {
			cbuf = encodeControl(ctl.Raw)
		}
	}
	var dst []byte
	if to != nil {
		a, err := s.normaliseSendTo(to)
		if err != nil {
			return 0, err
		}
		dst = a
	}
	return s.sendTo(t, data, dst, cbuf, flags, nonblock)
}

// send is SendMsg without control messages or a destination.
func (s *sock) send(in vfs.Interruptible, data, to, ctl []byte, flags int, nonblock bool) (int, error) {
	return s.sendTo(in, data, to, ctl, flags, nonblock)
}

// sendTo sends data. A datagram goes whole or not at all; a stream send
// that may sleep returns when everything is sent, or with the count so
// far when interrupted or timed out (an error only when nothing went).
func (s *sock) sendTo(in vfs.Interruptible, data, to, ctl []byte, flags int, nonblock bool) (int, error) {
	if s.family == unix.AF_NETLINK && !readOnlyRequests(data) {
		// Changing the namespace's network needs CAP_NET_ADMIN, which
		// moat does not give the application through the host.
		return 0, unix.EPERM
	}
	_, snd := s.timeouts()
	deadline, now := deadlineFor(snd)
	hf := flags&sendFlags | unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL
	done := 0
	for {
		n, err := hostSendMsg(s.fd, data[done:], to, ctl, hf)
		if err == nil {
			done += n
			ctl = nil // sent with the first piece
			if s.stype != unix.SOCK_STREAM || done == len(data) {
				return done, nil
			}
			// A partial stream send: the rest waits for room.
			err = unix.EAGAIN
		}
		if err != unix.EAGAIN || nonblock || now || in == nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		if werr := s.wait(in, vfs.EventOut, deadline); werr != nil {
			if done > 0 {
				return done, nil
			}
			return 0, werr
		}
	}
}

// RecvMsg implements socket.Socket.
func (s *sock) RecvMsg(t *kernel.Task, dst []byte, flags int, nonblock bool, wantCtl bool) (socket.RecvResult, error) {
	return s.recv(t, dst, flags, nonblock, wantCtl)
}

// recv receives into dst. With MSG_WAITALL on a stream it keeps going
// until dst is full, the peer shuts down, an error, a signal or the
// timeout (returning what came so far, as Linux does).
func (s *sock) recv(in vfs.Interruptible, dst []byte, flags int, nonblock bool, wantCtl bool) (socket.RecvResult, error) {
	var res socket.RecvResult
	rcv, _ := s.timeouts()
	deadline, now := deadlineFor(rcv)
	hf := flags&recvFlags | unix.MSG_DONTWAIT
	if flags&(unix.MSG_ERRQUEUE|unix.MSG_OOB) != 0 {
		// Neither the error queue nor urgent data is waited for.
		nonblock = true
	}
	waitAll := flags&unix.MSG_WAITALL != 0 && flags&unix.MSG_PEEK == 0 && s.stype == unix.SOCK_STREAM
	var name [socket.MaxAddrLen]byte
	var cbuf []byte
	if wantCtl {
		cbuf = make([]byte, maxControl)
	}
	for {
		n, nameLen, ctlLen, mflags, err := hostRecvMsg(s.fd, dst[res.N:], name[:], cbuf, hf)
		if err == nil {
			if res.N == 0 && nameLen > 0 {
				res.From = append([]byte(nil), name[:min(nameLen, len(name))]...)
			}
			if ctlLen > 0 {
				res.Control.Raw = append(res.Control.Raw, decodeControl(cbuf[:ctlLen])...)
			}
			res.Flags |= mflags
			if s.stype != unix.SOCK_STREAM {
				res.N, res.Len = min(n, len(dst)), n
				return res, nil
			}
			if flags&unix.MSG_TRUNC != 0 {
				// TCP discards the data instead of copying it.
				res.Len += n
				return res, nil
			}
			res.N += n
			res.Len = res.N
			if !waitAll || n == 0 || res.N == len(dst) {
				return res, nil
			}
			err = unix.EAGAIN
		}
		if err != unix.EAGAIN || nonblock || now || in == nil {
			if res.N > 0 {
				return res, nil
			}
			return res, err
		}
		if werr := s.wait(in, vfs.EventIn|vfs.EventRdHUp, deadline); werr != nil {
			if res.N > 0 {
				return res, nil
			}
			return res, werr
		}
	}
}

// encodeControl lays raw control messages out as the host's cmsg
// headers.
func encodeControl(raw []socket.RawControl) []byte {
	size := 0
	for _, c := range raw {
		size += unix.CmsgSpace(len(c.Data))
	}
	b := make([]byte, size)
	off := 0
	for _, c := range raw {
		h := (*unix.Cmsghdr)(cmsgHeader(b[off:]))
		h.Level, h.Type = int32(c.Level), int32(c.Type)
		h.SetLen(unix.CmsgLen(len(c.Data)))
		copy(b[off+unix.CmsgLen(0):], c.Data)
		off += unix.CmsgSpace(len(c.Data))
	}
	return b
}

// decodeControl splits the host's control messages into raw ones.
func decodeControl(b []byte) []socket.RawControl {
	msgs, err := unix.ParseSocketControlMessage(b)
	if err != nil {
		return nil
	}
	out := make([]socket.RawControl, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, socket.RawControl{Level: int(m.Header.Level), Type: int(m.Header.Type), Data: append([]byte(nil), m.Data...)})
	}
	return out
}

// Ioctl implements vfs.FileImpl: the queue sizes (FIONREAD/SIOCINQ,
// SIOCOUTQ) and the interface queries (ifioctl.go) from the host;
// anything else is ENOTTY, as Linux answers for
// a request no layer of an inet socket knows. (FIONBIO and FIOCLEX are
// handled above the file.)
func (s *sock) Ioctl(_ *vfs.File, req, arg uintptr, io vfs.IOContext) (uintptr, error) {
	switch req {
	case unix.SIOCINQ, unix.SIOCOUTQ:
		v, err := hostIoctlInt(s.fd, uint(req))
		if err != nil {
			return 0, err
		}
		var b [4]byte
		putInt32(b[:], v)
		n, err := io.CopyOut(arg, b[:])
		if err != nil {
			return 0, err
		}
		if n != len(b) {
			return 0, unix.EFAULT
		}
		return 0, nil
	}
	if ok, err := s.ifIoctl(req, arg, io); ok {
		return 0, err
	}
	return 0, unix.ENOTTY
}

func putInt32(b []byte, v int32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// timevalDuration reads a struct timeval (16 bytes, both fields 64 bits
// on amd64 and arm64, little endian).
func timevalDuration(b []byte) time.Duration {
	sec := int64(le64(b[0:]))
	usec := int64(le64(b[8:]))
	return time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond
}

func le64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
