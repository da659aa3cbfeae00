// Package hostinet implements AF_INET and AF_INET6 sockets of the
// application as host sockets the sentry creates and drives.
//
// Why the host's network stack: the sentry runs in the container's
// network namespace (cmd/moat starts it with CLONE_NEWNET when the spec
// asks for one; Docker's libnetwork then configures that namespace from
// the prestart hook, by the sentry's PID; `moat do` keeps the host's).
// So a host socket the sentry opens is exactly the socket the container
// would have had under runc: same interfaces, routes, port space and
// firewall. The host does TCP and UDP; the sentry does the system-call
// semantics: descriptor numbers, blocking and interruption by signals,
// timeouts, SIGPIPE, the checks that must happen before the host sees a
// request, and what fstat reports.
//
// Boundaries:
//   - The application never names a host descriptor: a sock holds its
//     host descriptor privately, and HostFD reports none.
//   - Every host socket is non-blocking. A call that must sleep waits on
//     the socket's WaitQueue, woken by the host readiness notifier
//     (sentry/fs/host, one epoll instance for the whole sentry), so a
//     signal interrupts it and nothing polls on a timer.
//   - The sentry's seccomp filter allows socket() only for AF_INET and
//     AF_INET6 with SOCK_STREAM or SOCK_DGRAM and protocol 0, bind and
//     connect only with an inet address length, setsockopt only for the
//     options of filter.SetSockOpts. Raw and packet sockets never reach
//     the host.
//   - Addresses and option values are checked and normalised here, then
//     judged by the host kernel, so the errno is Linux's own.
//
// Register adds the families to the socket layer; the package registers
// itself from init, so importing it is enough.
package hostinet

import (
	"moat/sentry/kernel"
	"moat/sentry/socket"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

func init() { Register() }

// Register makes this package the provider of AF_INET, AF_INET6 and
// AF_NETLINK (NETLINK_ROUTE, read-only: netlink.go). It runs from init;
// calling it again is harmless.
func Register() {
	socket.Register(unix.AF_INET, provider{unix.AF_INET})
	socket.Register(unix.AF_INET6, provider{unix.AF_INET6})
	socket.Register(unix.AF_NETLINK, netlinkProvider{})
}

// sockMax is Linux's SOCK_MAX: a larger type is EINVAL for every family.
const sockMax = unix.SOCK_PACKET + 1

// provider makes the sockets of one family.
type provider struct{ family int }

// Socket implements socket.Provider with inet_create's answers: TCP for
// SOCK_STREAM, UDP for SOCK_DGRAM (protocol 0 or the matching one),
// EPROTONOSUPPORT for another protocol of those types, EPERM for
// SOCK_RAW (Linux's answer without CAP_NET_RAW: moat never gives raw
// sockets), EACCES for ICMP "ping" datagram sockets (Linux's answer
// under the default net.ipv4.ping_group_range) and ESOCKTNOSUPPORT for
// the other types.
func (p provider) Socket(t *kernel.Task, stype, protocol, flags int) (*vfs.File, error) {
	if stype < 0 || stype >= sockMax {
		return nil, unix.EINVAL
	}
	var want int
	switch stype {
	case unix.SOCK_STREAM:
		want = unix.IPPROTO_TCP
	case unix.SOCK_DGRAM:
		want = unix.IPPROTO_UDP
		if (p.family == unix.AF_INET && protocol == unix.IPPROTO_ICMP) ||
			(p.family == unix.AF_INET6 && protocol == unix.IPPROTO_ICMPV6) {
			return nil, unix.EACCES
		}
	case unix.SOCK_RAW:
		return nil, unix.EPERM
	default:
		return nil, unix.ESOCKTNOSUPPORT
	}
	if protocol != 0 && protocol != want {
		return nil, unix.EPROTONOSUPPORT
	}
	fd, err := unix.Socket(p.family, stype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		// EMFILE/ENFILE/ENOBUFS are the host's limits; report them.
		return nil, errno(err)
	}
	return newSock(t, fd, p.family, stype, want, flags)
}

// Pair implements socket.Provider: inet has no socketpair (EOPNOTSUPP,
// as Linux's sock_no_socketpair).
func (p provider) Pair(*kernel.Task, int, int, int) (*vfs.File, *vfs.File, error) {
	return nil, nil, unix.EOPNOTSUPP
}
