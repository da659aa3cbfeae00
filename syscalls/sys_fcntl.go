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
		if f.Flags()&unix.O_PATH != 0 {
			return 0, unix.EBADF
		}
		return fcntlSeals(f, cmd, a.Uint(2))
	case unix.F_GETOWN, unix.F_SETOWN, unix.F_GETOWN_EX, unix.F_SETOWN_EX, unix.F_GETSIG, unix.F_SETSIG:
		if f.Flags()&unix.O_PATH != 0 {
			return 0, unix.EBADF
		}
		return fcntlOwner(t, f, cmd, a[2])
	}
	return 0, unix.EINVAL
}

// fcntlOwner implements F_GETOWN, F_SETOWN, F_GETOWN_EX, F_SETOWN_EX,
// F_GETSIG and F_SETSIG. The owner and signal are kept and reported as
// Linux does; no SIGIO is ever sent (O_ASYNC is not supported).
func fcntlOwner(t *kernel.Task, f *vfs.File, cmd int32, arg uintptr) (uintptr, error) {
	switch cmd {
	case unix.F_GETOWN:
		o := f.IOOwner()
		if o.Type == vfs.OwnerPGRP {
			// A process group reads back negated; the C library
			// mistakes small ones for errors, as on Linux.
			return uintptr(-int64(o.ID)), nil
		}
		return uintptr(o.ID), nil
	case unix.F_SETOWN:
		who := int32(arg)
		if who == -1<<31 {
			return 0, unix.EINVAL
		}
		o := vfs.IOOwner{Type: vfs.OwnerPID, ID: who}
		if who < 0 {
			o = vfs.IOOwner{Type: vfs.OwnerPGRP, ID: -who}
		}
		return 0, setIOOwner(t, f, o)
	case unix.F_GETOWN_EX:
		o := f.IOOwner()
		var b [8]byte
		binary.LittleEndian.PutUint32(b[0:], uint32(o.Type))
		binary.LittleEndian.PutUint32(b[4:], uint32(o.ID))
		if err := copyOutAll(t, arg, b[:]); err != nil {
			return 0, err
		}
		return 0, nil
	case unix.F_SETOWN_EX:
		var b [8]byte
		if err := copyInAll(t, arg, b[:]); err != nil {
			return 0, err
		}
		typ := vfs.IOOwnerType(binary.LittleEndian.Uint32(b[0:]))
		id := int32(binary.LittleEndian.Uint32(b[4:]))
		switch typ {
		case vfs.OwnerTID, vfs.OwnerPID, vfs.OwnerPGRP:
		default:
			return 0, unix.EINVAL
		}
		return 0, setIOOwner(t, f, vfs.IOOwner{Type: typ, ID: id})
	case unix.F_GETSIG:
		return uintptr(f.Sig()), nil
	default: // F_SETSIG
		// valid_signal: 0 (SIGIO) up to _NSIG, taken as unsigned.
		if uint64(arg) > 64 {
			return 0, unix.EINVAL
		}
		f.SetSig(int32(arg))
		return 0, nil
	}
}

// setIOOwner records o as f's owner: ESRCH when o names no live thread,
// process or process group (0 clears the owner).
func setIOOwner(t *kernel.Task, f *vfs.File, o vfs.IOOwner) error {
	if o.ID < 0 {
		return unix.ESRCH
	}
	if o.ID != 0 {
		// Linux looks the number up as any pid (find_vpid): a thread,
		// a process or a process group's id all do, whatever the type.
		k := t.Kernel()
		found := k.TaskByTID(o.ID) != nil || k.ThreadGroupByPID(o.ID) != nil || len(k.ProcessGroup(o.ID)) > 0
		if !found {
			return unix.ESRCH
		}
	}
	f.SetIOOwner(o)
	return nil
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
	if ret, ok, err := ttyIoctl(t, f, uintptr(req), arg); ok {
		return ret, err
	}
	return f.Ioctl(uintptr(req), arg, t)
}
