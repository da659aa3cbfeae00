package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/socket"
	"moat/sentry/vfs"

	// The families register themselves with package socket.
	_ "moat/sentry/socket/unix"

	"golang.org/x/sys/unix"
)

// Limits of the socket calls (include/linux/net.h, socket.h).
const (
	// sockTypeMask is SOCK_TYPE_MASK; sockMax is SOCK_MAX.
	sockTypeMask = 0xf
	sockMax      = 11
	// afMax is AF_MAX: families at or above it are EAFNOSUPPORT.
	afMax = 46
	// somaxconn is net.core.somaxconn's default: listen's backlog
	// bound.
	somaxconn = 4096
	// maxOptLen bounds how much of a setsockopt value is copied in
	// (no option is larger).
	maxOptLen = 64 << 10
)

// sockFile returns the socket at fd with a reference on its file:
// EBADF for a bad descriptor, ENOTSOCK for a file that is no socket.
func sockFile(t *kernel.Task, fd int32) (*vfs.File, socket.Socket, error) {
	f, err := file(t, fd)
	if err != nil {
		return nil, nil, err
	}
	s, ok := socket.FromFile(f)
	if !ok {
		f.DecRef()
		return nil, nil, unix.ENOTSOCK
	}
	return f, s, nil
}

// splitType separates socket(2)'s type argument into the type and the
// new file's status flags, with __sys_socket's checks: EINVAL for
// unknown flag bits or a type beyond SOCK_MAX.
func splitType(typ int32) (stype, flags int, cloexec bool, err error) {
	flagBits := int32(unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC)
	if typ&^sockTypeMask&^flagBits != 0 {
		return 0, 0, false, unix.EINVAL
	}
	stype = int(typ & sockTypeMask)
	if stype >= sockMax {
		return 0, 0, false, unix.EINVAL
	}
	if typ&unix.SOCK_NONBLOCK != 0 {
		flags = unix.O_NONBLOCK
	}
	return stype, flags, typ&unix.SOCK_CLOEXEC != 0, nil
}

// sysSocket implements socket(2).
func sysSocket(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	domain := a.Int(0)
	stype, flags, cloexec, err := splitType(a.Int(1))
	if err != nil {
		return 0, err
	}
	if domain < 0 || domain >= afMax {
		return 0, unix.EAFNOSUPPORT
	}
	f, err := socket.New(t, int(domain), stype, int(a.Int(2)), flags)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	fd, err := t.FDTable().Install(f, 0, cloexec, nofile(t))
	if err != nil {
		return 0, err
	}
	return uintptr(fd), nil
}

// sysSocketpair implements socketpair(2). On a fault writing sv both
// descriptors are closed again.
func sysSocketpair(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	domain := a.Int(0)
	stype, flags, cloexec, err := splitType(a.Int(1))
	if err != nil {
		return 0, err
	}
	if domain < 0 || domain >= afMax {
		return 0, unix.EAFNOSUPPORT
	}
	f1, f2, err := socket.NewPair(t, int(domain), stype, int(a.Int(2)), flags)
	if err != nil {
		return 0, err
	}
	defer f1.DecRef()
	defer f2.DecRef()
	ft := t.FDTable()
	fd1, err := ft.Install(f1, 0, cloexec, nofile(t))
	if err != nil {
		return 0, err
	}
	fd2, err := ft.Install(f2, 0, cloexec, nofile(t))
	if err != nil {
		_ = ft.Close(fd1)
		return 0, err
	}
	b := t.Scratch()[:8]
	le.PutUint32(b, uint32(fd1))
	le.PutUint32(b[4:], uint32(fd2))
	if err := copyOutAll(t, a[3], b); err != nil {
		_ = ft.Close(fd1)
		_ = ft.Close(fd2)
		return 0, err
	}
	return 0, nil
}

// copyInAddr is move_addr_to_kernel: EINVAL for a length beyond
// sizeof(struct sockaddr_storage) or negative, EFAULT for a bad pointer.
func copyInAddr(t *kernel.Task, addr uintptr, length int32) ([]byte, error) {
	if length < 0 || length > socket.MaxAddrLen {
		return nil, unix.EINVAL
	}
	if length == 0 {
		return []byte{}, nil
	}
	b := make([]byte, length)
	if err := copyInAll(t, addr, b); err != nil {
		return nil, err
	}
	return b, nil
}

// copyOutAddr is move_addr_to_user: it reads the buffer size at lenAddr
// (EINVAL if negative), copies as much of addr as fits to addrPtr and
// writes addr's real length back.
func copyOutAddr(t *kernel.Task, addr []byte, addrPtr, lenAddr uintptr) error {
	b := t.Scratch()[:4]
	if err := copyInAll(t, lenAddr, b); err != nil {
		return err
	}
	n := int32(le.Uint32(b))
	if n < 0 {
		return unix.EINVAL
	}
	n = min(n, int32(len(addr)))
	if n > 0 {
		if err := copyOutAll(t, addrPtr, addr[:n]); err != nil {
			return err
		}
	}
	return copyOutU32(t, lenAddr, uint32(len(addr)))
}

