package unix

import (
	"encoding/binary"
	"math"
	"time"

	"moat/sentry/kernel"
	"moat/sentry/vfs"

	linux "golang.org/x/sys/unix"
)

// SOL_SOCKET option numbers that golang.org/x/sys/unix names only in
// their *_OLD or *_NEW form on some architectures (asm-generic/socket.h).
const (
	soRcvtimeoOld = 20
	soSndtimeoOld = 21
	soRcvtimeoNew = 66
	soSndtimeoNew = 67
)

// capNetAdmin is CAP_NET_ADMIN, which lets SO_PRIORITY go beyond 6.
const capNetAdmin = 12

// timevalSize is sizeof(struct timeval) (and __kernel_sock_timeval) on
// 64-bit architectures.
const timevalSize = 16

var le = binary.LittleEndian

func intVal(v int) []byte {
	b := make([]byte, 4)
	le.PutUint32(b, uint32(int32(v)))
	return b
}

func boolVal(v bool) []byte {
	if v {
		return intVal(1)
	}
	return intVal(0)
}

func timeval(d time.Duration) []byte {
	b := make([]byte, timevalSize)
	if d > 0 {
		le.PutUint64(b, uint64(d/time.Second))
		le.PutUint64(b[8:], uint64(d%time.Second/time.Microsecond))
	}
	return b
}

func credsVal(c creds) []byte {
	b := make([]byte, 12)
	le.PutUint32(b, uint32(c.PID))
	le.PutUint32(b[4:], c.UID)
	le.PutUint32(b[8:], c.GID)
	return b
}

// GetSockOpt implements socket.Socket for the SOL_SOCKET options a Unix
// socket has; other levels are EOPNOTSUPP (AF_UNIX has no protocol
// options), unknown options ENOPROTOOPT.
func (ep *endpoint) GetSockOpt(_ *kernel.Task, level, name, _ int) ([]byte, error) {
	if level != linux.SOL_SOCKET {
		return nil, linux.EOPNOTSUPP
	}
	ep.ns.mu.Lock()
	defer ep.ns.mu.Unlock()
	o := &ep.opts
	switch name {
	case linux.SO_TYPE:
		return intVal(ep.stype), nil
	case linux.SO_DOMAIN:
		return intVal(linux.AF_UNIX), nil
	case linux.SO_PROTOCOL:
		return intVal(0), nil
	case linux.SO_ERROR:
		e := ep.err
		ep.err = 0
		return intVal(int(e)), nil
	case linux.SO_ACCEPTCONN:
		return boolVal(ep.state == stateListening), nil
	case linux.SO_SNDBUF:
		return intVal(o.sndbuf), nil
	case linux.SO_RCVBUF:
		return intVal(o.rcvbuf), nil
	case linux.SO_REUSEADDR:
		return boolVal(o.reuseaddr), nil
	case linux.SO_REUSEPORT:
		return boolVal(o.reuseport), nil
	case linux.SO_KEEPALIVE:
		return boolVal(o.keepalive), nil
	case linux.SO_BROADCAST:
		return boolVal(o.broadcast), nil
	case linux.SO_OOBINLINE:
		return boolVal(o.oobinline), nil
	case linux.SO_DONTROUTE:
		return boolVal(o.dontroute), nil
	case linux.SO_PASSCRED:
		return boolVal(o.passcred), nil
	case linux.SO_PRIORITY:
		return intVal(o.priority), nil
	case linux.SO_RCVLOWAT:
		return intVal(o.rcvlowat), nil
	case linux.SO_SNDLOWAT:
		return intVal(1), nil
	case linux.SO_LINGER:
		b := make([]byte, 8)
		if o.lingerOn {
			le.PutUint32(b, 1)
		}
		le.PutUint32(b[4:], uint32(o.lingerSecs))
		return b, nil
	case linux.SO_PEERCRED:
		if !ep.hasPeerCreds {
			return credsVal(creds{PID: 0, UID: math.MaxUint32, GID: math.MaxUint32}), nil
		}
		return credsVal(ep.peerCreds), nil
	case soRcvtimeoOld, soRcvtimeoNew:
		return timeval(o.rcvtimeo), nil
	case soSndtimeoOld, soSndtimeoNew:
		return timeval(o.sndtimeo), nil
	}
	return nil, linux.ENOPROTOOPT
}

// SetSockOpt implements socket.Socket: EINVAL for a value shorter than
// an int (or than the option's struct), EDOM for a timeval with bad
// microseconds, ENOPROTOOPT for read-only and unknown options.
func (ep *endpoint) SetSockOpt(t *kernel.Task, level, name int, opt []byte) error {
	if level != linux.SOL_SOCKET {
		return linux.EOPNOTSUPP
	}
	if len(opt) < 4 {
		return linux.EINVAL
	}
	val := int(int32(le.Uint32(opt)))
	on := val != 0
	ep.ns.mu.Lock()
	defer ep.ns.mu.Unlock()
	o := &ep.opts
	switch name {
	case linux.SO_SNDBUF:
		v := int(min(uint32(val), maxBuf))
		o.sndbuf = max(v*2, minSndBuf)
		ep.queue.Notify(vfs.EventOut)
	case linux.SO_RCVBUF:
		v := int(min(uint32(val), maxBuf))
		o.rcvbuf = max(v*2, minRcvBuf)
	case linux.SO_REUSEADDR:
		o.reuseaddr = on
	case linux.SO_REUSEPORT:
		o.reuseport = on
	case linux.SO_KEEPALIVE:
		o.keepalive = on
	case linux.SO_BROADCAST:
		o.broadcast = on
	case linux.SO_OOBINLINE:
		o.oobinline = on
	case linux.SO_DONTROUTE:
		o.dontroute = on
	case linux.SO_PASSCRED:
		o.passcred = on
	case linux.SO_PRIORITY:
		if (val < 0 || val > 6) && (t == nil || !t.Credentials().HasCap(capNetAdmin)) {
			return linux.EPERM
		}
		o.priority = val
	case linux.SO_RCVLOWAT:
		if val < 0 {
			val = math.MaxInt32
		}
		o.rcvlowat = max(val, 1)
	case linux.SO_LINGER:
		if len(opt) < 8 {
			return linux.EINVAL
		}
		o.lingerOn = on
		if on {
			o.lingerSecs = int(int32(le.Uint32(opt[4:])))
		}
	case soRcvtimeoOld, soRcvtimeoNew, soSndtimeoOld, soSndtimeoNew:
		d, err := parseTimeout(opt)
		if err != nil {
			return err
		}
		if name == soRcvtimeoOld || name == soRcvtimeoNew {
			o.rcvtimeo = d
		} else {
			o.sndtimeo = d
		}
	default:
		return linux.ENOPROTOOPT
	}
	return nil
}

// parseTimeout is sock_set_timeout: EINVAL for a short value, EDOM for
// microseconds out of range; a negative time never waits, zero waits
// forever.
func parseTimeout(opt []byte) (time.Duration, error) {
	if len(opt) < timevalSize {
		return 0, linux.EINVAL
	}
	sec := int64(le.Uint64(opt))
	usec := int64(le.Uint64(opt[8:]))
	if usec < 0 || usec >= 1e6 {
		return 0, linux.EDOM
	}
	if sec < 0 {
		return -1, nil
	}
	if sec > int64(math.MaxInt64/time.Second)-1 {
		return 0, nil
	}
	return time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, nil
}
