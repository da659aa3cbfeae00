package hostinet

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"moat/sentry/filter"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// flag is a vfs.Interruptible set from the test.
type flag struct{ set atomic.Bool }

func (f *flag) Interrupted() bool { return f.set.Load() }

func loopback(port uint16) []byte {
	b := make([]byte, sockaddrInLen)
	binary.LittleEndian.PutUint16(b, unix.AF_INET)
	binary.BigEndian.PutUint16(b[2:], port)
	copy(b[4:], []byte{127, 0, 0, 1})
	return b
}

func newTCP(t *testing.T) (*vfs.File, *sock) {
	t.Helper()
	f, err := provider{unix.AF_INET}.Socket(nil, unix.SOCK_STREAM, 0, 0)
	if err != nil {
		t.Skipf("no inet sockets here: %v", err)
	}
	t.Cleanup(f.DecRef)
	return f, f.Impl().(*sock)
}

// TestTCPLoopback drives a listener, a connecting socket and the
// accepted one through the non-blocking paths and the notifier.
func TestTCPLoopback(t *testing.T) {
	_, l := newTCP(t)
	if err := l.Bind(nil, loopback(0)); err != nil {
		t.Skipf("bind 127.0.0.1: %v", err)
	}
	if err := l.Listen(nil, 4); err != nil {
		t.Fatal(err)
	}
	addr, err := l.SockName(nil)
	if err != nil || len(addr) != sockaddrInLen {
		t.Fatalf("SockName = %x, %v", addr, err)
	}
	if _, _, err := l.Accept(nil, 0, true); err != unix.EAGAIN {
		t.Fatalf("Accept with nothing pending = %v, want EAGAIN", err)
	}
	_, c := newTCP(t)
	if err := c.Connect(nil, addr, true); err != nil && err != unix.EINPROGRESS {
		t.Fatalf("non-blocking Connect = %v", err)
	}
	in := &flag{}
	if err := l.wait(in, vfs.EventIn, time.Now().Add(5*time.Second)); err != nil {
		t.Fatalf("waiting for the connection: %v", err)
	}
	af, peer, err := l.Accept(nil, unix.SOCK_NONBLOCK, true)
	if err != nil {
		t.Fatal(err)
	}
	defer af.DecRef()
	if af.Flags()&unix.O_NONBLOCK == 0 || len(peer) != sockaddrInLen {
		t.Errorf("accepted flags %#x peer %x", af.Flags(), peer)
	}
	a := af.Impl().(*sock)
	if err := c.wait(in, vfs.EventOut, time.Now().Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := c.send(in, []byte("hello"), nil, nil, 0, false); n != 5 || err != nil {
		t.Fatalf("send = %d, %v", n, err)
	}
	buf := make([]byte, 16)
	r, err := a.recv(in, buf, 0, false, false)
	if err != nil || string(buf[:r.N]) != "hello" {
		t.Fatalf("recv = %q, %v", buf[:r.N], err)
	}
	// Blocked with nothing to read, a signal interrupts the wait.
	go func() { time.Sleep(20 * time.Millisecond); in.set.Store(true) }()
	if _, err := a.recv(in, buf, 0, false, false); err != unix.EINTR {
		t.Fatalf("blocked recv = %v, want EINTR", err)
	}
	in.set.Store(false)
	// SO_RCVTIMEO: the wait ends with EAGAIN.
	var tv [16]byte
	binary.LittleEndian.PutUint64(tv[8:], 30000)
	if err := a.SetSockOpt(nil, unix.SOL_SOCKET, unix.SO_RCVTIMEO_OLD, tv[:]); err != nil {
		t.Fatal(err)
	}
	if rcv, _ := a.timeouts(); rcv <= 0 || rcv > 100*time.Millisecond {
		t.Errorf("kept SO_RCVTIMEO = %v", rcv)
	}
	if _, err := a.recv(in, buf, 0, false, false); err != unix.EAGAIN {
		t.Fatalf("recv past SO_RCVTIMEO = %v, want EAGAIN", err)
	}
	// A write shut down on one side is EOF on the other.
	if err := c.Shutdown(nil, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	if r, err := a.recv(in, buf, 0, false, false); r.N != 0 || err != nil {
		t.Fatalf("recv at EOF = %d, %v", r.N, err)
	}
	st, err := a.Stat(af)
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		t.Errorf("Stat mode %o, %v", st.Mode, err)
	}
}

func TestSocketErrors(t *testing.T) {
	p := provider{unix.AF_INET}
	for _, c := range []struct {
		stype, proto int
		want         error
	}{
		{unix.SOCK_STREAM, unix.IPPROTO_UDP, unix.EPROTONOSUPPORT},
		{unix.SOCK_DGRAM, unix.IPPROTO_TCP, unix.EPROTONOSUPPORT},
		{unix.SOCK_RAW, unix.IPPROTO_ICMP, unix.EPERM},
		{unix.SOCK_DGRAM, unix.IPPROTO_ICMP, unix.EACCES},
		{unix.SOCK_SEQPACKET, 0, unix.ESOCKTNOSUPPORT},
		{99, 0, unix.EINVAL},
	} {
		if _, err := p.Socket(nil, c.stype, c.proto, 0); err != c.want {
			t.Errorf("Socket(%d, %d) = %v, want %v", c.stype, c.proto, err, c.want)
		}
	}
	if _, _, err := p.Pair(nil, unix.SOCK_STREAM, 0, 0); err != unix.EOPNOTSUPP {
		t.Errorf("Pair = %v", err)
	}
}

func TestNormalise(t *testing.T) {
	s4 := &sock{family: unix.AF_INET, stype: unix.SOCK_STREAM}
	s6 := &sock{family: unix.AF_INET6, stype: unix.SOCK_DGRAM}
	unspec := []byte{unix.AF_UNSPEC, 0}
	for _, c := range []struct {
		s       *sock
		addr    []byte
		connect bool
		wantLen int
		wantErr error
	}{
		{s4, make([]byte, 15), false, 0, unix.EINVAL},
		{s4, make([]byte, 40), false, 16, nil},
		{s4, []byte{1}, true, 0, unix.EINVAL},
		{s4, unspec, true, 16, nil},
		{s6, make([]byte, 23), false, 0, unix.EINVAL},
		{s6, make([]byte, 24), false, 28, nil},
		{s6, loopback(1), true, 16, nil},
		{s6, loopback(1)[:15], true, 0, unix.EINVAL},
	} {
		b, err := c.s.normalise(c.addr, c.connect)
		if err != c.wantErr || len(b) != c.wantLen {
			t.Errorf("normalise(fam %d, %x, connect %v) = %d bytes, %v; want %d, %v",
				c.s.family, c.addr, c.connect, len(b), err, c.wantLen, c.wantErr)
		}
	}
}

func TestSetSockOptRefused(t *testing.T) {
	_, s := newTCP(t)
	one := []byte{1, 0, 0, 0}
	if err := s.SetSockOpt(nil, unix.SOL_SOCKET, unix.SO_MARK, one); err != unix.ENOPROTOOPT {
		t.Errorf("SO_MARK = %v, want ENOPROTOOPT (not in the filter's list)", err)
	}
	if err := s.SetSockOpt(nil, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte("lo\x00")); err != unix.EPERM {
		t.Errorf("SO_BINDTODEVICE = %v, want EPERM", err)
	}
	if !settable[filter.SockOpt{Level: unix.IPPROTO_TCP, Name: unix.TCP_NODELAY}] {
		t.Error("TCP_NODELAY not settable")
	}
}

// TestLoopbackUp brings lo up in a new network namespace, on a locked
// thread that unshares it (root only).
func TestLoopbackUp(t *testing.T) {
	if unix.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	done := make(chan error, 1)
	go func() {
		// The thread is left locked so it dies with the goroutine,
		// taking the namespace with it.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("skip: %w", err)
			return
		}
		fd, _ := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		defer unix.Close(fd)
		// With lo down nothing routes to 127.0.0.1.
		to := &unix.SockaddrInet4{Port: 9, Addr: [4]byte{127, 0, 0, 1}}
		if err := unix.Connect(fd, to); err != unix.ENETUNREACH {
			done <- fmt.Errorf("connect before LoopbackUp = %v, want ENETUNREACH", err)
			return
		}
		if err := LoopbackUp(); err != nil {
			done <- err
			return
		}
		if err := LoopbackUp(); err != nil {
			done <- fmt.Errorf("second LoopbackUp: %w", err)
			return
		}
		done <- unix.Connect(fd, to)
	}()
	err := <-done
	if err != nil && strings.HasPrefix(err.Error(), "skip: ") {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func nlmsg(typ uint16, payload int) []byte {
	b := make([]byte, unix.NLMSG_HDRLEN+payload)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	binary.LittleEndian.PutUint16(b[4:], typ)
	return b
}

func TestNetlinkReadOnly(t *testing.T) {
	for _, c := range []struct {
		msg  []byte
		want bool
	}{
		{nlmsg(unix.RTM_GETLINK, 16), true},
		{append(nlmsg(unix.RTM_GETADDR, 8), nlmsg(unix.RTM_GETROUTE, 12)...), true},
		{nlmsg(unix.NLMSG_NOOP, 0), true},
		{nlmsg(unix.RTM_NEWLINK, 16), false},
		{nlmsg(unix.RTM_SETLINK, 16), false},
		{append(nlmsg(unix.RTM_GETLINK, 16), nlmsg(unix.RTM_DELADDR, 8)...), false},
		{nlmsg(unix.RTM_NEWADDR, 8)[:10], true}, // too short: the host drops it
	} {
		if got := readOnlyRequests(c.msg); got != c.want {
			t.Errorf("readOnlyRequests(%x) = %v, want %v", c.msg, got, c.want)
		}
	}
	f, err := netlinkProvider{}.Socket(nil, unix.SOCK_RAW, unix.NETLINK_ROUTE, 0)
	if err != nil {
		t.Skipf("no netlink here: %v", err)
	}
	defer f.DecRef()
	s := f.Impl().(*sock)
	if n, err := s.send(nil, nlmsg(unix.RTM_NEWLINK, 16), nil, nil, 0, true); err != unix.EPERM {
		t.Errorf("send RTM_NEWLINK = %d, %v; want EPERM", n, err)
	}
	if _, err := (netlinkProvider{}).Socket(nil, unix.SOCK_RAW, unix.NETLINK_AUDIT, 0); err != unix.EPROTONOSUPPORT {
		t.Errorf("NETLINK_AUDIT = %v", err)
	}
}
