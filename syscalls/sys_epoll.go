package syscalls

import (
	"time"

	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/kernel/epoll"

	"golang.org/x/sys/unix"
)

// epollCloexec is epoll_create1's only flag (EPOLL_CLOEXEC = O_CLOEXEC).
const epollCloexec = unix.O_CLOEXEC

// maxEpollEvents is Linux's EP_MAX_EVENTS: epoll_wait's maxevents may not
// exceed INT_MAX / sizeof(struct epoll_event).
const maxEpollEvents = (1<<31 - 1) / epollEventSize

// sysEpollCreate implements epoll_create(2): size is only checked to be
// positive.
func sysEpollCreate(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	if a.Int(0) <= 0 {
		return 0, unix.EINVAL
	}
	return makeEpoll(t, 0)
}

// sysEpollCreate1 implements epoll_create1(2).
func sysEpollCreate1(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	flags := int(a.Int(0))
	if flags&^epollCloexec != 0 {
		return 0, unix.EINVAL
	}
	return makeEpoll(t, flags)
}

func makeEpoll(t *kernel.Task, flags int) (uintptr, error) {
	f := epoll.New()
	defer f.DecRef()
	fd, err := t.FDTable().Install(f, 0, flags&epollCloexec != 0, nofile(t))
	if err != nil {
		return 0, err
	}
	return uintptr(fd), nil
}

// sysEpollCtl implements epoll_ctl(2). The event is read first for every
// op but EPOLL_CTL_DEL (EFAULT), then both descriptors (EBADF); the
// rest is epoll.Ctl's.
func sysEpollCtl(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	op, fd := int(a.Int(1)), a.Int(2)
	var ev epoll.Event
	if op != epoll.CtlDel {
		b := t.Scratch()[:epollEventSize]
		if err := copyInAll(t, a[3], b); err != nil {
			return 0, err
		}
		ev = decodeEpollEvent(b)
	}
	ft := t.FDTable()
	epf, err := ft.Get(a.Int(0))
	if err != nil {
		return 0, err
	}
	defer epf.DecRef()
	tf, err := ft.Get(fd)
	if err != nil {
		return 0, err
	}
	defer tf.DecRef()
	return 0, epoll.Ctl(epf, op, fd, tf, ev)
}

// doEpollWait is epoll_wait and its variants once the timeout is known
// and the signal mask set: EINVAL for a bad maxevents or a descriptor
// that is no epoll instance, EBADF for none at all.
func doEpollWait(t *kernel.Task, epfd int32, addr uintptr, maxEvents int32, block bool, deadline time.Time) (uintptr, error) {
	if maxEvents <= 0 || maxEvents > maxEpollEvents {
		return 0, unix.EINVAL
	}
	// Linux's access_ok: the whole buffer must lie below the top of
	// user space, whether or not it is mapped.
	if end := addr + uintptr(maxEvents)*epollEventSize; end < addr || end > t.MM().MaxAddr() {
		return 0, unix.EFAULT
	}
	f, err := t.FDTable().Get(epfd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	ep := epoll.FromFile(f)
	if ep == nil {
		return 0, unix.EINVAL
	}
	evs, err := ep.Wait(t, int(maxEvents), block, deadline)
	if err != nil {
		return 0, err
	}
	if len(evs) == 0 {
		return 0, nil
	}
	buf := make([]byte, len(evs)*epollEventSize)
	for i, ev := range evs {
		encodeEpollEvent(buf[i*epollEventSize:], ev)
	}
	if err := copyOutAll(t, addr, buf); err != nil {
		return 0, err
	}
	return uintptr(len(evs)), nil
}

// msDeadline turns epoll_wait's millisecond timeout into a deadline:
// negative waits forever, zero does not block.
func msDeadline(ms int32) (deadline time.Time, block bool) {
	switch {
	case ms < 0:
		return time.Time{}, true
	case ms == 0:
		return time.Time{}, false
	}
	return time.Now().Add(time.Duration(ms) * time.Millisecond), true
}

// sysEpollWait implements epoll_wait(2). A signal ends it with EINTR,
// never restarted (signal(7)).
func sysEpollWait(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	deadline, block := msDeadline(a.Int(3))
	return doEpollWait(t, a.Int(0), a[1], a.Int(2), block, deadline)
}

// epollWaitMasked runs the wait with the optional signal mask of
// epoll_pwait and epoll_pwait2 in force.
func epollWaitMasked(t *kernel.Task, a arch.SyscallArguments, block bool, deadline time.Time) (uintptr, error) {
	mask, haveMask, err := copyInSigmask(t, a[4], a[5])
	if err != nil {
		return 0, err
	}
	if haveMask {
		t.SetTemporarySignalMask(mask)
	}
	n, err := doEpollWait(t, a.Int(0), a[1], a.Int(2), block, deadline)
	if haveMask {
		// Interrupted: the mask is restored after the handler runs.
		t.RestoreSignalMask(err == unix.EINTR)
	}
	return n, err
}

// sysEpollPwait implements epoll_pwait(2): epoll_wait with a signal mask.
func sysEpollPwait(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	deadline, block := msDeadline(a.Int(3))
	return epollWaitMasked(t, a, block, deadline)
}

// sysEpollPwait2 implements epoll_pwait2(2): the timeout is a timespec
// (NULL: forever; EINVAL if invalid), read before the signal mask.
func sysEpollPwait2(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	deadline, block, err := copyInTimeout(t, a[3])
	if err != nil {
		return 0, err
	}
	return epollWaitMasked(t, a, block, deadline)
}
