package syscalls

import (
	"encoding/binary"

	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/seccomp"

	"golang.org/x/sys/unix"
)

// prctl options without a name in x/sys/unix's table, and sizes.
const (
	// prctlMMMapSize is sizeof(struct prctl_mm_map), which
	// PR_SET_MM_MAP_SIZE reports.
	prctlMMMapSize = 104
	// savedAuxvSize is sizeof(mm->saved_auxv) on x86-64 Linux 6.x
	// (AT_VECTOR_SIZE words): what PR_GET_AUXV returns whatever the
	// buffer's length.
	savedAuxvSize = 2 * (3 + 22 + 1) * 8
	// anonVMANameMax is ANON_VMA_NAME_MAX_LEN, with the NUL.
	anonVMANameMax = 80
)

// sysPrctl implements prctl(2). Options Linux has and the sandbox does
// not (PR_SET_FP_MODE, PR_SET_IO_FLUSHER, speculation control ...) fail
// with EINVAL, as options unknown to the kernel do.
func sysPrctl(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	if ret, ok, err := prctlCaps(t, a); ok {
		return ret, err
	}
	opt := a.Int(0)
	switch opt {
	case unix.PR_SET_NAME:
		return prctlSetName(t, a[1])
	case unix.PR_GET_NAME:
		b := t.Scratch()[:16]
		clear(b)
		copy(b[:15], t.Comm())
		return 0, copyOutAll(t, a[1], b)
	case unix.PR_SET_PDEATHSIG:
		// valid_signal: 0 (none) up to _NSIG.
		if a[1] > kernel.NumSignals {
			return 0, unix.EINVAL
		}
		t.SetPdeathSig(int32(a[1]))
		return 0, nil
	case unix.PR_GET_PDEATHSIG:
		return 0, copyOutU32(t, a[1], uint32(t.PdeathSig()))
	case unix.PR_GET_DUMPABLE:
		return uintptr(t.ThreadGroup().Dumpable()), nil
	case unix.PR_SET_DUMPABLE:
		if a[1] > 1 {
			return 0, unix.EINVAL
		}
		t.ThreadGroup().SetDumpable(int32(a[1]))
		return 0, nil
	case unix.PR_GET_NO_NEW_PRIVS:
		if a[1]|a[2]|a[3]|a[4] != 0 {
			return 0, unix.EINVAL
		}
		return boolRet(t.NoNewPrivs()), nil
	case unix.PR_SET_NO_NEW_PRIVS:
		if a[1] != 1 || a[2]|a[3]|a[4] != 0 {
			return 0, unix.EINVAL
		}
		t.SetNoNewPrivs()
		return 0, nil
	case unix.PR_SET_CHILD_SUBREAPER:
		t.ThreadGroup().SetChildSubreaper(a[1] != 0)
		return 0, nil
	case unix.PR_GET_CHILD_SUBREAPER:
		return 0, copyOutU32(t, a[1], uint32(boolRet(t.ThreadGroup().ChildSubreaper())))
	case unix.PR_GET_KEEPCAPS:
		return boolRet(t.Credentials().Securebits&kernel.SecbitKeepCaps != 0), nil
	case unix.PR_SET_KEEPCAPS:
		if a[1] > 1 {
			return 0, unix.EINVAL
		}
		n, err := t.Credentials().SetKeepCaps(a[1] == 1)
		if err != nil {
			return 0, err
		}
		t.SetCredentials(n)
		return 0, nil
	case unix.PR_GET_SECUREBITS:
		return uintptr(t.Credentials().Securebits), nil
	case unix.PR_SET_SECUREBITS:
		if a[1] > 0xffffffff {
			return 0, unix.EPERM
		}
		n, err := t.Credentials().SetSecurebits(uint32(a[1]))
		if err != nil {
			return 0, err
		}
		t.SetCredentials(n)
		return 0, nil
	case unix.PR_SET_TIMERSLACK:
		t.SetTimerSlack(uint64(a[1]))
		return 0, nil
	case unix.PR_GET_TIMERSLACK:
		return uintptr(t.TimerSlack()), nil
	case unix.PR_GET_SECCOMP:
		return uintptr(t.SeccompMode()), nil
	case unix.PR_SET_SECCOMP:
		switch a[1] {
		case unix.SECCOMP_MODE_STRICT:
			return 0, t.SetSeccompStrict()
		case unix.SECCOMP_MODE_FILTER:
			return seccompSetFilter(t, 0, a[2])
		}
		return 0, unix.EINVAL
	case unix.PR_SET_MM:
		return prctlSetMM(t, a)
	case unix.PR_GET_TID_ADDRESS:
		return 0, copyOutU64(t, a[1], uint64(t.ClearChildTIDAddress()))
	case unix.PR_SET_VMA:
		return prctlSetVMA(t, a)
	case unix.PR_SET_THP_DISABLE:
		if a[2]|a[3]|a[4] != 0 {
			return 0, unix.EINVAL
		}
		t.ThreadGroup().SetTHPDisabled(a[1] != 0)
		return 0, nil
	case unix.PR_GET_THP_DISABLE:
		if a[1]|a[2]|a[3]|a[4] != 0 {
			return 0, unix.EINVAL
		}
		return boolRet(t.ThreadGroup().THPDisabled()), nil
	case unix.PR_MCE_KILL:
		return prctlMCEKill(t, a)
	case unix.PR_MCE_KILL_GET:
		if a[1]|a[2]|a[3]|a[4] != 0 {
			return 0, unix.EINVAL
		}
		return uintptr(t.MCEKill()), nil
	case unix.PR_SET_PTRACER:
		// Yama's option: no tracer can attach in the sandbox, so the
		// grant is accepted and has nothing to widen. A pid must exist.
		if a[1] != 0 && a[1] != unix.PR_SET_PTRACER_ANY && t.Kernel().TaskByTID(int32(a[1])) == nil {
			return 0, unix.EINVAL
		}
		return 0, nil
	case unix.PR_GET_AUXV:
		return prctlGetAuxv(t, a)
	}
	if ret, ok, err := prctlArch(t, opt, a); ok {
		return ret, err
	}
	return 0, unix.EINVAL
}

