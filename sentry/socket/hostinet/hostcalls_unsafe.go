package hostinet

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The host calls on raw address and option bytes. x/sys/unix wants
// typed Sockaddr values, which would parse and rebuild what the
// application passed; these pass the bytes the sentry already checked
// and normalised, so the host kernel judges exactly what Linux would.

func errnoOf(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// hostBind binds fd to addr (len(addr) is 16, 28 or 12, see normalise).
func hostBind(fd int, addr []byte) error {
	_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&addr[0])), uintptr(len(addr)))
	return errnoOf(e)
}

// hostConnect starts connecting fd to addr.
func hostConnect(fd int, addr []byte) error {
	_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&addr[0])), uintptr(len(addr)))
	return errnoOf(e)
}

// hostAccept takes a pending connection from fd as a non-blocking,
// close-on-exec host descriptor, with the peer's address in buf.
func hostAccept(fd int, buf []byte) (int, int, error) {
	l := uint32(len(buf))
	nfd, _, e := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])),
		uintptr(unsafe.Pointer(&l)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if e != 0 {
		return -1, 0, e
	}
	return int(nfd), int(min(l, uint32(len(buf)))), nil
}

// hostName is getsockname (peer false) or getpeername (peer true) into
// buf; it returns the length the host reports (which may exceed buf).
func hostName(fd int, buf []byte, peer bool) (int, error) {
	nr := uintptr(unix.SYS_GETSOCKNAME)
	if peer {
		nr = unix.SYS_GETPEERNAME
	}
	l := uint32(len(buf))
	_, _, e := unix.Syscall(nr, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)))
	if e != 0 {
		return 0, e
	}
	return int(l), nil
}

// hostGetSockOpt reads an option into buf and returns its length.
func hostGetSockOpt(fd, level, name int, buf []byte) (int, error) {
	l := uint32(len(buf))
	var p unsafe.Pointer
	if len(buf) > 0 {
		p = unsafe.Pointer(&buf[0])
	}
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name),
		uintptr(p), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, e
	}
	return int(l), nil
}

// hostSetSockOpt sets an option from opt.
func hostSetSockOpt(fd, level, name int, opt []byte) error {
	var p unsafe.Pointer
	if len(opt) > 0 {
		p = unsafe.Pointer(&opt[0])
	}
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name),
		uintptr(p), uintptr(len(opt)), 0)
	return errnoOf(e)
}

// fillMsghdr points msg at one iovec iov over data, the address buffer
// name and the control buffer ctl (each left out when empty).
func fillMsghdr(msg *unix.Msghdr, iov *unix.Iovec, data, name, ctl []byte) {
	if len(data) > 0 {
		iov.Base = &data[0]
		iov.SetLen(len(data))
		msg.Iov = iov
		msg.Iovlen = 1
	}
	if len(name) > 0 {
		msg.Name = &name[0]
		msg.Namelen = uint32(len(name))
	}
	if len(ctl) > 0 {
		msg.Control = &ctl[0]
		msg.SetControllen(len(ctl))
	}
}

// hostSendMsg sends data (one iovec) to addr (nil: connected) with the
// control bytes ctl and flags.
func hostSendMsg(fd int, data, addr, ctl []byte, flags int) (int, error) {
	var msg unix.Msghdr
	var iov unix.Iovec
	fillMsghdr(&msg, &iov, data, addr, ctl)
	n, _, e := unix.Syscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// hostRecvMsg receives into dst, the sender's address into name and
// control messages into ctl. It returns the length recvmsg returned, the
// address and control lengths, and msg_flags.
func hostRecvMsg(fd int, dst, name, ctl []byte, flags int) (n, nameLen, ctlLen, msgFlags int, err error) {
	var msg unix.Msghdr
	var iov unix.Iovec
	fillMsghdr(&msg, &iov, dst, name, ctl)
	r, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags))
	if e != 0 {
		return 0, 0, 0, 0, e
	}
	return int(r), int(msg.Namelen), int(msg.Controllen), int(msg.Flags), nil
}

// hostIoctlInt runs an ioctl whose argument is an int the host writes
// (FIONREAD, SIOCOUTQ).
func hostIoctlInt(fd int, req uint) (int32, error) {
	var v int32
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(unsafe.Pointer(&v)))
	if e != 0 {
		return 0, e
	}
	return v, nil
}

// cmsgHeader points at the cmsghdr at the start of b (len(b) >=
// CmsgLen(0), which encodeControl guarantees).
func cmsgHeader(b []byte) unsafe.Pointer { return unsafe.Pointer(&b[0]) }

// hostIoctlBuf runs an ioctl whose argument is a buffer the host reads
// and writes (struct ifreq).
func hostIoctlBuf(fd int, req uint, b []byte) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(unsafe.Pointer(&b[0])))
	return errnoOf(e)
}

// hostIfconf runs SIOCGIFCONF with buf (nil: ask for the length) and
// the length n, and returns the length the host reports.
func hostIfconf(fd int, buf []byte, n int32) (int32, error) {
	var ifc struct {
		len int32
		_   int32
		buf unsafe.Pointer
	}
	ifc.len = n
	if len(buf) > 0 {
		ifc.buf = unsafe.Pointer(&buf[0])
		ifc.len = int32(len(buf))
	}
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCGIFCONF, uintptr(unsafe.Pointer(&ifc)))
	if e != 0 {
		return 0, e
	}
	return ifc.len, nil
}
