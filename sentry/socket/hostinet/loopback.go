package hostinet

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// LoopbackUp brings the network namespace's loopback interface up, as
// a new namespace starts with it down and runc's users expect 127.0.0.1
// to work even in a container with no other network (Docker's libnetwork
// does the same from its hook; doing it twice is harmless). It needs
// CAP_NET_ADMIN in the namespace, so cmd/moat calls it in the sentry
// before the identity switch and the filter (neither the ioctl nor the
// capability are available afterwards), and only for a namespace of the
// sandbox's own: never for the host's.
func LoopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback up: socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: SIOCGIFFLAGS lo: %w", err)
	}
	flags := ifr.Uint16()
	if flags&unix.IFF_UP != 0 {
		return nil
	}
	ifr.SetUint16(flags | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: SIOCSIFFLAGS lo: %w", err)
	}
	return nil
}
