package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/kernel/eventfd"
	"moat/sentry/kernel/pipe"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// sysPipe implements pipe(2).
func sysPipe(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return 0, makePipe(t, a[0], 0)
}

// sysPipe2 implements pipe2(2): O_CLOEXEC, O_NONBLOCK and O_DIRECT;
// EINVAL for any other flag.
func sysPipe2(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	flags := int(a.Int(1))
	if flags&^(unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_DIRECT) != 0 {
		return 0, unix.EINVAL
	}
	return 0, makePipe(t, a[0], flags)
}

// makePipe creates a pipe, installs its ends and writes the two
// descriptors to addr. On a fault both descriptors are closed again, as
// Linux does.
func makePipe(t *kernel.Task, addr uintptr, flags int) error {
	// pipefs inodes belong to the creator's fsuid and fsgid.
	c := t.Credentials()
	r, w := pipe.NewPipe(c.FSUID, c.FSGID, flags)
	defer r.DecRef()
	defer w.DecRef()
	ft := t.FDTable()
	cloexec := flags&unix.O_CLOEXEC != 0
	rfd, err := ft.Install(r, 0, cloexec, nofile(t))
	if err != nil {
		return err
	}
	wfd, err := ft.Install(w, 0, cloexec, nofile(t))
	if err != nil {
		_ = ft.Close(rfd)
		return err
	}
	b := t.Scratch()[:8]
	le.PutUint32(b, uint32(rfd))
	le.PutUint32(b[4:], uint32(wfd))
	if err := copyOutAll(t, addr, b); err != nil {
		_ = ft.Close(rfd)
		_ = ft.Close(wfd)
		return err
	}
	return nil
}

// sysEventfd implements eventfd(2): eventfd2 without flags.
func sysEventfd(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return makeEventfd(t, a.Uint(0), 0)
}

// sysEventfd2 implements eventfd2(2).
func sysEventfd2(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return makeEventfd(t, a.Uint(0), int(a.Int(1)))
}

func makeEventfd(t *kernel.Task, initval uint32, flags int) (uintptr, error) {
	f, err := eventfd.New(initval, flags)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	fd, err := t.FDTable().Install(f, 0, flags&eventfd.CloExec != 0, nofile(t))
	if err != nil {
		return 0, err
	}
	return uintptr(fd), nil
}

// fcntl commands on pipes (linux/fcntl.h: F_LINUX_SPECIFIC_BASE + 7, 8).
const (
	fSetPipeSz = 1031
	fGetPipeSz = 1032
)

// fcntlPipe handles F_GETPIPE_SZ and F_SETPIPE_SZ; ok is false for any
// other command. Both fail with EBADF on a file that is no pipe.
func fcntlPipe(t *kernel.Task, f *vfs.File, cmd int32, arg uintptr) (ret uintptr, ok bool, err error) {
	if cmd != fGetPipeSz && cmd != fSetPipeSz {
		return 0, false, nil
	}
	p := pipe.PipeOf(f)
	if p == nil {
		return 0, true, unix.EBADF
	}
	if cmd == fGetPipeSz {
		return uintptr(p.Capacity()), true, nil
	}
	// The argument is an unsigned int; the kernel reads it as such.
	n, err := p.SetCapacity(uint64(uint32(arg)), t.Credentials().HasCap(kernel.CapSysResource))
	return uintptr(n), true, err
}
