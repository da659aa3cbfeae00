package syscalls_test

import (
	"strings"
	"testing"

	// The inet families register themselves with the socket layer.
	_ "moat/sentry/socket/hostinet"

	"golang.org/x/sys/unix"
)

// needLoopback skips t unless 127.0.0.1 can be bound here. Both runs of
// a differential test share the test's network namespace (the native
// run only gets a new PID namespace, moat's sentry is this process), so
// whatever the host's loopback offers, both see the same.
func needLoopback(t *testing.T) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no inet sockets here: %v", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Skipf("cannot bind 127.0.0.1 (loopback down?): %v", err)
	}
}

// TestSockInetDifferential runs sock_inet.c natively and in moat and
// compares the outputs: TCP between two processes over 127.0.0.1, UDP,
// socket options, ioctls, poll, SIGPIPE, IPv6 where the host has it,
// getifaddrs over NETLINK_ROUTE, and the error paths.
func TestSockInetDifferential(t *testing.T) {
	needDiffHost(t)
	needLoopback(t)
	root := tree{progs: []string{"sock_inet"}}.make(t)
	out := diffRun(t, root, root, []string{"sock_inet"})
	// Both runs failing the same way early must not pass.
	for _, want := range []string{"child got 3 bye, then 0", "sigpipe=1", "from a=1 len=16 data=ping", "-- ipv6", "getifaddrs = ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("native output lacks %q:\n%s", want, out)
		}
	}
}
