package syscalls

import (
	"time"

	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/socket"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Layouts and limits of the message calls on 64-bit Linux.
const (
	// msghdrSize is sizeof(struct msghdr); mmsghdrSize adds msg_len
	// and padding.
	msghdrSize  = 56
	mmsghdrSize = 64
	// cmsgHdrSize is sizeof(struct cmsghdr).
	cmsgHdrSize = 16
	// maxControl is net.core.optmem_max: a larger msg_controllen
	// cannot be allocated (ENOBUFS).
	maxControl = 128 << 10
	// maxMessage bounds the data of one datagram staged in the
	// sentry: no family takes a larger message (AF_UNIX refuses more
	// than twice wmem_max, UDP more than 64 KiB), so one byte more is
	// enough for the family to answer EMSGSIZE.
	maxMessage = 1 << 20
	// scmMaxFD is SCM_MAX_FD.
	scmMaxFD = 253
	// ucredSize is sizeof(struct ucred).
	ucredSize = 12
)

func cmsgAlign(n int) int { return (n + 7) &^ 7 }

// ioSeg is one iovec of a message.
type ioSeg struct {
	base uintptr
	len  int
}

// msgIO is the data side of one message: its iovecs and their total
// (clamped to MAX_RW_COUNT).
type msgIO struct {
	segs  []ioSeg
	total int
}

func singleIO(base uintptr, n uintptr) msgIO {
	l := rwCount(n)
	return msgIO{segs: []ioSeg{{base, l}}, total: l}
}

// iovIO reads a message's iovec array: EMSGSIZE beyond UIO_MAXIOV, as
// the msghdr calls answer.
func iovIO(t *kernel.Task, addr uintptr, n uint64) (msgIO, error) {
	if n > iovMax {
		return msgIO{}, unix.EMSGSIZE
	}
	iovs, err := copyInIovecs(t, addr, int32(n))
	if err != nil {
		return msgIO{}, err
	}
	m := msgIO{segs: make([]ioSeg, 0, iovs.n()), total: iovs.total}
	for i := range iovs.n() {
		b, l := iovs.at(i)
		m.segs = append(m.segs, ioSeg{b, l})
	}
	return m, nil
}

// gather copies n bytes of the message, from byte off on, into one
// buffer.
func (m msgIO) gather(t *kernel.Task, off, n int) ([]byte, error) {
	buf := make([]byte, n)
	done := 0
	for _, s := range m.segs {
		if done == n {
			break
		}
		if off >= s.len {
			off -= s.len
			continue
		}
		c := min(s.len-off, n-done)
		if err := copyInAll(t, s.base+uintptr(off), buf[done:done+c]); err != nil {
			return nil, err
		}
		done += c
		off = 0
	}
	return buf[:done], nil
}

// scatter copies data to the message's buffers from byte off on.
func (m msgIO) scatter(t *kernel.Task, off int, data []byte) error {
	for _, s := range m.segs {
		if len(data) == 0 {
			return nil
		}
		if off >= s.len {
			off -= s.len
			continue
		}
		c := min(s.len-off, len(data))
		if err := copyOutAll(t, s.base+uintptr(off), data[:c]); err != nil {
			return err
		}
		data = data[c:]
		off = 0
	}
	return nil
}

// sendData sends the message's data. A stream socket is fed in bounded
// pieces until all is sent or one piece goes short; any other socket
// gets one message (at most maxMessage+1 bytes staged: more is too big
// for every family). Control messages ride on the first piece.
func sendData(t *kernel.Task, s socket.Socket, m msgIO, to []byte, ctl *socket.ControlMessages, flags int, nonblock bool) (int, error) {
	if s.Type() != unix.SOCK_STREAM {
		data, err := m.gather(t, 0, min(m.total, maxMessage+1))
		if err != nil {
			return 0, err
		}
		return s.SendMsg(t, data, to, ctl, flags, nonblock)
	}
	sent := 0
	for {
		data, err := m.gather(t, sent, min(m.total-sent, ioChunk))
		if err != nil {
			if sent > 0 {
				return sent, nil
			}
			return 0, err
		}
		n, err := s.SendMsg(t, data, to, ctl, flags, nonblock)
		sent += n
		if err != nil {
			if sent > 0 {
				return sent, nil
			}
			return 0, err
		}
		if n < len(data) || sent >= m.total {
			return sent, nil
		}
		// Only the first piece may raise SIGPIPE or carry control
		// messages (Linux signals only when nothing was sent).
		ctl = nil
		flags |= unix.MSG_NOSIGNAL
	}
}

// recvData receives into the message's buffers. A stream read stages at
// most one chunk, except that MSG_WAITALL keeps reading until the
// buffers are full; other sockets receive one message, staged whole
// (bounded by maxMessage; a longer message is truncated as the buffer
// would).
func recvData(t *kernel.Task, s socket.Socket, m msgIO, flags int, nonblock, wantCtl bool) (socket.RecvResult, error) {
	if s.Type() != unix.SOCK_STREAM {
		buf := make([]byte, min(m.total, maxMessage))
		r, err := s.RecvMsg(t, buf, flags, nonblock, wantCtl)
		if err != nil {
			return r, err
		}
		if err := m.scatter(t, 0, buf[:r.N]); err != nil {
			r.Control.Release()
			return socket.RecvResult{}, err
		}
		return r, nil
	}
	bp := ioBufs.Get().(*[]byte)
	defer ioBufs.Put(bp)
	var total socket.RecvResult
	for {
		buf := (*bp)[:min(m.total-total.N, len(*bp))]
		r, err := s.RecvMsg(t, buf, flags, nonblock, wantCtl)
		if err != nil {
			if total.N > 0 {
				return total, nil
			}
			return r, err
		}
		if err := m.scatter(t, total.N, buf[:r.N]); err != nil {
			r.Control.Release()
			if total.N > 0 {
				return total, nil
			}
			return socket.RecvResult{}, err
		}
		if total.N == 0 {
			total.From, total.Control, total.Flags = r.From, r.Control, r.Flags
		} else {
			r.Control.Release()
		}
		total.N += r.N
		total.Len = total.N
		if flags&unix.MSG_WAITALL == 0 || flags&unix.MSG_PEEK != 0 || r.N < len(buf) || total.N >= m.total || !r.Control.Empty() {
			return total, nil
		}
	}
}

// sysSendto implements sendto(2) (and send).
func sysSendto(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, s, err := sockFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	var to []byte
	if a[4] != 0 {
		if to, err = copyInAddr(t, a[4], a.Int(5)); err != nil {
			return 0, err
		}
	}
	flags := int(a.Int(3))
	n, err := sendData(t, s, singleIO(a[1], a[2]), to, nil, flags, socket.IsNonBlocking(f, flags))
	return uintptr(n), err
}

// sysRecvfrom implements recvfrom(2) (and recv).
func sysRecvfrom(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, s, err := sockFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	flags := int(a.Int(3))
	r, err := recvData(t, s, singleIO(a[1], a[2]), flags, socket.IsNonBlocking(f, flags), false)
	if err != nil {
		return 0, err
	}
	r.Control.Release()
	if a[4] != 0 {
		if err := copyOutAddr(t, r.From, a[4], a[5]); err != nil {
			return 0, err
		}
	}
	return uintptr(r.Len), nil
}

// msghdr is struct msghdr as read from the application.
type msghdr struct {
	name       uintptr
	namelen    int32
	iov        uintptr
	iovlen     uint64
	control    uintptr
	controllen uint64
	flags      int32
}

func copyInMsghdr(t *kernel.Task, addr uintptr) (msghdr, error) {
	b := make([]byte, msghdrSize)
	if err := copyInAll(t, addr, b); err != nil {
		return msghdr{}, err
	}
	return msghdr{
		name: uintptr(le.Uint64(b)), namelen: int32(le.Uint32(b[8:])),
		iov: uintptr(le.Uint64(b[16:])), iovlen: le.Uint64(b[24:]),
		control: uintptr(le.Uint64(b[32:])), controllen: le.Uint64(b[40:]),
		flags: int32(le.Uint32(b[48:])),
	}, nil
}

// sysSendmsg implements sendmsg(2).
func sysSendmsg(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, s, err := sockFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	n, err := sendOne(t, f, s, a[1], int(a.Int(2)))
	return uintptr(n), err
}

// sendOne sends the message whose msghdr is at addr.
func sendOne(t *kernel.Task, f *vfs.File, s socket.Socket, addr uintptr, flags int) (int, error) {
	h, err := copyInMsghdr(t, addr)
	if err != nil {
		return 0, err
	}
	if h.namelen < 0 {
		return 0, unix.EINVAL
	}
	var to []byte
	if h.name != 0 && h.namelen > 0 {
		if to, err = copyInAddr(t, h.name, min(h.namelen, socket.MaxAddrLen)); err != nil {
			return 0, err
		}
	}
	m, err := iovIO(t, h.iov, h.iovlen)
	if err != nil {
		return 0, err
	}
	ctl, err := copyInControl(t, s, h)
	if err != nil {
		return 0, err
	}
	defer ctl.Release()
	return sendData(t, s, m, to, &ctl, flags, socket.IsNonBlocking(f, flags))
}

// copyInControl reads and parses a message's control data. For AF_UNIX,
// SOL_SOCKET messages are SCM_RIGHTS (EINVAL beyond SCM_MAX_FD, EBADF
// for a bad descriptor) and SCM_CREDENTIALS (EINVAL for a bad length,
// EPERM for credentials the sender may not claim, ESRCH for a process
// that does not exist); every other message is passed on raw for the
// family to judge. EINVAL for a malformed cmsghdr, ENOBUFS for control
// data beyond optmem_max.
func copyInControl(t *kernel.Task, s socket.Socket, h msghdr) (socket.ControlMessages, error) {
	var ctl socket.ControlMessages
	if h.controllen == 0 {
		return ctl, nil
	}
	if h.controllen > maxControl {
		return ctl, unix.ENOBUFS
	}
	b := make([]byte, h.controllen)
	if err := copyInAll(t, h.control, b); err != nil {
		return ctl, err
	}
	for off := 0; off+cmsgHdrSize <= len(b); {
		l := le.Uint64(b[off:])
		if l < cmsgHdrSize || l > uint64(len(b)-off) {
			ctl.Release()
			return socket.ControlMessages{}, unix.EINVAL
		}
		level := int(int32(le.Uint32(b[off+8:])))
		typ := int(int32(le.Uint32(b[off+12:])))
		data := b[off+cmsgHdrSize : off+int(l)]
		if err := parseControl(t, s, &ctl, level, typ, data); err != nil {
			ctl.Release()
			return socket.ControlMessages{}, err
		}
		off += cmsgAlign(int(l))
	}
	return ctl, nil
}

func parseControl(t *kernel.Task, s socket.Socket, ctl *socket.ControlMessages, level, typ int, data []byte) error {
	if s.Family() != unix.AF_UNIX || level != unix.SOL_SOCKET {
		ctl.Raw = append(ctl.Raw, socket.RawControl{Level: level, Type: typ, Data: append([]byte(nil), data...)})
		return nil
	}
	switch typ {
	case unix.SCM_RIGHTS:
		n := len(data) / 4
		if len(ctl.Rights)+n > scmMaxFD {
			return unix.EINVAL
		}
		for i := range n {
			f, err := t.FDTable().Get(int32(le.Uint32(data[4*i:])))
			if err != nil {
				return unix.EBADF
			}
			ctl.Rights = append(ctl.Rights, f)
		}
		return nil
	case unix.SCM_CREDENTIALS:
		if len(data) != ucredSize {
			return unix.EINVAL
		}
		c := socket.Credentials{PID: int32(le.Uint32(data)), UID: le.Uint32(data[4:]), GID: le.Uint32(data[8:])}
		if err := checkCreds(t, c); err != nil {
			return err
		}
		ctl.Credentials = &c
		return nil
	}
	return unix.EINVAL
}

// checkCreds is scm_check_creds: a sender may claim its own thread
// group (or any with CAP_SYS_ADMIN), one of its real, effective or saved
// user IDs (or any with CAP_SETUID), and likewise for groups.
func checkCreds(t *kernel.Task, c socket.Credentials) error {
	cr := t.Credentials()
	pidOK := c.PID == t.PID() || cr.HasCap(kernel.CapSysAdmin)
	uidOK := c.UID == cr.RealUID || c.UID == cr.EffectiveUID || c.UID == cr.SavedUID || cr.HasCap(kernel.CapSetuid)
	gidOK := c.GID == cr.RealGID || c.GID == cr.EffectiveGID || c.GID == cr.SavedGID || cr.HasCap(kernel.CapSetgid)
	if !pidOK || !uidOK || !gidOK {
		return unix.EPERM
	}
	if c.PID != t.PID() && t.Kernel().ThreadGroupByPID(c.PID) == nil {
		return unix.ESRCH
	}
	return nil
}

// sysRecvmsg implements recvmsg(2).
func sysRecvmsg(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, s, err := sockFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	n, err := recvOne(t, f, s, a[1], int(a.Int(2)))
	return uintptr(n), err
}

// recvOne receives one message into the msghdr at addr and writes back
// msg_namelen, msg_controllen and msg_flags.
func recvOne(t *kernel.Task, f *vfs.File, s socket.Socket, addr uintptr, flags int) (int, error) {
	h, err := copyInMsghdr(t, addr)
	if err != nil {
		return 0, err
	}
	if h.namelen < 0 {
		return 0, unix.EINVAL
	}
	m, err := iovIO(t, h.iov, h.iovlen)
	if err != nil {
		return 0, err
	}
	r, err := recvData(t, s, m, flags&^unix.MSG_CMSG_CLOEXEC, socket.IsNonBlocking(f, flags), h.control != 0 && h.controllen > 0)
	if err != nil {
		return 0, err
	}
	if h.name != 0 {
		namelen := min(h.namelen, socket.MaxAddrLen)
		c := min(int(namelen), len(r.From))
		if c > 0 {
			if err := copyOutAll(t, h.name, r.From[:c]); err != nil {
				r.Control.Release()
				return 0, err
			}
		}
		if err := copyOutU32(t, addr+8, uint32(len(r.From))); err != nil {
			r.Control.Release()
			return 0, err
		}
	}
	used, ctrunc := putControl(t, h, &r.Control, flags&unix.MSG_CMSG_CLOEXEC != 0)
	// Linux echoes MSG_CMSG_CLOEXEC in msg_flags.
	msgFlags := r.Flags | flags&unix.MSG_CMSG_CLOEXEC
	if ctrunc {
		msgFlags |= unix.MSG_CTRUNC
	}
	if err := copyOutU64(t, addr+40, uint64(used)); err != nil {
		return 0, err
	}
	if err := copyOutU32(t, addr+48, uint32(msgFlags)); err != nil {
		return 0, err
	}
	return r.Len, nil
}

// putControl writes the received control messages into the caller's
// buffer as put_cmsg and scm_detach_fds do: credentials first, then the
// descriptors that fit (installed in the caller's table; the rest are
// closed), then raw messages. It returns the bytes used and whether
// something was cut (MSG_CTRUNC). It releases every file it does not
// install.
func putControl(t *kernel.Task, h msghdr, ctl *socket.ControlMessages, cloexec bool) (int, bool) {
	defer ctl.Release()
	room := 0
	if h.control != 0 {
		room = int(min(h.controllen, maxControl))
	}
	pos := 0
	trunc := false
	put := func(level, typ int, data []byte) {
		left := room - pos
		if left < cmsgHdrSize {
			trunc = true
			return
		}
		l := cmsgHdrSize + len(data)
		if left < l {
			trunc = true
			l = left
		}
		b := make([]byte, l)
		le.PutUint64(b, uint64(l))
		le.PutUint32(b[8:], uint32(level))
		le.PutUint32(b[12:], uint32(typ))
		copy(b[cmsgHdrSize:], data)
		if err := copyOutAll(t, h.control+uintptr(pos), b); err != nil {
			trunc = true
			return
		}
		pos += min(cmsgAlign(cmsgHdrSize+len(data)), left)
	}
	if c := ctl.Credentials; c != nil {
		b := make([]byte, ucredSize)
		le.PutUint32(b, uint32(c.PID))
		le.PutUint32(b[4:], c.UID)
		le.PutUint32(b[8:], c.GID)
		put(unix.SOL_SOCKET, unix.SCM_CREDENTIALS, b)
	}
	if len(ctl.Rights) > 0 {
		left := room - pos
		fdmax := 0
		if left > cmsgHdrSize {
			fdmax = min((left-cmsgHdrSize)/4, len(ctl.Rights))
		}
		fds := make([]byte, 0, 4*fdmax)
		i := 0
		for ; i < fdmax; i++ {
			fd, err := t.FDTable().Install(ctl.Rights[i], 0, cloexec, nofile(t))
			if err != nil {
				break
			}
			fds = le.AppendUint32(fds, uint32(fd))
		}
		if i > 0 {
			l := cmsgHdrSize + 4*i
			b := make([]byte, cmsgHdrSize, l)
			le.PutUint64(b, uint64(l))
			le.PutUint32(b[8:], unix.SOL_SOCKET)
			le.PutUint32(b[12:], unix.SCM_RIGHTS)
			b = append(b, fds...)
			if err := copyOutAll(t, h.control+uintptr(pos), b); err == nil {
				pos += min(cmsgAlign(l), left)
			}
		}
		if i < len(ctl.Rights) {
			trunc = true
		}
	}
	for _, r := range ctl.Raw {
		put(r.Level, r.Type, r.Data)
	}
	return pos, trunc
}

// sysSendmmsg implements sendmmsg(2): at most UIO_MAXIOV messages; an
// error after the first message ends the batch with the count sent.
func sysSendmmsg(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	f, s, err := sockFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	vlen := min(a.Uint(2), iovMax)
	flags := int(a.Int(3))
	var i uint32
	for ; i < vlen; i++ {
		addr := a[1] + uintptr(i)*mmsghdrSize
		n, err := sendOne(t, f, s, addr, flags)
		if err == nil {
			err = copyOutU32(t, addr+msghdrSize, uint32(n))
		}
		if err != nil {
			if i > 0 {
				break
			}
			return 0, err
		}
	}
	return uintptr(i), nil
}

// sysRecvmmsg implements recvmmsg(2): MSG_WAITFORONE makes every
// message after the first non-blocking; the timeout is checked after
// each message (as Linux, it does not bound a blocked receive) and the
// time left is written back.
func sysRecvmmsg(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	var deadline time.Time
	if a[4] != 0 {
		ts, err := copyInValidTimespec(t, a[4])
		if err != nil {
			return 0, err
		}
		deadline = time.Now().Add(ts.duration())
	}
	f, s, err := sockFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	vlen := min(a.Uint(2), iovMax)
	flags := int(a.Int(3))
	var i uint32
	for ; i < vlen; i++ {
		addr := a[1] + uintptr(i)*mmsghdrSize
		n, err := recvOne(t, f, s, addr, flags&^unix.MSG_WAITFORONE)
		if err == nil {
			err = copyOutU32(t, addr+msghdrSize, uint32(n))
		}
		if err != nil {
			if i > 0 {
				break
			}
			return 0, err
		}
		if flags&unix.MSG_WAITFORONE != 0 {
			flags |= unix.MSG_DONTWAIT
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			i++
			break
		}
	}
	if a[4] != 0 {
		left := max(time.Until(deadline), 0)
		if err := copyOutTimespec(t, a[4], timespec{int64(left / time.Second), int64(left % time.Second)}); err != nil {
			return 0, err
		}
	}
	return uintptr(i), nil
}