// sysBind implements bind(2).
func sysBind(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, s, err := sockFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	addr, err := copyInAddr(t, a[1], a.Int(2))
	if err != nil {
		return 0, err
	}
	return 0, s.Bind(t, addr)
}

// sysConnect implements connect(2).
func sysConnect(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, s, err := sockFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	addr, err := copyInAddr(t, a[1], a.Int(2))
	if err != nil {
		return 0, err
	}
	return 0, s.Connect(t, addr, f.Flags()&unix.O_NONBLOCK != 0)
}

// sysListen implements listen(2); the backlog, taken as unsigned, is
// clamped to somaxconn.
func sysListen(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, s, err := sockFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	backlog := a.Uint(1)
	if backlog > somaxconn {
		backlog = somaxconn
	}
	return 0, s.Listen(t, int(backlog))
}

// sysAccept implements accept(2).
func sysAccept(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return accept4(t, a.Int(0), a[1], a[2], 0)
}

// sysAccept4 implements accept4(2): EINVAL for flags other than
// SOCK_NONBLOCK and SOCK_CLOEXEC.
func sysAccept4(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return accept4(t, a.Int(0), a[1], a[2], a.Int(3))
}

func accept4(t *kernel.Task, fd int32, addrPtr, lenAddr uintptr, flags int32) (uintptr, error) {
	if flags&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
		return 0, unix.EINVAL
	}
	f, s, err := sockFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	status := 0
	if flags&unix.SOCK_NONBLOCK != 0 {
		status = unix.O_NONBLOCK
	}
	nf, peer, err := s.Accept(t, status, f.Flags()&unix.O_NONBLOCK != 0)
	if err != nil {
		return 0, err
	}
	defer nf.DecRef()
	if addrPtr != 0 {
		// The connection is lost when the address cannot be given
		// back, as on Linux.
		if err := copyOutAddr(t, peer, addrPtr, lenAddr); err != nil {
			return 0, err
		}
	}
	nfd, err := t.FDTable().Install(nf, 0, flags&unix.SOCK_CLOEXEC != 0, nofile(t))
	if err != nil {
		return 0, err
	}
	return uintptr(nfd), nil
}

// sysGetsockname implements getsockname(2).
func sysGetsockname(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return sockName(t, a, false)
}

// sysGetpeername implements getpeername(2).
func sysGetpeername(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return sockName(t, a, true)
}

func sockName(t *kernel.Task, a arch.SyscallArguments, peer bool) (uintptr, error) {
	f, s, err := sockFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	var addr []byte
	if peer {
		addr, err = s.PeerName(t)
	} else {
		addr, err = s.SockName(t)
	}
	if err != nil {
		return 0, err
	}
	return 0, copyOutAddr(t, addr, a[1], a[2])
}

// sysShutdown implements shutdown(2): EINVAL for an unknown how.
func sysShutdown(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, s, err := sockFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	how := a.Int(1)
	if how < unix.SHUT_RD || how > unix.SHUT_RDWR {
		return 0, unix.EINVAL
	}
	return 0, s.Shutdown(t, int(how))
}

// sysGetsockopt implements getsockopt(2): the value is truncated to the
// caller's length, and the length written back is what was copied.
func sysGetsockopt(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, s, err := sockFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	lenAddr := a[4]
	b := t.Scratch()[:4]
	if err := copyInAll(t, lenAddr, b); err != nil {
		return 0, err
	}
	optLen := int32(le.Uint32(b))
	if optLen < 0 {
		return 0, unix.EINVAL
	}
	v, err := s.GetSockOpt(t, int(a.Int(1)), int(a.Int(2)), int(optLen))
	if err != nil {
		return 0, err
	}
	n := min(int(optLen), len(v))
	if n > 0 {
		if err := copyOutAll(t, a[3], v[:n]); err != nil {
			return 0, err
		}
	}
	return 0, copyOutU32(t, lenAddr, uint32(n))
}

// sysSetsockopt implements setsockopt(2): EINVAL for a negative length.
func sysSetsockopt(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	optLen := a.Int(4)
	if optLen < 0 {
		return 0, unix.EINVAL
	}
	f, s, err := sockFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	v := make([]byte, min(int(optLen), maxOptLen))
	if len(v) > 0 {
		n, err := t.CopyIn(a[3], v)
		if err != nil && n == 0 {
			return 0, unix.EFAULT
		}
		// Linux reads only the bytes the option needs: a value
		// shorter than optlen in readable memory still works.
		v = v[:n]
	}
	return 0, s.SetSockOpt(t, int(a.Int(1)), int(a.Int(2)), v)
}
