package loader

import (
	"errors"
	"os/exec"
	"runtime"
	"testing"

	"moat/platform"
	"moat/platform/arch"
	"moat/platform/ptrace"
	"moat/sentry/mm"

	"golang.org/x/sys/unix"
)

// runProgram loads path with the real ptrace platform and runs it with a
// tiny system-call handler (enough for a static glibc program's start-up,
// puts and exit), returning what it wrote to stdout and its exit status.
func runProgram(t *testing.T, path string, argv []string) (string, int) {
	return runProgramOpen(t, path, argv, nil)
}

func runProgramOpen(t *testing.T, path string, argv []string, open func(string) (File, error)) (string, int) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p, err := ptrace.New()
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.ENOSYS) {
			t.Skipf("ptrace platform unavailable here: %v", err)
		}
		t.Fatalf("ptrace.New: %v", err)
	}
	defer p.Close()
	as, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	m := mm.New(p, as)
	defer m.Release()
	res, err := Load(m, openFile(t, path), LoadArgs{Filename: path, Argv: argv, Envv: []string{"A=b"}, Open: open})
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := as.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Release()
	regs := &arch.Registers{}
	regs.StartThread(res.Entry, res.SP)
	var out []byte
	for range 1000 {
		trap, err := ctx.Switch(regs)
		if err != nil {
			t.Fatalf("Switch: %v", err)
		}
		if trap.Kind != platform.TrapSyscall {
			t.Fatalf("trap %v signal %d at %#x (ip %#x)\n%s", trap.Kind, trap.Signo, trap.Addr, regs.IP(), m.FormatMaps())
		}
		a := regs.SyscallArgs()
		ret, errno := uintptr(0), unix.Errno(0)
		switch regs.SyscallNo() {
		case unix.SYS_EXIT_GROUP, unix.SYS_EXIT:
			return string(out), int(a[0])
		case unix.SYS_WRITE:
			buf := make([]byte, a[2])
			n, err := m.CopyIn(a[1], buf)
			if err != nil {
				errno = unix.EFAULT
				break
			}
			out = append(out, buf[:n]...)
			ret = uintptr(n)
		case unix.SYS_BRK:
			ret = m.Brk(a[0])
		case unix.SYS_MMAP:
			ret, err = m.MMap(mm.MMapOpts{Addr: a[0], Length: a[1], Prot: int(a.Int(2)), Flags: int(a.Int(3))})
			if err != nil {
				errno = err.(unix.Errno)
			}
		case unix.SYS_MUNMAP:
			if err := m.MUnmap(a[0], a[1]); err != nil {
				errno = err.(unix.Errno)
			}
		case unix.SYS_MPROTECT:
			if err := m.MProtect(a[0], a[1], int(a.Int(2))); err != nil {
				errno = err.(unix.Errno)
			}
		case unix.SYS_ARCH_PRCTL:
			if a[0] != 0x1002 { // ARCH_SET_FS
				errno = unix.EINVAL
				break
			}
			regs.SetTLS(a[1])
		case unix.SYS_SET_TID_ADDRESS:
			ret = 1
		default:
			errno = unix.ENOSYS
		}
		if errno != 0 {
			ret = uintptr(-int(errno))
		}
		regs.SetReturn(ret)
	}
	t.Fatal("program did not exit after 1000 system calls")
	return "", 0
}

func TestRunStatic(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed")
	}
	for _, kind := range []struct{ name, flag string }{{"static", "-no-pie"}, {"static-pie", ""}} {
		t.Run(kind.name, func(t *testing.T) {
			flags := []string{"-" + kind.name}
			if kind.flag != "" {
				flags = append(flags, kind.flag)
			}
			path := buildProgram(t, kind.name, flags...)
			out, code := runProgram(t, path, []string{"prog", "a", "b"})
			if out != "hello from moat\n" || code != 3 {
				t.Errorf("program wrote %q and exited %d, want %q and 3", out, code, "hello from moat\n")
			}
		})
	}
}
