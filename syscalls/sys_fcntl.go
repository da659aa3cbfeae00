package syscalls

import (
	"encoding/binary"

	"moat/platform/arch"
	"moat/sentry/fs/tmpfs"
	"moat/sentry/kernel"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// ioctl requests the fd table handles (asm-generic/ioctls.h; the same
// numbers on amd64 and arm64).
const (
	fionbio  = 0x5421
	fionclex = 0x5450
	fioclex  = 0x5451
)

// sysFcntl implements fcntl(2) for F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD,
// F_SETFD, F_GETFL and F_SETFL; other commands fail with EINVAL.
func sysFcntl(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	fd, cmd := a.Int(0), a.Int(1)
	ft := t.FDTable()
	switch cmd {
	case unix.F_DUPFD, unix.F_DUPFD_CLOEXEC:
		f, err := ft.Get(fd)
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		// Install refuses a minimum beyond RLIMIT_NOFILE with EINVAL,
		// as F_DUPFD must.
		nfd, err := ft.Install(f, a.Int(2), cmd == unix.F_DUPFD_CLOEXEC, nofile(t))
		if err != nil {
			return 0, err
		}
		return uintptr(nfd), nil
	case unix.F_GETFD:
		cloexec, err := ft.CloseOnExec(fd)
		if err != nil {
			return 0, err
		}
		if cloexec {
			return unix.FD_CLOEXEC, nil
		}
		return 0, nil
	case unix.F_SETFD:
		return 0, ft.SetCloseOnExec(fd, a.Int(2)&unix.FD_CLOEXEC != 0)
	case unix.F_GETFL:
		f, err := ft.Get(fd)
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		return uintptr(f.Flags()), nil
	case unix.F_SETFL:
		f, err := ft.Get(fd)
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		return 0, f.SetFlags(int(a.Int(2)))
	}
	// Check the descriptor first: Linux answers EBADF before looking at
	// the command.
	f, err := ft.Get(fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if ret, ok, err := fcntlPipe(t, f, cmd, a[2]); ok {
		return ret, err
	}
	if ret, ok, err := fcntlLock(t, f, cmd, a[2]); ok {
		return ret, err
	}
	switch cmd {
	case unix.F_ADD_SEALS, unix.F_GET_SEALS:
		return fcntlSeals(f, cmd, a.Uint(2))
	}
	return 0, unix.EINVAL
}

// fcntlSeals implements F_ADD_SEALS and F_GET_SEALS: EINVAL for a file
// that cannot be sealed (anything but a tmpfs file), EPERM for adding
// through a descriptor not open for writing.
func fcntlSeals(f *vfs.File, cmd int32, seals uint32) (uintptr, error) {
	s, sealable := f.Impl().(vfs.Sealable)
	if cmd == unix.F_GET_SEALS {
		if !sealable {
			return 0, unix.EINVAL
		}
		return uintptr(s.Seals()), nil
	}
	// memfd_add_seals' order: the access mode, the bits, the file.
	if !f.Writable() {
		return 0, unix.EPERM
	}
	if seals&^tmpfs.AllSeals != 0 || !sealable {
		return 0, unix.EINVAL
	}
	return 0, s.AddSeals(f, seals)
}

// sysIoctl implements ioctl(2): FIOCLEX and FIONCLEX act on the descriptor,
// FIONBIO on the file's O_NONBLOCK; anything else goes to the file, which
// answers ENOTTY for requests it does not know.
func sysIoctl(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	fd, req, arg := a.Int(0), a.Uint(1), a[2]
	ft := t.FDTable()
	f, err := ft.Get(fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	switch req {
	case fioclex:
		return 0, ft.SetCloseOnExec(fd, true)
	case fionclex:
		return 0, ft.SetCloseOnExec(fd, false)
	case fionbio:
		var b [4]byte
		if c, err := t.CopyIn(arg, b[:]); err != nil || c != len(b) {
			return 0, unix.EFAULT
		}
		fl := f.Flags() &^ unix.O_NONBLOCK
		if binary.LittleEndian.Uint32(b[:]) != 0 {
			fl |= unix.O_NONBLOCK
		}
		return 0, f.SetFlags(fl)
	}
	return f.Ioctl(uintptr(req), arg, t)
}
