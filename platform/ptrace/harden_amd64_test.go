package ptrace

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"moat/platform"
	"moat/platform/arch"
)

// The hardening tests that change the process's identity or signal its
// process group re-execute the test binary; TestMain sends such a child
// to hardenChild.
const envHardenChild = "MOAT_PTRACE_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(envHardenChild); mode != "" {
		runtime.LockOSThread()
		if err := hardenChild(mode); err != nil {
			fmt.Println("FAIL:", err)
			os.Exit(1)
		}
		fmt.Println("ok")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runHardenChild runs the test binary in mode and fails t unless it
// printed "ok".
func runHardenChild(t *testing.T, mode string, attr *syscall.SysProcAttr) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root (identity changes, ptrace of the stubs)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envHardenChild+"="+mode)
	cmd.SysProcAttr = attr
	out, err := cmd.CombinedOutput()
	if strings.Contains(string(out), "ptrace platform unavailable") {
		t.Skip(strings.TrimSpace(string(out)))
	}
	if err != nil || !strings.HasSuffix(string(out), "ok\n") {
		t.Fatalf("child %s: %v\n%s", mode, err, out)
	}
}

func hardenChild(mode string) error {
	switch mode {
	case "identity":
		return childIdentity()
	case "sigint":
		return childSigint()
	}
	return fmt.Errorf("unknown mode %q", mode)
}

// TestUnprivilegedSentry plays the sentry's start-up: stubs started as a
// dedicated user, then the whole process switched to it. Afterwards no
// thread has a capability, and every platform operation (injection,
// handoff of a new thread by PTRACE_ATTACH, process_vm_readv/writev,
// fork, interrupt, release) still works.
func TestUnprivilegedSentry(t *testing.T) {
	runHardenChild(t, "identity", nil)
}

// TestStubsOwnSession sends SIGINT to the sentry's process group, as a
// terminal's ^C does, and checks no stub got it.
func TestStubsOwnSession(t *testing.T) {
	runHardenChild(t, "sigint", &syscall.SysProcAttr{Setpgid: true})
}

// testIdentity is the uid and gid the identity child switches to: high,
// unused, and unique to this process, like the sentry's.
func testIdentity() int { return 0x70000000 + os.Getpid() }

