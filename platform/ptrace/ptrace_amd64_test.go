package ptrace

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"moat/platform"
	"moat/platform/arch"
)

const (
	codeAddr = 0x10000000
	dataAddr = 0x10001000
	stackTop = 0x10003000
)

// testPlatform starts a platform or skips the test where ptrace or PID
// namespaces are not available.
func testPlatform(t testing.TB) *Platform {
	t.Helper()
	p, err := New()
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.ENOSYS) {
			t.Skipf("ptrace platform unavailable here: %v", err)
		}
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// loadCode makes an address space with code at codeAddr and a data and
// stack area after it.
func loadCode(t testing.TB, p *Platform, code []byte) *AddressSpace {
	t.Helper()
	as, err := p.NewAddressSpace()
	if err != nil {
		t.Fatalf("NewAddressSpace: %v", err)
	}
	t.Cleanup(as.Release)
	if err := as.MapAnon(codeAddr, pageSize, unix.PROT_READ|unix.PROT_EXEC, false); err != nil {
		t.Fatalf("MapAnon code: %v", err)
	}
	if err := as.MapAnon(dataAddr, 2*pageSize, unix.PROT_READ|unix.PROT_WRITE, false); err != nil {
		t.Fatalf("MapAnon data: %v", err)
	}
	// The code page is read+exec: WriteAt must get through anyway.
	if n, err := as.WriteAt(code, codeAddr); err != nil || n != len(code) {
		t.Fatalf("WriteAt code: %d, %v", n, err)
	}
	return as.(*AddressSpace)
}

// startRegs returns registers that start at codeAddr.
func startRegs() *arch.Registers {
	r := &arch.Registers{}
	r.StartThread(codeAddr, stackTop)
	return r
}

func movImm64(reg byte, v uint64) []byte {
	b := []byte{0x48, 0xb8 + reg}
	return binary.LittleEndian.AppendUint64(b, v)
}

func movImm32(reg byte, v uint32) []byte {
	return binary.LittleEndian.AppendUint32([]byte{0xb8 + reg}, v)
}

// Register numbers in the opcode encoding.
const (
	rax = 0
	rdx = 2
	rsi = 6
	rdi = 7
)

var syscallInsn = []byte{0x0f, 0x05}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestStubFilter(t *testing.T) {
	prog := stubFilter()
	pre := len(vsyscallTrap()) + 4
	if len(prog) != pre+len(stubAllowed)+2 {
		t.Fatalf("filter has %d instructions", len(prog))
	}
	// The vsyscall prefix's misses must land on the architecture check.
	if miss := 1 + 1 + int(prog[1].Jf); prog[miss].K != seccompDataArch {
		t.Errorf("vsyscall prefix miss lands on %d", miss)
	}
	if miss := 4 + 1 + int(prog[4].Jf); prog[miss].K != seccompDataArch {
		t.Errorf("vsyscall prefix miss lands on %d", miss)
	}
	// Every allow jump must land on the final RET ALLOW.
	for i, ins := range prog[pre : pre+len(stubAllowed)] {
		target := pre + i + 1 + int(ins.Jt)
		if target != len(prog)-1 || prog[target].K != unix.SECCOMP_RET_ALLOW {
			t.Errorf("allow jump %d lands on %d", i, target)
		}
	}
}

