package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

var identitySyscalls = []entry{
	supported("getpid", sysGetpid, ""),
	supported("getppid", sysGetppid, ""),
	supported("gettid", sysGettid, ""),
	supported("getuid", sysGetuid, ""),
	supported("geteuid", sysGeteuid, ""),
	supported("getgid", sysGetgid, ""),
	supported("getegid", sysGetegid, ""),
	supported("getgroups", sysGetgroups, "int,ptr"),
	supported("getresuid", sysGetresuid, "ptr,ptr,ptr"),
	supported("getresgid", sysGetresgid, "ptr,ptr,ptr"),
	supported("umask", sysUmask, "mode").returnsOctal(),
	partial("uname", sysUname, "ptr", "reports moat's own kernel identity: Linux "+unameRelease),
	supported("getpgrp", sysGetpgrp, ""),
	supported("getpgid", sysGetpgid, "int"),
	supported("getsid", sysGetsid, "int"),
	supported("setsid", sysSetsid, ""),
	supported("getrlimit", sysGetrlimit, "rlimit,ptr"),
	supported("setrlimit", sysSetrlimit, "rlimit,ptr"),
	partial("prlimit64", sysPrlimit64, "int,rlimit,ptr,ptr", "limits are kept, but only RLIMIT_NOFILE is enforced"),
}

func sysGetpid(t *kernel.Task, _ arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.PID()), nil
}

func sysGetppid(t *kernel.Task, _ arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.ThreadGroup().PPID()), nil
}

func sysGettid(t *kernel.Task, _ arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.TID()), nil
}

func sysGetuid(t *kernel.Task, _ arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.Credentials().RealUID), nil
}

func sysGeteuid(t *kernel.Task, _ arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.Credentials().EffectiveUID), nil
}

func sysGetgid(t *kernel.Task, _ arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.Credentials().RealGID), nil
}

func sysGetegid(t *kernel.Task, _ arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.Credentials().EffectiveGID), nil
}

// ngroupsMax is NGROUPS_MAX.
const ngroupsMax = 65536

// sysGetgroups implements getgroups(2): size 0 asks for the count; a
// size smaller than the count is EINVAL.
func sysGetgroups(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	size, addr := args.Int(0), args[1]
	if size < 0 {
		return 0, unix.EINVAL
	}
	groups := t.Credentials().Groups
	if size == 0 {
		return uintptr(len(groups)), nil
	}
	if int(size) < len(groups) {
		return 0, unix.EINVAL
	}
	for i, g := range groups {
		if err := copyOutU32(t, addr+uintptr(4*i), g); err != nil {
			return 0, err
		}
	}
	return uintptr(len(groups)), nil
}

// copyOutRes writes the three ids of getresuid/getresgid.
func copyOutRes(t *kernel.Task, args arch.SyscallArguments, ids [3]uint32) error {
	for i, id := range ids {
		if err := copyOutU32(t, args[i], id); err != nil {
			return err
		}
	}
	return nil
}

func sysGetresuid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	c := t.Credentials()
	return 0, copyOutRes(t, args, [3]uint32{c.RealUID, c.EffectiveUID, c.SavedUID})
}

func sysGetresgid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	c := t.Credentials()
	return 0, copyOutRes(t, args, [3]uint32{c.RealGID, c.EffectiveGID, c.SavedGID})
}

func sysUmask(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.ThreadGroup().SetUmask(args.Uint(0))), nil
}

// The identity uname reports. The release is moat's own: a 6.1 LTS
// kernel is what the emulated surface is modelled on, and the "-moat"
// suffix lets programs and people tell they run in moat.
const (
	unameSysname = "Linux"
	unameRelease = "6.1.0-moat"
	unameVersion = "#1 SMP moat"
	// utsLen is __NEW_UTS_LEN + 1: each struct utsname field.
	utsLen = 65
)