// procStatus returns the fields of /proc/path/status.
func procStatus(path string) (map[string]string, error) {
	b, err := os.ReadFile("/proc/" + path + "/status")
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			m[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	return m, nil
}

// checkUnprivileged checks the process or thread at path runs as id in
// every uid and gid slot with no supplementary group and no capability.
// bounding says whether the bounding set must be empty too.
func checkUnprivileged(path string, id int, bounding bool) error {
	st, err := procStatus(path)
	if err != nil {
		return err
	}
	ids := strings.Repeat(strconv.Itoa(id)+" ", 4)
	want := map[string]string{
		"Uid": ids[:len(ids)-1], "Gid": ids[:len(ids)-1], "Groups": "",
		"CapEff": "0000000000000000", "CapPrm": "0000000000000000", "CapAmb": "0000000000000000",
	}
	if bounding {
		want["CapBnd"] = "0000000000000000"
	}
	for k, v := range want {
		if st[k] != v {
			return fmt.Errorf("%s: %s is %q, want %q", path, k, st[k], v)
		}
	}
	return nil
}

func childIdentity() error {
	id := testIdentity()
	// Threads that exist before the switch, as the sentry's do.
	block := make(chan struct{})
	defer close(block)
	for range 4 {
		go func() {
			runtime.LockOSThread()
			<-block
		}()
	}
	p, err := NewWithOptions(Options{UID: id, GID: id})
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSYS) {
			return fmt.Errorf("ptrace platform unavailable here: %w", err)
		}
		return err
	}
	defer p.Close()
	if err := checkUnprivileged(strconv.Itoa(p.zygote.pid), id, true); err != nil {
		return fmt.Errorf("zygote: %w", err)
	}
	if err := syscall.Setgroups(nil); err != nil {
		return err
	}
	if err := syscall.Setresgid(id, id, id); err != nil {
		return err
	}
	if err := syscall.Setresuid(id, id, id); err != nil {
		return err
	}
	tasks, err := filepath.Glob("/proc/self/task/*")
	if err != nil || len(tasks) < 5 {
		return fmt.Errorf("threads %v, %v: want at least 5", tasks, err)
	}
	for _, task := range tasks {
		if err := checkUnprivileged(strings.TrimPrefix(task, "/proc/"), id, false); err != nil {
			return err
		}
	}

	// write(1, dataAddr, 5), then exit_group(7).
	msg := []byte("hello")
	code := cat(
		movImm32(rdi, 1), movImm64(rsi, dataAddr), movImm32(rdx, uint32(len(msg))), movImm32(rax, unix.SYS_WRITE), syscallInsn,
		movImm32(rdi, 7), movImm32(rax, unix.SYS_EXIT_GROUP), syscallInsn,
	)
	as, err := p.NewAddressSpace()
	if err != nil {
		return err
	}
	defer as.Release()
	if err := as.MapAnon(codeAddr, pageSize, unix.PROT_READ|unix.PROT_EXEC, false); err != nil {
		return err
	}
	if err := as.MapAnon(dataAddr, 2*pageSize, unix.PROT_READ|unix.PROT_WRITE, false); err != nil {
		return err
	}
	if _, err := as.WriteAt(code, codeAddr); err != nil { // read-only page: POKEDATA
		return fmt.Errorf("WriteAt code: %w", err)
	}
	if _, err := as.WriteAt(msg, dataAddr); err != nil {
		return fmt.Errorf("WriteAt data: %w", err)
	}
	fork, err := as.Fork()
	if err != nil {
		return fmt.Errorf("Fork: %w", err)
	}
	defer fork.Release()
	for i, space := range []platform.AddressSpace{as, fork} {
		if err := checkUnprivileged(strconv.Itoa(space.(*AddressSpace).pid), id, true); err != nil {
			return fmt.Errorf("stub: %w", err)
		}
		ctx, err := space.NewContext()
		if err != nil {
			return fmt.Errorf("NewContext %d: %w", i, err)
		}
		defer ctx.Release()
		regs := &arch.Registers{}
		regs.StartThread(codeAddr, stackTop)
		trap, err := ctx.Switch(regs)
		if err != nil || trap.Kind != platform.TrapSyscall || regs.SyscallNo() != unix.SYS_WRITE {
			return fmt.Errorf("Switch %d: %+v, %v, nr %d; want write", i, trap, err, regs.SyscallNo())
		}
		buf := make([]byte, len(msg))
		if _, err := space.ReadAt(buf, dataAddr); err != nil || string(buf) != "hello" {
			return fmt.Errorf("ReadAt %d: %q, %v", i, buf, err)
		}
		ctx.Interrupt()
		if trap, err := ctx.Switch(regs); err != nil || trap.Kind != platform.TrapInterrupted {
			return fmt.Errorf("Interrupt %d: %+v, %v", i, trap, err)
		}
	}
	return nil
}