func TestParseMapsLine(t *testing.T) {
	tests := []struct {
		line    string
		want    platform.Range
		wantErr bool
	}{
		{"7ff000000000-7ff000001000 r-xp 00000000 00:01 5 /memfd:moat-stub (deleted)", platform.Range{Start: 0x7ff000000000, End: 0x7ff000001000, Name: "/memfd:moat-stub"}, false},
		{"7ffd1000-7ffd3000 r--p 00000000 00:00 0                          [vvar]", platform.Range{Start: 0x7ffd1000, End: 0x7ffd3000, Name: "[vvar]"}, false},
		{"1000-2000 rw-p 00000000 00:00 0", platform.Range{Start: 0x1000, End: 0x2000}, false},
		{"garbage", platform.Range{}, true},
		{"2000-1000 rw-p 00000000 00:00 0", platform.Range{}, true},
		{"zz-1000 rw-p 00000000 00:00 0", platform.Range{}, true},
	}
	for _, tt := range tests {
		got, err := parseMapsLine(tt.line)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseMapsLine(%q) = %+v, %v; want %+v, err %v", tt.line, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestReserved(t *testing.T) {
	p := testPlatform(t)
	var stub, vdso bool
	for _, r := range p.Reserved() {
		stub = stub || (r.Start == stubBase)
		vdso = vdso || (r.Name == "[vdso]" && r.Start == p.VDSO())
	}
	if !stub || !vdso || p.VDSO() == 0 {
		t.Fatalf("Reserved() = %+v, VDSO() = %#x", p.Reserved(), p.VDSO())
	}
	as, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	defer as.Release()
	if err := as.MapAnon(stubBase, pageSize, unix.PROT_READ, false); !errors.Is(err, unix.EINVAL) {
		t.Errorf("MapAnon over the stub: %v, want EINVAL", err)
	}
}

func TestSyscallTrap(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := testPlatform(t)
	msg := []byte("hello")
	code := cat(
		movImm32(rdi, 1), movImm64(rsi, dataAddr), movImm32(rdx, uint32(len(msg))), movImm32(rax, unix.SYS_WRITE), syscallInsn,
		movImm32(rdi, 7), movImm32(rax, unix.SYS_EXIT_GROUP), syscallInsn,
	)
	as := loadCode(t, p, code)
	if _, err := as.WriteAt(msg, dataAddr); err != nil {
		t.Fatal(err)
	}
	ctx, err := as.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Release()
	regs := startRegs()
	want := []struct {
		nr   uintptr
		args [3]uintptr
	}{
		{unix.SYS_WRITE, [3]uintptr{1, dataAddr, uintptr(len(msg))}},
		{unix.SYS_EXIT_GROUP, [3]uintptr{7, dataAddr, uintptr(len(msg))}},
	}
	for i, w := range want {
		trap, err := ctx.Switch(regs)
		if err != nil {
			t.Fatalf("Switch %d: %v", i, err)
		}
		args := regs.SyscallArgs()
		if trap.Kind != platform.TrapSyscall || regs.SyscallNo() != w.nr || [3]uintptr(args[:3]) != w.args {
			t.Fatalf("Switch %d: %v nr %d args %#x, want syscall %d %#x", i, trap.Kind, regs.SyscallNo(), args[:3], w.nr, w.args)
		}
		if i == 0 {
			buf := make([]byte, args[2])
			if _, err := as.ReadAt(buf, args[1]); err != nil || string(buf) != "hello" {
				t.Fatalf("ReadAt write buffer: %q, %v", buf, err)
			}
		}
		regs.SetReturn(uintptr(len(msg)))
	}
}

// TestTLS checks FS base travels with the registers: the code loads the
// system call number from fs:[0].
func TestTLS(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := testPlatform(t)
	// mov rax, fs:[0] ; syscall
	as := loadCode(t, p, cat([]byte{0x64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0}, syscallInsn))
	if _, err := as.WriteAt(binary.LittleEndian.AppendUint64(nil, 4242), dataAddr+8); err != nil {
		t.Fatal(err)
	}
	ctx, err := as.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Release()
	regs := startRegs()
	regs.SetTLS(dataAddr + 8)
	trap, err := ctx.Switch(regs)
	if err != nil || trap.Kind != platform.TrapSyscall || regs.SyscallNo() != 4242 || regs.TLS() != dataAddr+8 {
		t.Fatalf("%+v, %v: nr %d, fs base %#x", trap, err, regs.SyscallNo(), regs.TLS())
	}
}

func TestFault(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := testPlatform(t)
	const bad = 0x20000010
	// mov rax, bad ; mov byte [rax], 1 ; mov eax, SYS_EXIT ; syscall
	as := loadCode(t, p, cat(movImm64(rax, bad), []byte{0xc6, 0x00, 0x01}, movImm32(rax, unix.SYS_EXIT), syscallInsn))
	ctx, err := as.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Release()
	regs := startRegs()
	trap, err := ctx.Switch(regs)
	if err != nil {
		t.Fatal(err)
	}
	if trap.Kind != platform.TrapFault || trap.Signo != int(unix.SIGSEGV) || trap.Addr != bad || trap.Code != 1 /* SEGV_MAPERR */ {
		t.Fatalf("trap = %+v, want fault at %#x", trap, bad)
	}
	if regs.IP() != codeAddr+10 {
		t.Errorf("fault IP = %#x, want %#x", regs.IP(), codeAddr+10)
	}
	// Map the page and run again: the store now succeeds.
	if err := as.MapAnon(bad&^(pageSize-1), pageSize, unix.PROT_READ|unix.PROT_WRITE, false); err != nil {
		t.Fatal(err)
	}
	regs.SetIP(codeAddr)
	if trap, err = ctx.Switch(regs); err != nil || trap.Kind != platform.TrapSyscall || regs.SyscallNo() != unix.SYS_EXIT {
		t.Fatalf("after mapping: %+v, %v, nr %d", trap, err, regs.SyscallNo())
	}
	var b [1]byte
	if _, err := as.ReadAt(b[:], bad); err != nil || b[0] != 1 {
		t.Fatalf("store after mapping: %v, %v (trap %+v)", b, err, trap)
	}
}

func TestMapFile(t *testing.T) {
	p := testPlatform(t)
	f, err := os.CreateTemp(t.TempDir(), "mapfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	content := bytes.Repeat([]byte("moat!"), 2000) // two pages
	if _, err := f.Write(content); err != nil {
		t.Fatal(err)
	}
	as, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	defer as.Release()
	// Twice, to check the passed fds do not pile up or get mixed.
	for i, off := range []int64{0, pageSize} {
		addr := uintptr(0x30000000 + i*0x10000)
		if err := as.MapFile(addr, pageSize, unix.PROT_READ, int(f.Fd()), off, false); err != nil {
			t.Fatalf("MapFile %d: %v", i, err)
		}
		got := make([]byte, 100)
		if _, err := as.ReadAt(got, addr); err != nil || !bytes.Equal(got, content[off:off+100]) {
			t.Fatalf("ReadAt mapping %d = %q, %v", i, got, err)
		}
	}
	if err := as.MapFile(0x31000000, pageSize, unix.PROT_READ, 12345, 0, false); err == nil {
		t.Fatal("MapFile of a bad fd succeeded")
	}
	// Read past the end of a mapping: short count and EFAULT.
	buf := make([]byte, 200)
	n, err := as.ReadAt(buf, 0x30000000+pageSize-100)
	if n != 100 || !errors.Is(err, unix.EFAULT) {
		t.Fatalf("ReadAt across the end = %d, %v; want 100, EFAULT", n, err)
	}
}

func TestForkCOW(t *testing.T) {
	p := testPlatform(t)
	parent, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Release()
	if err := parent.MapAnon(dataAddr, pageSize, unix.PROT_READ|unix.PROT_WRITE, false); err != nil {
		t.Fatal(err)
	}
	if err := parent.MapAnon(dataAddr+pageSize, pageSize, unix.PROT_READ|unix.PROT_WRITE, true); err != nil {
		t.Fatal(err)
	}
	parent.WriteAt([]byte("parent"), dataAddr)
	child, err := parent.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer child.Release()
	child.WriteAt([]byte("child!"), dataAddr)
	child.WriteAt([]byte("shared"), dataAddr+pageSize)
	tests := []struct {
		as   platform.AddressSpace
		addr uintptr
		want string
	}{
		{parent, dataAddr, "parent"},
		{child, dataAddr, "child!"},
		{parent, dataAddr + pageSize, "shared"},
	}
	for i, tt := range tests {
		got := make([]byte, 6)
		if _, err := tt.as.ReadAt(got, tt.addr); err != nil || string(got) != tt.want {
			t.Errorf("case %d: read %q, %v; want %q", i, got, err, tt.want)
		}
	}
}

func TestInterrupt(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := testPlatform(t)
	as := loadCode(t, p, []byte{0xeb, 0xfe}) // jmp .
	ctx, err := as.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Release()
	regs := startRegs()
	for i := 0; i < 20; i++ {
		timer := time.AfterFunc(time.Millisecond, ctx.Interrupt)
		trap, err := ctx.Switch(regs)
		timer.Stop()
		if err != nil || trap.Kind != platform.TrapInterrupted {
			t.Fatalf("round %d: %+v, %v; want interrupted", i, trap, err)
		}
		if regs.IP() != codeAddr {
			t.Fatalf("round %d: IP %#x", i, regs.IP())
		}
	}
	// An Interrupt while not running makes the next Switch return at once.
	ctx.Interrupt()
	if trap, err := ctx.Switch(regs); err != nil || trap.Kind != platform.TrapInterrupted {
		t.Fatalf("pending interrupt: %+v, %v", trap, err)
	}
}

func TestStubDeath(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := testPlatform(t)
	as := loadCode(t, p, []byte{0xeb, 0xfe})
	c, err := as.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	ctx := c.(*Context)
	time.AfterFunc(5*time.Millisecond, func() { unix.Kill(ctx.tid, unix.SIGKILL) })
	if _, err := ctx.Switch(startRegs()); err == nil {
		t.Fatal("Switch of a killed stub returned no error")
	}
}

// zygoteChildren lists the zygote's child processes.
func zygoteChildren(t *testing.T, p *Platform) []string {
	pid := strconv.Itoa(p.zygote.pid)
	b, err := os.ReadFile("/proc/" + pid + "/task/" + pid + "/children")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range strings.Fields(string(b)) {
		st, _ := os.ReadFile("/proc/" + c + "/status")
		t.Logf("child %s: %s", c, st)
	}
	return strings.Fields(string(b))
}

func TestCreateReleaseLeavesNothing(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := testPlatform(t)
	as, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	ctl := as.(*AddressSpace).pid
	// The handoff of app threads from the injector to this thread, many
	// times over.
	for i := 0; i < 1000; i++ {
		ctx, err := as.NewContext()
		if err != nil {
			t.Fatalf("NewContext %d: %v", i, err)
		}
		ctx.Release()
	}
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(ctl) + "/task/" + strconv.Itoa(ctl) + "/children"); err != nil || len(bytes.Fields(b)) != 0 {
		t.Errorf("control thread children after release: %q, %v", b, err)
	}
	as.Release()
	for i := 0; i < 50; i++ {
		as, err := p.NewAddressSpace()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := as.NewContext(); err != nil { // released with as
			t.Fatal(err)
		}
		child, err := as.Fork()
		if err != nil {
			t.Fatal(err)
		}
		as.Release()
		child.Release()
	}
	if c := zygoteChildren(t, p); len(c) != 0 {
		t.Fatalf("zygote children left: %v", c)
	}
}

func BenchmarkSyscallRoundTrip(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := testPlatform(b)
	// loop: mov eax, SYS_GETPID ; syscall ; jmp loop
	as := loadCode(b, p, cat(movImm32(rax, unix.SYS_GETPID), syscallInsn, []byte{0xeb, 0xf7}))
	ctx, err := as.NewContext()
	if err != nil {
		b.Fatal(err)
	}
	defer ctx.Release()
	regs := startRegs()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		trap, err := ctx.Switch(regs)
		if err != nil || trap.Kind != platform.TrapSyscall || regs.SyscallNo() != unix.SYS_GETPID {
			b.Fatalf("%+v, %v, nr %d", trap, err, regs.SyscallNo())
		}
		regs.SetReturn(1)
	}
}

