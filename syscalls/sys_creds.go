package syscalls

import (
	"slices"

	"moat/platform/arch"
	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

// setCreds installs the result of a credential change.
func setCreds(t *kernel.Task, n *kernel.Credentials, err error) (uintptr, error) {
	if err != nil {
		return 0, err
	}
	t.SetCredentials(n)
	return 0, nil
}

func sysSetuid(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	n, err := t.Credentials().SetUID(a.Uint(0))
	return setCreds(t, n, err)
}

func sysSetgid(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	n, err := t.Credentials().SetGID(a.Uint(0))
	return setCreds(t, n, err)
}

func sysSetreuid(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	n, err := t.Credentials().SetREUID(a.Uint(0), a.Uint(1))
	return setCreds(t, n, err)
}

func sysSetregid(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	n, err := t.Credentials().SetREGID(a.Uint(0), a.Uint(1))
	return setCreds(t, n, err)
}

func sysSetresuid(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	n, err := t.Credentials().SetRESUID(a.Uint(0), a.Uint(1), a.Uint(2))
	return setCreds(t, n, err)
}

func sysSetresgid(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	n, err := t.Credentials().SetRESGID(a.Uint(0), a.Uint(1), a.Uint(2))
	return setCreds(t, n, err)
}

// sysSetfsuid implements setfsuid(2): it always returns the old fsuid.
func sysSetfsuid(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	old, n := t.Credentials().SetFSUID(a.Uint(0))
	if n != nil {
		t.SetCredentials(n)
	}
	return uintptr(old), nil
}

// sysSetfsgid implements setfsgid(2).
func sysSetfsgid(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	old, n := t.Credentials().SetFSGID(a.Uint(0))
	if n != nil {
		t.SetCredentials(n)
	}
	return uintptr(old), nil
}

// sysSetgroups implements setgroups(2): EPERM without CAP_SETGID, EINVAL
// beyond NGROUPS_MAX; the list is kept sorted, as Linux keeps it.
func sysSetgroups(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	c := t.Credentials()
	if !c.HasCap(kernel.CapSetgid) {
		return 0, unix.EPERM
	}
	size := a.Uint(0)
	if size > ngroupsMax {
		return 0, unix.EINVAL
	}
	groups := make([]uint32, size)
	if size > 0 {
		raw := make([]byte, 4*size)
		if err := copyInAll(t, a[1], raw); err != nil {
			return 0, err
		}
		for i := range groups {
			groups[i] = le.Uint32(raw[4*i:])
		}
	}
	slices.Sort(groups)
	n, err := c.SetGroups(groups)
	return setCreds(t, n, err)
}

// Capability ABI versions (linux/capability.h).
const (
	capVersion1 = 0x19980330
	capVersion2 = 0x20071026
	capVersion3 = 0x20080522
)

// capHeader reads a cap_user_header_t and returns how many 32-bit data
// words the version uses (1 or 2). For an unknown version the preferred
// one is written back and EINVAL returned, as Linux does.
func capHeader(t *kernel.Task, addr uintptr) (words int, pid int32, err error) {
	b := t.Scratch()[:8]
	if err := copyInAll(t, addr, b); err != nil {
		return 0, 0, err
	}
	switch le.Uint32(b) {
	case capVersion1:
		words = 1
	case capVersion2, capVersion3:
		words = 2
	default:
		if err := copyOutU32(t, addr, capVersion3); err != nil {
			return 0, 0, err
		}
		return 0, 0, unix.EINVAL
	}
	return words, int32(le.Uint32(b[4:])), nil
}

// sysCapget implements capget(2): the capabilities of the caller or of
// another thread of the sandbox. A NULL data pointer only probes the
// version (0 even for a bad one, which is written back).
func sysCapget(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	words, pid, err := capHeader(t, a[0])
	if a[1] == 0 && (err == nil || err == unix.EINVAL) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if pid < 0 {
		return 0, unix.EINVAL
	}
	c := t.Credentials()
	if pid != 0 && pid != t.TID() {
		target := t.Kernel().TaskByTID(pid)
		if target == nil {
			return 0, unix.ESRCH
		}
		c = target.Credentials()
	}
	// struct __user_cap_data_struct { effective, permitted, inheritable }.
	b := t.Scratch()[:12*words]
	for i := range words {
		shift := 32 * uint(i)
		le.PutUint32(b[12*i:], uint32(c.Effective>>shift))
		le.PutUint32(b[12*i+4:], uint32(c.Permitted>>shift))
		le.PutUint32(b[12*i+8:], uint32(c.Inheritable>>shift))
	}
	return 0, copyOutAll(t, a[1], b)
}

// sysCapset implements capset(2) on the calling thread (EPERM for
// another): capabilities can be dropped, not gained.
func sysCapset(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	words, pid, err := capHeader(t, a[0])
	if err != nil {
		return 0, err
	}
	if pid != 0 && pid != t.TID() {
		return 0, unix.EPERM
	}
	b := t.Scratch()[:12*words]
	if err := copyInAll(t, a[1], b); err != nil {
		return 0, err
	}
	var eff, perm, inh kernel.CapSet
	for i := range words {
		shift := 32 * uint(i)
		eff |= kernel.CapSet(le.Uint32(b[12*i:])) << shift
		perm |= kernel.CapSet(le.Uint32(b[12*i+4:])) << shift
		inh |= kernel.CapSet(le.Uint32(b[12*i+8:])) << shift
	}
	n, err := t.Credentials().SetCaps(eff, perm, inh)
	return setCreds(t, n, err)
}

// utsName reads the argument of sethostname and setdomainname: EPERM
// without CAP_SYS_ADMIN (uid 0 holds it in the sandbox's own UTS
// namespace), EINVAL for a length beyond __NEW_UTS_LEN.
func utsName(t *kernel.Task, a arch.SyscallArguments) (string, error) {
	if !t.Credentials().HasCap(kernel.CapSysAdmin) {
		return "", unix.EPERM
	}
	n := a.Int(1)
	if n < 0 || n > utsLen-1 {
		return "", unix.EINVAL
	}
	b := t.Scratch()[:n]
	if err := copyInAll(t, a[0], b); err != nil {
		return "", err
	}
	// The name ends at its first NUL, as the kernel's fixed-size
	// field makes it.
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	return string(b), nil
}

// sysSethostname implements sethostname(2) inside the sandbox.
func sysSethostname(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	name, err := utsName(t, a)
	if err != nil {
		return 0, err
	}
	t.Kernel().SetHostname(name)
	return 0, nil
}

// sysSetdomainname implements setdomainname(2) inside the sandbox.
func sysSetdomainname(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	name, err := utsName(t, a)
	if err != nil {
		return 0, err
	}
	t.Kernel().SetDomainname(name)
	return 0, nil
}

// prctlCaps implements prctl(2)'s capability options: the bounding set
// (PR_CAPBSET_READ, PR_CAPBSET_DROP) and the ambient set
// (PR_CAP_AMBIENT). ok is false for other options.
func prctlCaps(t *kernel.Task, a arch.SyscallArguments) (ret uintptr, ok bool, err error) {
	c := t.Credentials()
	switch a.Int(0) {
	case unix.PR_CAPBSET_READ:
		in, err := c.InBounding(int(a.Int(1)))
		return boolRet(in), true, err
	case unix.PR_CAPBSET_DROP:
		n, err := c.DropBounding(int(a.Int(1)))
		if err != nil {
			return 0, true, err
		}
		t.SetCredentials(n)
		return 0, true, nil
	case unix.PR_CAP_AMBIENT:
		ret, err := prctlAmbient(t, c, a)
		return ret, true, err
	}
	return 0, false, nil
}

// prctlAmbient implements prctl(PR_CAP_AMBIENT, op, cap, 0, 0).
func prctlAmbient(t *kernel.Task, c *kernel.Credentials, a arch.SyscallArguments) (uintptr, error) {
	if a[3] != 0 || a[4] != 0 {
		return 0, unix.EINVAL
	}
	cp := int(a.Int(2))
	switch a.Int(1) {
	case unix.PR_CAP_AMBIENT_IS_SET:
		in, err := c.InAmbient(cp)
		return boolRet(in), err
	case unix.PR_CAP_AMBIENT_CLEAR_ALL:
		if a[2] != 0 {
			return 0, unix.EINVAL
		}
		t.SetCredentials(c.ClearAmbient())
		return 0, nil
	case unix.PR_CAP_AMBIENT_RAISE, unix.PR_CAP_AMBIENT_LOWER:
		n, err := c.SetAmbient(cp, a.Int(1) == unix.PR_CAP_AMBIENT_RAISE)
		if err != nil {
			return 0, err
		}
		t.SetCredentials(n)
		return 0, nil
	}
	return 0, unix.EINVAL
}

// boolRet is a system call's 0/1 answer.
func boolRet(b bool) uintptr {
	if b {
		return 1
	}
	return 0
}
