//go:build debian

package debian

import (
	"testing"
)

// pyNet is a Python program's ordinary networking over loopback: a
// threaded TCP server and client (sendall, makefile, shutdown, EOF),
// select and a socket timeout (both non-blocking sockets driven by
// poll), UDP datagrams, socket options, the interface list (netlink) and
// the errors programs check for. Nothing printed depends on ports or
// timing.
const pyNet = `
import errno, select, socket, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(8)
addr = srv.getsockname()
print("listening", addr[0], srv.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))

def serve():
    for _ in range(2):
        c, _ = srv.accept()
        with c, c.makefile("rb") as f:
            for line in f:
                c.sendall(line.upper())
threading.Thread(target=serve, daemon=True).start()

for n in (1, 2):
    c = socket.create_connection(addr, timeout=10)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.sendall(b"hello %d\n" % n + b"x" * 200000 + b"\n")
    c.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        r, _, _ = select.select([c], [], [], 10)
        if not r:
            print("select timed out"); break
        d = c.recv(65536)
        if not d: break
        data += d
    print("client", n, len(data), data[:7], c.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0)
    c.close()

idle = socket.create_connection(addr)
idle.settimeout(0.05)
try:
    idle.recv(10)
except socket.timeout:
    print("recv timed out")
idle.close()

u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u1.bind(("127.0.0.1", 0))
u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u2.bind(("127.0.0.1", 0))
u1.sendto(b"ping", u2.getsockname())
data, frm = u2.recvfrom(100)
print("udp", data, frm == u1.getsockname())

closed = socket.socket(); closed.bind(("127.0.0.1", 0)); target = closed.getsockname()
try:
    socket.create_connection(target, timeout=5)
except ConnectionRefusedError as e:
    print("refused", errno.errorcode[e.errno])
try:
    b = socket.socket(); b.bind(addr)
except OSError as e:
    print("bind", errno.errorcode[e.errno])
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_UDP)
except OSError as e:
    print("proto", errno.errorcode[e.errno])
names = [n for _, n in socket.if_nameindex()]
print("lo listed", "lo" in names)
`

// TestNetworking runs pyNet in the Debian root, under chroot and in moat.
// Neither run has a network namespace of its own: both use the host's
// loopback.
func TestNetworking(t *testing.T) {
	e := needEnv(t)
	args := []string{"python3", "-c", pyNet}
	want := chroot(e.spec(e.debian, true, args, layout{}, ""))
	if want.Exit != 0 || want.TimedOut || want.Err != nil {
		t.Fatalf("oracle (chroot): %s", short(want))
	}
	has("client 1 200009 b'HELLO 1'", "client 2 200009 b'HELLO 2'", "recv timed out", "udp b'ping' True", "refused ECONNREFUSED",
		"bind EADDRINUSE", "proto EPROTONOSUPPORT", "lo listed True")(t, e, want)
	got := e.moatRun(t, e.spec(e.debian, true, args, layout{}, ""), "deb-net")
	compare(t, want, got, false)
}
