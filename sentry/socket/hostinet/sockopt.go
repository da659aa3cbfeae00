package hostinet

import (
	"time"

	"moat/sentry/filter"
	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

// maxOptLen bounds the option bytes passed to and from the host. The
// largest option moat passes is TCP_INFO (a little over 200 bytes);
// setsockopt reads at most the option's own size, so a longer value
// loses nothing.
const maxOptLen = 512

// settable is filter.SetSockOpts as a set: the options the filter lets
// the sentry set on the host, and therefore the only ones it tries.
var settable = func() map[filter.SockOpt]bool {
	m := make(map[filter.SockOpt]bool, len(filter.SetSockOpts))
	for _, o := range filter.SetSockOpts {
		m[o] = true
	}
	return m
}()

// GetSockOpt implements socket.Socket: every option is read from the
// host socket (reading changes nothing and reveals only the socket's own
// state), truncated to the caller's length by the host exactly as Linux
// truncates. The timeouts too: they are set on the host as well.
func (s *sock) GetSockOpt(_ *kernel.Task, level, name, optLen int) ([]byte, error) {
	buf := make([]byte, min(optLen, maxOptLen))
	n, err := hostGetSockOpt(s.fd, level, name, buf)
	if err != nil {
		return nil, err
	}
	return buf[:min(n, len(buf))], nil
}

// SetSockOpt implements socket.Socket: an option of the allow-list goes
// to the host, which validates it as Linux does; SO_RCVTIMEO and
// SO_SNDTIMEO are also kept in the sentry, which does the waiting.
// SO_BINDTODEVICE is EPERM (Linux's answer without CAP_NET_RAW, which
// the sentry never has); other options are ENOPROTOOPT.
func (s *sock) SetSockOpt(_ *kernel.Task, level, name int, opt []byte) error {
	if !settable[filter.SockOpt{Level: level, Name: name}] {
		if level == unix.SOL_SOCKET && name == unix.SO_BINDTODEVICE {
			return unix.EPERM
		}
		return unix.ENOPROTOOPT
	}
	if len(opt) > maxOptLen {
		opt = opt[:maxOptLen]
	}
	if err := hostSetSockOpt(s.fd, level, name, opt); err != nil {
		return err
	}
	if level != unix.SOL_SOCKET {
		return nil
	}
	var dst *time.Duration
	getName := unix.SO_RCVTIMEO_OLD
	switch name {
	case unix.SO_RCVTIMEO_OLD, unix.SO_RCVTIMEO_NEW:
		dst = &s.rcvTimeo
	case unix.SO_SNDTIMEO_OLD, unix.SO_SNDTIMEO_NEW:
		dst, getName = &s.sndTimeo, unix.SO_SNDTIMEO_OLD
	default:
		return nil
	}
	// Keep the host's value (rounded to its clock ticks); a negative
	// tv_sec, which Linux stores as "no wait" but reports as 0, is kept
	// as negative. Both forms are a 16-byte {sec, usec} on 64 bits, and
	// the host has checked the length.
	var tv [16]byte
	if _, err := hostGetSockOpt(s.fd, unix.SOL_SOCKET, getName, tv[:]); err != nil {
		return err
	}
	d := timevalDuration(tv[:])
	if len(opt) >= 8 && int64(le64(opt)) < 0 {
		d = -1
	}
	s.mu.Lock()
	*dst = d
	s.mu.Unlock()
	return nil
}