// prctlSetName implements PR_SET_NAME: up to 15 bytes, read up to a NUL.
func prctlSetName(t *kernel.Task, addr uintptr) (uintptr, error) {
	b := t.Scratch()[:16]
	// The name may sit at the end of a mapping: read what can be read,
	// up to its NUL, as the kernel's strncpy_from_user does.
	n, err := t.CopyIn(addr, b[:15])
	if n == 0 && err != nil {
		return 0, unix.EFAULT
	}
	end := n
	for i := 0; i < n; i++ {
		if b[i] == 0 {
			end = i
			break
		}
	}
	if end == n && n < 15 && err != nil {
		return 0, unix.EFAULT
	}
	t.SetComm(b[:end])
	return 0, nil
}

// prctlSetMM implements PR_SET_MM's argument checks and
// PR_SET_MM_MAP_SIZE; changing the memory map's fields needs
// CAP_SYS_RESOURCE on Linux and is never allowed here (EPERM), so
// checkpoint/restore tools see a refusal, not a silent success.
func prctlSetMM(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	op := a[1]
	if a[4] != 0 || (a[3] != 0 && op != unix.PR_SET_MM_AUXV && op != unix.PR_SET_MM_MAP && op != unix.PR_SET_MM_MAP_SIZE) {
		return 0, unix.EINVAL
	}
	if op == unix.PR_SET_MM_MAP_SIZE {
		return 0, copyOutU32(t, a[2], prctlMMMapSize)
	}
	return 0, unix.EPERM
}

// prctlSetVMA implements PR_SET_VMA(PR_SET_VMA_ANON_NAME, addr, size,
// name): the arguments are checked as Linux does, and the name is not
// kept (/proc/[pid]/maps shows no [anon:name]).
func prctlSetVMA(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	if a[1] != unix.PR_SET_VMA_ANON_NAME {
		return 0, unix.EINVAL
	}
	if a[2]&(pageSize-1) != 0 {
		return 0, unix.EINVAL
	}
	if a[4] != 0 {
		name, err := t.CopyInString(a[4], anonVMANameMax)
		if err != nil {
			if err == unix.ENAMETOOLONG {
				return 0, unix.EINVAL
			}
			return 0, err
		}
		for i := 0; i < len(name); i++ {
			c := name[i]
			// Only printable characters, and none of \ ` $ [ ].
			if c <= ' ' || c >= 0x7f || c == '\\' || c == '`' || c == '$' || c == '[' || c == ']' {
				return 0, unix.EINVAL
			}
		}
	}
	return 0, nil
}

// pageSize is the sandbox's page size.
const pageSize = 4096