// sysUname implements uname(2): six 65-byte fields.
func sysUname(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	b := t.Scratch()[:6*utsLen]
	putCString(b[0*utsLen:1*utsLen], unameSysname)
	putCString(b[1*utsLen:2*utsLen], t.Kernel().Hostname())
	putCString(b[2*utsLen:3*utsLen], unameRelease)
	putCString(b[3*utsLen:4*utsLen], unameVersion)
	putCString(b[4*utsLen:5*utsLen], arch.Name)
	putCString(b[5*utsLen:6*utsLen], t.Kernel().Domainname())
	return 0, copyOutAll(t, args[0], b)
}

func sysGetpgrp(t *kernel.Task, _ arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.ThreadGroup().PGID()), nil
}

// processOf returns the process pid names (0: the caller), or ESRCH.
func processOf(t *kernel.Task, pid int32) (*kernel.ThreadGroup, error) {
	if pid == 0 {
		return t.ThreadGroup(), nil
	}
	if pid < 0 {
		return nil, unix.ESRCH
	}
	tg := t.Kernel().ThreadGroupByPID(pid)
	if tg == nil {
		return nil, unix.ESRCH
	}
	return tg, nil
}

func sysGetpgid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	tg, err := processOf(t, args.Int(0))
	if err != nil {
		return 0, err
	}
	return uintptr(tg.PGID()), nil
}

func sysGetsid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	tg, err := processOf(t, args.Int(0))
	if err != nil {
		return 0, err
	}
	return uintptr(tg.SID()), nil
}

// sysSetsid implements setsid(2).
func sysSetsid(t *kernel.Task, _ arch.SyscallArguments) (uintptr, error) {
	sid, err := t.SetSID()
	return uintptr(sid), err
}

// copyInRlimit reads a struct rlimit (two 64-bit values on 64-bit Linux).
func copyInRlimit(t *kernel.Task, addr uintptr) (kernel.Rlimit, error) {
	b := t.Scratch()[:16]
	if err := copyInAll(t, addr, b); err != nil {
		return kernel.Rlimit{}, err
	}
	return kernel.Rlimit{Cur: le.Uint64(b), Max: le.Uint64(b[8:])}, nil
}

// copyOutRlimit writes a struct rlimit.
func copyOutRlimit(t *kernel.Task, addr uintptr, r kernel.Rlimit) error {
	b := t.Scratch()[:16]
	le.PutUint64(b, r.Cur)
	le.PutUint64(b[8:], r.Max)
	return copyOutAll(t, addr, b)
}

func sysGetrlimit(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	r, err := t.ThreadGroup().Rlimit(int(args.Uint(0)))
	if err != nil {
		return 0, err
	}
	return 0, copyOutRlimit(t, args[1], r)
}

func sysSetrlimit(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	resource := int(args.Uint(0))
	if resource >= kernel.NumRlimits {
		return 0, unix.EINVAL
	}
	nl, err := copyInRlimit(t, args[1])
	if err != nil {
		return 0, err
	}
	_, err = t.ThreadGroup().SetRlimit(resource, nl, t.Credentials().Privileged())
	return 0, err
}

// sysPrlimit64 implements prlimit64(2) on a process of the sandbox.
func sysPrlimit64(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	pid, resource, newAddr, oldAddr := args.Int(0), int(args.Uint(1)), args[2], args[3]
	if resource >= kernel.NumRlimits {
		return 0, unix.EINVAL
	}
	tg, err := processOf(t, pid)
	if err != nil {
		return 0, err
	}
	if tg != t.ThreadGroup() && !t.Credentials().Privileged() {
		// Another process: the kernel requires matching ids or
		// CAP_SYS_RESOURCE; every process shares the init's ids for now.
		return 0, unix.EPERM
	}
	var old kernel.Rlimit
	if newAddr != 0 {
		nl, err := copyInRlimit(t, newAddr)
		if err != nil {
			return 0, err
		}
		if old, err = tg.SetRlimit(resource, nl, t.Credentials().Privileged()); err != nil {
			return 0, err
		}
	} else if old, err = tg.Rlimit(resource); err != nil {
		return 0, err
	}
	if oldAddr != 0 {
		return 0, copyOutRlimit(t, oldAddr, old)
	}
	return 0, nil
}
