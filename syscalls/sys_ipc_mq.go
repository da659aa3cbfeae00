package syscalls

import (
	"time"

	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/kernel/mq"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// POSIX message queues (mq_overview(7)). The queues live in the
// sandbox's registry (sentry/kernel/mq), which /dev/mqueue shows.

// mqAttrSize is sizeof(struct mq_attr): four longs and four reserved.
const mqAttrSize = 64

// capSysResource lets a creator pass the unprivileged queue limits.
const capSysResource = 24

// copyInMqAttr reads a struct mq_attr.
func copyInMqAttr(t *kernel.Task, addr uintptr) (mq.Attr, error) {
	b := t.Scratch()[:mqAttrSize]
	if err := copyInAll(t, addr, b); err != nil {
		return mq.Attr{}, err
	}
	return mq.Attr{
		Flags: int64(le.Uint64(b)), MaxMsg: int64(le.Uint64(b[8:])),
		MsgSize: int64(le.Uint64(b[16:])), CurMsgs: int64(le.Uint64(b[24:])),
	}, nil
}

// copyOutMqAttr writes a struct mq_attr, reserved fields zeroed.
func copyOutMqAttr(t *kernel.Task, addr uintptr, a mq.Attr) error {
	b := t.Scratch()[:mqAttrSize]
	clear(b)
	le.PutUint64(b, uint64(a.Flags))
	le.PutUint64(b[8:], uint64(a.MaxMsg))
	le.PutUint64(b[16:], uint64(a.MsgSize))
	le.PutUint64(b[24:], uint64(a.CurMsgs))
	return copyOutAll(t, addr, b)
}

// mqBytes is the memory Linux charges a queue against RLIMIT_MSGQUEUE:
// the messages plus, per message, a struct msg_msg pointer slot and a
// tree node per priority in use (48 bytes each on 64-bit).
func mqBytes(a mq.Attr) uint64 {
	nodes := min(a.MaxMsg, mq.PrioMax)
	return uint64(a.MaxMsg)*48 + uint64(nodes)*48 + uint64(a.MaxMsg)*uint64(a.MsgSize)
}

// sysMqOpen implements mq_open(2): name without glibc's leading slash,
// O_CREAT/O_EXCL, the access mode, O_NONBLOCK and O_CLOEXEC.
func sysMqOpen(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	oflag := int(a.Int(1))
	mode := uint32(a.Uint(2))
	name, err := t.CopyInString(a[0], unix.PathMax)
	if err != nil {
		return 0, err
	}
	var attr *mq.Attr
	if oflag&unix.O_CREAT != 0 && a[3] != 0 {
		at, err := copyInMqAttr(t, a[3])
		if err != nil {
			return 0, err
		}
		attr = &at
	}
	if err := mq.ValidName(name); err != nil {
		return 0, err
	}
	creds := t.Credentials()
	reg := mq.For(t.Kernel())
	vc := t.VFSCreds()
	q := reg.Lookup(name)
	switch {
	case q == nil && oflag&unix.O_CREAT == 0:
		return 0, unix.ENOENT
	case q == nil:
		priv := creds.HasCap(capSysResource)
		if attr != nil {
			if err := mq.CheckAttr(*attr, priv); err != nil {
				return 0, err
			}
			if l, err := t.ThreadGroup().Rlimit(unix.RLIMIT_MSGQUEUE); err == nil && mqBytes(*attr) > l.Cur {
				return 0, unix.EMFILE
			}
		}
		mode = mode &^ t.ThreadGroup().Umask()
		q, err = reg.Create(name, mode, attr, mq.Owner{UID: vc.UID, GID: vc.GID, Privileged: priv})
		if err == unix.EEXIST {
			// Made by another task since the lookup: open it as an
			// existing queue.
			q = reg.Lookup(name)
		} else if err != nil {
			return 0, err
		}
		if q == nil {
			return 0, unix.ENOENT
		}
		if err == nil {
			break
		}
		fallthrough
	default:
		if oflag&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL {
			return 0, unix.EEXIST
		}
		acc := oflag & unix.O_ACCMODE
		if acc == unix.O_ACCMODE {
			return 0, unix.EINVAL
		}
		may := map[int]uint32{unix.O_RDONLY: vfs.MayRead, unix.O_WRONLY: vfs.MayWrite, unix.O_RDWR: vfs.MayRead | vfs.MayWrite}[acc]
		m, uid, gid := q.Perm()
		if !modePermits(vc, m, uid, gid, may) {
			return 0, unix.EACCES
		}
	}
	f := vfs.NewFile(mq.NewFile(q), oflag&(unix.O_ACCMODE|unix.O_NONBLOCK), vfs.Location{})
	defer f.DecRef()
	fd, err := t.FDTable().Install(f, 0, oflag&unix.O_CLOEXEC != 0, nofile(t))
	if err != nil {
		return 0, err
	}
	return uintptr(fd), nil
}

// modePermits is the owner/group/other check of a mode for creds c, with
// uid 0 passing as CAP_DAC_OVERRIDE does.
func modePermits(c *vfs.Creds, mode, uid, gid uint32, may uint32) bool {
	if c.UID == 0 {
		return true
	}
	var bits uint32
	switch {
	case c.UID == uid:
		bits = mode >> 6 & 7
	case c.GID == gid || inGroups(c.Groups, gid):
		bits = mode >> 3 & 7
	default:
		bits = mode & 7
	}
	return may&^bits == 0
}

func inGroups(groups []uint32, gid uint32) bool {
	for _, g := range groups {
		if g == gid {
			return true
		}
	}
	return false
}

// sysMqUnlink implements mq_unlink(2).
func sysMqUnlink(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	name, err := t.CopyInString(a[0], unix.PathMax)
	if err != nil {
		return 0, err
	}
	if err := mq.ValidName(name); err != nil {
		return 0, err
	}
	vc := t.VFSCreds()
	// The mqueue root is sticky and world-writable: the queue's owner
	// or a task with CAP_FOWNER may remove it.
	return 0, mq.For(t.Kernel()).Unlink(name, vc.UID, t.Credentials().HasCap(unix.CAP_FOWNER))
}

// mqFile returns the queue open at fd: EBADF for other files.
func mqFile(t *kernel.Task, fd int32) (*vfs.File, *mq.Queue, error) {
	f, err := t.FDTable().Get(fd)
	if err != nil {
		return nil, nil, err
	}
	mf, ok := f.Impl().(*mq.File)
	if !ok {
		f.DecRef()
		return nil, nil, unix.EBADF
	}
	return f, mf.Queue(), nil
}

// mqDeadline reads an absolute CLOCK_REALTIME timeout (0: none).
func mqDeadline(t *kernel.Task, addr uintptr) (time.Time, error) {
	if addr == 0 {
		return time.Time{}, nil
	}
	ts, err := copyInValidTimespec(t, addr)
	if err != nil {
		return time.Time{}, err
	}
	d := time.Unix(ts.sec, ts.nsec)
	if d.IsZero() {
		// The zero time means "no deadline" to Block: the epoch is long
		// past, so nudge it to time out at once.
		d = d.Add(time.Nanosecond)
	}
	return d, nil
}

// sysMqTimedsend implements mq_timedsend(2).
func sysMqTimedsend(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	addr, n, prio := a[1], a[2], a[3]
	if prio >= mq.PrioMax {
		return 0, unix.EINVAL
	}
	deadline, err := mqDeadline(t, a[4])
	if err != nil {
		return 0, err
	}
	f, q, err := mqFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if !f.Writable() {
		return 0, unix.EBADF
	}
	if int64(n) > q.Attr().MsgSize || int64(n) < 0 {
		return 0, unix.EMSGSIZE
	}
	data := make([]byte, n)
	if err := copyInAll(t, addr, data); err != nil {
		return 0, err
	}
	cr := t.Credentials()
	err = q.Send(data, uint32(prio), f.Flags()&unix.O_NONBLOCK != 0, deadline, t, t.PID(), cr.RealUID)
	if err == unix.EINTR {
		return 0, kernel.ERESTARTSYS
	}
	return 0, err
}

// sysMqTimedreceive implements mq_timedreceive(2).
func sysMqTimedreceive(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	addr, n, prioAddr := a[1], a[2], a[3]
	deadline, err := mqDeadline(t, a[4])
	if err != nil {
		return 0, err
	}
	f, q, err := mqFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if !f.Readable() {
		return 0, unix.EBADF
	}
	size := q.Attr().MsgSize
	if int64(n) < size || int64(n) < 0 {
		return 0, unix.EMSGSIZE
	}
	buf, prio, err := q.Receive(f.Flags()&unix.O_NONBLOCK != 0, deadline, t)
	if err == unix.EINTR {
		return 0, kernel.ERESTARTSYS
	}
	if err != nil {
		return 0, err
	}
	// Linux has dequeued the message before the copy: a bad buffer
	// loses it, as here.
	if err := copyOutAll(t, addr, buf); err != nil {
		return 0, err
	}
	if prioAddr != 0 {
		if err := copyOutU32(t, prioAddr, prio); err != nil {
			return 0, err
		}
	}
	return uintptr(len(buf)), nil
}

// sysMqGetsetattr implements mq_getsetattr(2): only O_NONBLOCK changes.
func sysMqGetsetattr(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	var na mq.Attr
	if a[1] != 0 {
		var err error
		if na, err = copyInMqAttr(t, a[1]); err != nil {
			return 0, err
		}
		if na.Flags&^unix.O_NONBLOCK != 0 {
			return 0, unix.EINVAL
		}
	}
	f, q, err := mqFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	old := q.Attr()
	old.Flags = int64(f.Flags() & unix.O_NONBLOCK)
	if a[1] != 0 {
		fl := f.Flags()&^unix.O_NONBLOCK | int(na.Flags)
		if err := f.SetFlags(fl); err != nil {
			return 0, err
		}
	}
	if a[2] != 0 {
		if err := copyOutMqAttr(t, a[2], old); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// sigevent's sigev_notify values.
const (
	sigevSignal = 0
	sigevNone   = 1
	sigevThread = 2
	// siMesgq is SI_MESGQ, the si_code of a queue's notification.
	siMesgq int32 = -3
)

// sysMqNotify implements mq_notify(2) for SIGEV_NONE and SIGEV_SIGNAL.
// SIGEV_THREAD needs the netlink socket glibc makes for it: EINVAL.
func sysMqNotify(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	var n *mq.Notification
	if a[1] != 0 {
		b := t.Scratch()[:16]
		if err := copyInAll(t, a[1], b); err != nil {
			return 0, err
		}
		sigval := le.Uint64(b)
		signo := int32(le.Uint32(b[8:]))
		switch le.Uint32(b[12:]) {
		case sigevNone:
			n = &mq.Notification{PID: t.PID()}
		case sigevSignal:
			if !kernel.ValidSignal(unix.Signal(signo)) {
				return 0, unix.EINVAL
			}
			n = &mq.Notification{PID: t.PID(), Signo: signo}
			tg, sig := t.ThreadGroup(), unix.Signal(signo)
			n.Fire = func(pid int32, uid uint32) {
				// The registered process gets SI_MESGQ with the
				// sender's PID and real UID and sigev_value.
				var raw [kernel.SigInfoSize]byte
				le.PutUint32(raw[0:], uint32(sig))
				code := siMesgq
				le.PutUint32(raw[8:], uint32(code))
				le.PutUint32(raw[16:], uint32(pid))
				le.PutUint32(raw[20:], uid)
				le.PutUint64(raw[24:], sigval)
				tg.QueueSignalInfo(sig, &raw)
			}
		case sigevThread:
			// glibc implements SIGEV_THREAD with a netlink socket
			// the kernel writes the cookie to: not offered.
			return 0, unix.EINVAL
		default:
			return 0, unix.EINVAL
		}
	}
	f, q, err := mqFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return 0, q.SetNotify(n, t.PID())
}