// prctlMCEKill implements PR_MCE_KILL's argument rules.
func prctlMCEKill(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	if a[3]|a[4] != 0 {
		return 0, unix.EINVAL
	}
	switch a[1] {
	case unix.PR_MCE_KILL_CLEAR:
		if a[2] != 0 {
			return 0, unix.EINVAL
		}
		t.SetMCEKill(unix.PR_MCE_KILL_DEFAULT)
	case unix.PR_MCE_KILL_SET:
		switch a[2] {
		case unix.PR_MCE_KILL_EARLY, unix.PR_MCE_KILL_LATE, unix.PR_MCE_KILL_DEFAULT:
			t.SetMCEKill(int32(a[2]))
		default:
			return 0, unix.EINVAL
		}
	default:
		return 0, unix.EINVAL
	}
	return 0, nil
}

// prctlGetAuxv implements PR_GET_AUXV(addr, len): it copies up to len
// bytes of the saved auxiliary vector (zero-padded to the kernel's
// array size) and returns that array's size.
func prctlGetAuxv(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	if a[3]|a[4] != 0 {
		return 0, unix.EINVAL
	}
	size := min(uintptr(savedAuxvSize), a[2])
	if size == 0 {
		return savedAuxvSize, nil
	}
	b := make([]byte, savedAuxvSize)
	for i, v := range t.ThreadGroup().Auxv() {
		if (i+1)*8 > savedAuxvSize-16 {
			break
		}
		binary.LittleEndian.PutUint64(b[i*8:], v)
	}
	if err := copyOutAll(t, a[1], b[:size]); err != nil {
		return 0, err
	}
	return savedAuxvSize, nil
}

// seccomp(2) operations and filter flags (linux/seccomp.h).
const (
	seccompFlagsKnown = unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_LOG |
		unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
	// sockFprogSize is sizeof(struct sock_fprog) on 64-bit: a u16
	// length, padding, and the filter pointer.
	sockFprogSize = 16
)

// sysSeccomp implements seccomp(2).
func sysSeccomp(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	op, flags, uargs := a[0], a[1], a[2]
	switch op {
	case unix.SECCOMP_SET_MODE_STRICT:
		if flags != 0 || uargs != 0 {
			return 0, unix.EINVAL
		}
		return 0, t.SetSeccompStrict()
	case unix.SECCOMP_SET_MODE_FILTER:
		return seccompSetFilter(t, flags, uargs)
	case unix.SECCOMP_GET_ACTION_AVAIL:
		if flags != 0 {
			return 0, unix.EINVAL
		}
		b := t.Scratch()[:4]
		if err := copyInAll(t, uargs, b); err != nil {
			return 0, err
		}
		if !seccomp.KnownAction(binary.LittleEndian.Uint32(b)) {
			return 0, unix.EOPNOTSUPP
		}
		return 0, nil
	case unix.SECCOMP_GET_NOTIF_SIZES:
		if flags != 0 {
			return 0, unix.EINVAL
		}
		// sizeof(struct seccomp_notif), seccomp_notif_resp, seccomp_data.
		b := t.Scratch()[:6]
		binary.LittleEndian.PutUint16(b[0:], 80)
		binary.LittleEndian.PutUint16(b[2:], 24)
		binary.LittleEndian.PutUint16(b[4:], seccomp.DataSize)
		return 0, copyOutAll(t, uargs, b)
	}
	return 0, unix.EINVAL
}

// seccompSetFilter implements SECCOMP_SET_MODE_FILTER: it copies in the
// struct sock_fprog at uargs and its program, checks it, and installs
// it. SECCOMP_FILTER_FLAG_NEW_LISTENER is refused (EINVAL): there is no
// user-space notification in the sandbox.
func seccompSetFilter(t *kernel.Task, flags, uargs uintptr) (uintptr, error) {
	if flags&^seccompFlagsKnown != 0 {
		return 0, unix.EINVAL
	}
	b := t.Scratch()[:sockFprogSize]
	if err := copyInAll(t, uargs, b); err != nil {
		return 0, err
	}
	n := int(binary.LittleEndian.Uint16(b[0:]))
	ptr := uintptr(binary.LittleEndian.Uint64(b[8:]))
	if n == 0 || n > seccomp.MaxInstructions {
		return 0, unix.EINVAL
	}
	raw := make([]byte, n*seccomp.InstructionSize)
	if err := copyInAll(t, ptr, raw); err != nil {
		return 0, err
	}
	prog, err := seccomp.Check(seccomp.DecodeProgram(raw))
	if err != nil {
		return 0, unix.EINVAL
	}
	tid, err := t.AddSeccompFilter(prog, flags&unix.SECCOMP_FILTER_FLAG_LOG != 0,
		flags&unix.SECCOMP_FILTER_FLAG_TSYNC != 0, flags&unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH != 0)
	if err != nil {
		return 0, err
	}
	return uintptr(tid), nil
}