func TestStubHardening(t *testing.T) {
	p := testPlatform(t)
	as, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	defer as.Release()
	pid := strconv.Itoa(as.(*AddressSpace).pid)
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CapEff:\t0000000000000000", "CapPrm:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2"} {
		if !strings.Contains(string(status), want) {
			t.Errorf("stub status lacks %q", want)
		}
	}
	fds, err := os.ReadDir("/proc/" + pid + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	if len(fds) != 1 || fds[0].Name() != strconv.Itoa(stubSocketFD) {
		t.Errorf("stub fds = %v, want only %d", fds, stubSocketFD)
	}
	maps, err := readMaps(as.(*AddressSpace).pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range maps {
		if m.Start >= maxUserAddress {
			continue
		}
		reserved := false
		for _, r := range p.Reserved() {
			reserved = reserved || (m.Start >= r.Start && m.End <= r.End)
		}
		if !reserved {
			t.Errorf("stub has unreserved mapping %+v", m)
		}
	}
	// A call outside the stub filter kills the stub.
	err = p.inj.run(func() error {
		_, err := as.(*AddressSpace).ctl.call(sysGetpid)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "died") {
		t.Errorf("getpid in stub: %v, want the stub killed", err)
	}
}

func TestClose(t *testing.T) {
	openFDs := func() int {
		fds, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(fds)
	}
	before := openFDs()
	p, err := New()
	if err != nil {
		t.Skipf("ptrace platform unavailable here: %v", err)
	}
	as, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	zygote, ctl := p.zygote.pid, as.(*AddressSpace).pid
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{zygote, ctl} {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			t.Errorf("process %d still there after Close", pid)
		}
	}
	if _, err := p.NewAddressSpace(); err == nil {
		t.Error("NewAddressSpace after Close succeeded")
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if after := openFDs(); after != before {
		t.Errorf("%d fds open after Close, %d before New", after, before)
	}
}

// TestReleaseWhileRunning releases the address space from another goroutine
// while a context spins in it.
func TestReleaseWhileRunning(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := testPlatform(t)
	as := loadCode(t, p, []byte{0xeb, 0xfe})
	ctx, err := as.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	time.AfterFunc(5*time.Millisecond, func() { as.Release(); close(released) })
	if _, err := ctx.Switch(startRegs()); err == nil {
		t.Fatal("Switch in a released address space returned no error")
	}
	if _, err := ctx.Switch(startRegs()); !errors.Is(err, errReleased) {
		t.Fatalf("second Switch: %v, want errReleased", err)
	}
	ctx.Release() // harmless after the address space's release
	<-released
	if c := zygoteChildren(t, p); len(c) != 0 {
		t.Fatalf("zygote children left: %v", c)
	}
}

// TestInterruptRace interrupts a thread that traps constantly: every
// Switch must return, interrupts must be reported, and none may be lost.
func TestInterruptRace(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := testPlatform(t)
	as := loadCode(t, p, cat(movImm32(rax, unix.SYS_GETPID), syscallInsn, []byte{0xeb, 0xf7}))
	ctx, err := as.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Release()
	stop := make(chan struct{})
	sent := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				sent <- n
				return
			default:
			}
			ctx.Interrupt()
			n++
			time.Sleep(50 * time.Microsecond)
		}
	}()
	regs := startRegs()
	interrupts := 0
	for i := 0; i < 3000; i++ {
		trap, err := ctx.Switch(regs)
		if err != nil {
			t.Fatal(err)
		}
		switch trap.Kind {
		case platform.TrapInterrupted:
			interrupts++
		case platform.TrapSyscall:
			regs.SetReturn(1)
		default:
			t.Fatalf("unexpected trap %+v", trap)
		}
	}
	close(stop)
	n := <-sent
	if interrupts == 0 || interrupts > n {
		t.Fatalf("%d interrupts reported for %d sent", interrupts, n)
	}
	// The last Interrupt may still be pending: at most one more report,
	// then the thread runs normally.
	for i := 0; i < 2; i++ {
		trap, err := ctx.Switch(regs)
		if err != nil {
			t.Fatal(err)
		}
		if trap.Kind == platform.TrapSyscall {
			return
		}
	}
	t.Fatal("interrupts reported after the last one was consumed")
}