func childSigint() error {
	// The test binary is the leader of its own process group (the
	// parent used Setpgid), like a sentry started from a shell.
	signal.Ignore(unix.SIGINT)
	p, err := New()
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSYS) {
			return fmt.Errorf("ptrace platform unavailable here: %w", err)
		}
		return err
	}
	defer p.Close()
	as, err := p.NewAddressSpace()
	if err != nil {
		return err
	}
	defer as.Release()
	ctx, err := as.NewContext()
	if err != nil {
		return err
	}
	defer ctx.Release()
	stubs := []int{p.zygote.pid, as.(*AddressSpace).pid, ctx.(*Context).tid}
	sid, err := unix.Getsid(0)
	if err != nil {
		return err
	}
	for _, pid := range stubs {
		if s, err := unix.Getsid(pid); err != nil || s == sid {
			return fmt.Errorf("stub %d: session %d, %v; ours is %d", pid, s, err, sid)
		}
	}
	if err := unix.Kill(0, unix.SIGINT); err != nil {
		return err
	}
	time.Sleep(20 * time.Millisecond)
	for _, pid := range stubs {
		if pending, err := sigintPending(pid); err != nil || pending {
			return fmt.Errorf("stub %d: SIGINT pending %v, %v; want it never sent", pid, pending, err)
		}
	}
	// The check can fail: a SIGINT sent to the stopped app thread itself
	// stays pending until its next Switch.
	if err := unix.Kill(stubs[2], unix.SIGINT); err != nil {
		return err
	}
	if pending, err := sigintPending(stubs[2]); err != nil || !pending {
		return fmt.Errorf("direct SIGINT to app thread %d: pending %v, %v; want pending", stubs[2], pending, err)
	}
	return nil
}

// sigintPending reports whether SIGINT is pending for the process pid.
func sigintPending(pid int) (bool, error) {
	st, err := procStatus(strconv.Itoa(pid))
	if err != nil {
		return false, err
	}
	for _, k := range []string{"SigPnd", "ShdPnd"} {
		v, err := strconv.ParseUint(st[k], 16, 64)
		if err != nil {
			return false, fmt.Errorf("%s %q: %w", k, st[k], err)
		}
		if v&(1<<(unix.SIGINT-1)) != 0 {
			return true, nil
		}
	}
	return false, nil
}

// TestStraySignalsSuppressed sends an app thread, between and during
// Switches, the signals a host user could send a stub pid: none may come
// back as a fault, a signal trap or an interrupt.
func TestStraySignalsSuppressed(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := testPlatform(t)
	// loop: getpid; jmp loop
	code := cat(movImm32(rax, unix.SYS_GETPID), syscallInsn, []byte{0xeb, 0xf7})
	as := loadCode(t, p, code)
	c, err := as.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	ctx := c.(*Context)
	regs := startRegs()
	sigs := []unix.Signal{
		unix.SIGSEGV, unix.SIGBUS, unix.SIGILL, unix.SIGFPE, unix.SIGTRAP,
		unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGSTOP, unix.SIGTSTP, unix.SIGCONT, interruptSignal,
	}
	send := map[string]func(unix.Signal) error{
		"kill":   func(s unix.Signal) error { return unix.Kill(ctx.tid, s) },
		"tgkill": func(s unix.Signal) error { return unix.Tgkill(ctx.tid, ctx.tid, s) },
	}
	for how, fn := range send {
		for _, sig := range sigs {
			if err := fn(sig); err != nil {
				t.Fatalf("%s %v: %v", how, sig, err)
			}
			// Two Switches: the signal is reported at the first resume.
			for i := range 2 {
				trap, err := ctx.Switch(regs)
				if err != nil || trap.Kind != platform.TrapSyscall || regs.SyscallNo() != unix.SYS_GETPID {
					t.Fatalf("%s %v, Switch %d: %+v, %v, nr %d; want the getpid trap", how, sig, i, trap, err, regs.SyscallNo())
				}
			}
		}
	}
	// While the thread runs: a storm of stray SIGSEGVs from another
	// thread during many round trips.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				unix.Kill(ctx.tid, unix.SIGSEGV)
				time.Sleep(50 * time.Microsecond)
			}
		}
	}()
	for i := range 2000 {
		trap, err := ctx.Switch(regs)
		if err != nil || trap.Kind != platform.TrapSyscall {
			close(stop)
			<-done
			t.Fatalf("round %d under a SIGSEGV storm: %+v, %v", i, trap, err)
		}
	}
	close(stop)
	<-done
}
