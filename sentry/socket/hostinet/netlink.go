package hostinet

import (
	"encoding/binary"

	"moat/sentry/kernel"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// NETLINK_ROUTE sockets, read-only: enough for getifaddrs(3), Go's
// net.Interfaces and `ip addr`/`ip route` listings, which ask the kernel
// of the container's network namespace for its links, addresses and
// routes. The socket is a host netlink socket like the inet ones; only
// requests that read (RTM_GET* and the NLMSG_* control types) are sent,
// anything that would change the namespace's network is refused with
// EPERM before the host sees it.

// sockaddrNlLen is sizeof(struct sockaddr_nl).
const sockaddrNlLen = 12

// netlinkProvider makes AF_NETLINK sockets.
type netlinkProvider struct{}

// Socket implements socket.Provider: SOCK_RAW or SOCK_DGRAM (Linux
// treats them alike) with protocol NETLINK_ROUTE. Other netlink
// protocols are EPROTONOSUPPORT, Linux's answer for a protocol it has no
// handler for; other types ESOCKTNOSUPPORT.
func (netlinkProvider) Socket(t *kernel.Task, stype, protocol, flags int) (*vfs.File, error) {
	if stype < 0 || stype >= sockMax {
		return nil, unix.EINVAL
	}
	if stype != unix.SOCK_RAW && stype != unix.SOCK_DGRAM {
		return nil, unix.ESOCKTNOSUPPORT
	}
	if protocol != unix.NETLINK_ROUTE {
		return nil, unix.EPROTONOSUPPORT
	}
	fd, err := unix.Socket(unix.AF_NETLINK, stype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, errno(err)
	}
	return newSock(t, fd, unix.AF_NETLINK, stype, unix.NETLINK_ROUTE, flags)
}

// Pair implements socket.Provider: netlink has no socketpair.
func (netlinkProvider) Pair(*kernel.Task, int, int, int) (*vfs.File, *vfs.File, error) {
	return nil, nil, unix.EOPNOTSUPP
}

// normaliseNetlink checks a sockaddr_nl as netlink_bind and
// netlink_connect do (EINVAL when short or of another family, except
// that connect to AF_UNSPEC dissolves the association) and cuts it to
// its 12 bytes.
func normaliseNetlink(addr []byte, connect bool) ([]byte, error) {
	if connect && len(addr) >= 2 && familyOf(addr) == unix.AF_UNSPEC {
		b := make([]byte, sockaddrNlLen)
		return b, nil
	}
	if len(addr) < sockaddrNlLen || familyOf(addr) != unix.AF_NETLINK {
		return nil, unix.EINVAL
	}
	return addr[:sockaddrNlLen], nil
}

// readOnlyRequests reports whether every message in b only reads:
// RTM_GET* requests (the third of each four RTM types: NEW, DEL, GET,
// SET) and the NLMSG_* control types. A malformed buffer is left to the
// host, which drops what it cannot parse, as Linux does.
func readOnlyRequests(b []byte) bool {
	for len(b) >= unix.NLMSG_HDRLEN {
		l := int(binary.LittleEndian.Uint32(b[0:]))
		typ := binary.LittleEndian.Uint16(b[4:])
		if typ >= unix.RTM_BASE && (typ-unix.RTM_BASE)%4 != 2 {
			return false
		}
		if l < unix.NLMSG_HDRLEN || l > len(b) {
			return true
		}
		l = (l + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1)
		if l >= len(b) {
			return true
		}
		b = b[l:]
	}
	return true
}
