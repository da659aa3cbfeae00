//go:build cgo

package filter

import (
	"fmt"
	"runtime"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Install loads the filter for the calling process: every thread (TSYNC),
// with no_new_privs set. It is final: nothing can widen it afterwards.
// writable adds WriteSyscalls and WriteConditional.
func Install(writable bool) error {
	f, err := build(runtime.GOARCH, unix.Getpid(), writable)
	if err != nil {
		return err
	}
	defer f.Release()
	if err := f.Load(); err != nil {
		return fmt.Errorf("gofer filter: loading: %w", err)
	}
	return nil
}

// build makes the filter for arch; pid is the gofer's own, the only
// target kill and tgkill may name.
func build(arch string, pid int, writable bool) (*seccomp.ScmpFilter, error) {
	sarch, err := seccomp.GetArchFromString(map[string]string{"amd64": "amd64", "arm64": "arm64"}[arch])
	if err != nil {
		return nil, fmt.Errorf("gofer filter: architecture %q: %w", arch, err)
	}
	f, err := seccomp.NewFilter(seccomp.ActKillProcess)
	if err != nil {
		return nil, fmt.Errorf("gofer filter: %w", err)
	}
	if err := fill(f, sarch, arch, pid, writable); err != nil {
		f.Release()
		return nil, err
	}
	return f, nil
}

func fill(f *seccomp.ScmpFilter, sarch seccomp.ScmpArch, arch string, pid int, writable bool) error {
	native, err := seccomp.GetNativeArch()
	if err != nil {
		return fmt.Errorf("gofer filter: native architecture: %w", err)
	}
	if sarch != native {
		// Building for another architecture (the tests check the
		// arm64 names on amd64): rules then go to that arch only.
		if err := f.AddArch(sarch); err != nil {
			return fmt.Errorf("gofer filter: adding %v: %w", sarch, err)
		}
		if err := f.RemoveArch(native); err != nil {
			return fmt.Errorf("gofer filter: removing %v: %w", native, err)
		}
	}
	if err := f.SetNoNewPrivsBit(true); err != nil {
		return fmt.Errorf("gofer filter: no_new_privs: %w", err)
	}
	lookup := func(name string) (seccomp.ScmpSyscall, error) {
		nr, err := seccomp.GetSyscallFromNameByArch(name, sarch)
		if err != nil {
			return 0, fmt.Errorf("gofer filter: %s on %s: %w", name, arch, err)
		}
		return nr, nil
	}
	names := Syscalls(arch)
	if writable {
		names = append(names, WriteSyscalls...)
	}
	for _, name := range names {
		nr, err := lookup(name)
		if err != nil {
			return err
		}
		if err := f.AddRule(nr, seccomp.ActAllow); err != nil {
			return fmt.Errorf("gofer filter: allowing %s: %w", name, err)
		}
	}
	type cond struct {
		name string
		arg  uint
		op   seccomp.ScmpCompareOp
		vals []uint64
	}
	conds := []cond{
		{"openat", 2, seccomp.CompareMaskedEqual, []uint64{unix.O_NOFOLLOW, unix.O_NOFOLLOW}},
		{"clone", 0, seccomp.CompareMaskedEqual, []uint64{unix.CLONE_THREAD, unix.CLONE_THREAD}},
		{"tgkill", 0, seccomp.CompareEqual, []uint64{uint64(pid)}},
		{"kill", 0, seccomp.CompareEqual, []uint64{uint64(pid)}},
	}
	if writable {
		conds = append(conds,
			cond{"mknodat", 2, seccomp.CompareMaskedEqual, []uint64{unix.S_IFMT, unix.S_IFIFO}},
			cond{"mknodat", 2, seccomp.CompareMaskedEqual, []uint64{unix.S_IFMT, unix.S_IFSOCK}},
			cond{"linkat", 4, seccomp.CompareMaskedEqual, []uint64{unix.AT_SYMLINK_FOLLOW, 0}},
			cond{"fchownat", 4, seccomp.CompareMaskedEqual, []uint64{unix.AT_SYMLINK_NOFOLLOW, unix.AT_SYMLINK_NOFOLLOW}},
			cond{"utimensat", 3, seccomp.CompareMaskedEqual, []uint64{unix.AT_SYMLINK_NOFOLLOW, unix.AT_SYMLINK_NOFOLLOW}},
		)
	}
	for _, c := range conds {
		nr, err := lookup(c.name)
		if err != nil {
			return err
		}
		sc, err := seccomp.MakeCondition(c.arg, c.op, c.vals...)
		if err != nil {
			return fmt.Errorf("gofer filter: condition on %s: %w", c.name, err)
		}
		if err := f.AddRuleConditional(nr, seccomp.ActAllow, []seccomp.ScmpCondition{sc}); err != nil {
			return fmt.Errorf("gofer filter: allowing %s conditionally: %w", c.name, err)
		}
	}
	nr, err := lookup("clone3")
	if err != nil {
		return err
	}
	if err := f.AddRule(nr, seccomp.ActErrno.SetReturnCode(int16(unix.ENOSYS))); err != nil {
		return fmt.Errorf("gofer filter: clone3: %w", err)
	}
	return nil
}
