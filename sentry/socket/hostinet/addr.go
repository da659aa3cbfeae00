package hostinet

import (
	"golang.org/x/sys/unix"
)

// Socket address lengths: sizeof(struct sockaddr_in), the RFC 2133
// sockaddr_in6 without sin6_scope_id (the shortest Linux accepts), and
// sizeof(struct sockaddr_in6).
const (
	sockaddrInLen    = 16
	sockaddrIn6Short = 24
	sockaddrIn6Len   = 28
)

// family returns the sa_family of addr (0 when too short to have one).
func familyOf(addr []byte) int {
	if len(addr) < 2 {
		return -1
	}
	return int(addr[0]) | int(addr[1])<<8
}

// normalise checks addr for bind (connect false) or connect as Linux's
// inet and inet6 code does before it looks at the address, and returns
// it at a length the sentry's filter lets bind and connect pass (16 or
// 28 bytes, 12 for netlink). Linux ignores bytes past the struct and treats a short
// sockaddr_in6 as one with scope 0, so zero padding and cutting change
// nothing the host decides.
func (s *sock) normalise(addr []byte, connect bool) ([]byte, error) {
	if s.family == unix.AF_NETLINK {
		return normaliseNetlink(addr, connect)
	}
	fam := familyOf(addr)
	if connect && fam < 0 {
		return nil, unix.EINVAL
	}
	full, short := sockaddrInLen, sockaddrInLen
	if s.family == unix.AF_INET6 {
		full, short = sockaddrIn6Len, sockaddrIn6Short
	}
	switch {
	case connect && fam == unix.AF_UNSPEC:
		// Dissolves the association; only the family counts.
	case connect && s.family == unix.AF_INET6 && fam == unix.AF_INET && s.stype == unix.SOCK_DGRAM:
		// A UDPv6 socket connects to an IPv4 address as UDPv4 does
		// (EAFNOSUPPORT from the host if IPV6_V6ONLY).
		if len(addr) < sockaddrInLen {
			return nil, unix.EINVAL
		}
		return addr[:sockaddrInLen], nil
	case len(addr) < short:
		return nil, unix.EINVAL
	}
	b := make([]byte, full)
	copy(b, addr)
	return b, nil
}

// normaliseSendTo returns the destination of a sendto or sendmsg as the
// host gets it: unchanged, since the sentry's filter does not look at
// sendmsg's address and the host checks it exactly as Linux does.
func (s *sock) normaliseSendTo(addr []byte) ([]byte, error) {
	return addr, nil
}
