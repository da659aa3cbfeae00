package ptrace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"moat/platform"
	"moat/platform/arch"
)

const (
	// siginfoSize is sizeof(siginfo_t).
	siginfoSize = 128
	// siginfo offsets on 64-bit Linux: si_code, then si_addr after the
	// padding that aligns the union.
	siginfoCode = 8
	siginfoAddr = 16
	// siginfoSyscall is si_syscall of a seccomp SIGSYS (after
	// si_call_addr, which is at siginfoAddr).
	siginfoSyscall = 24
	// sysSeccomp is SIGSYS's si_code for a seccomp trap (SYS_SECCOMP).
	sysSeccompCode = 1

	// interruptSignal is sent to a running app thread by Interrupt. Stubs
	// never see it act: the stop it causes is reported to the tracer and
	// the signal is suppressed there.
	interruptSignal = unix.SIGUSR2

	// appThreadFlags make an app thread a separate process sharing the
	// address space's memory (not CLONE_THREAD: group stops and SIGSTOP
	// then touch only that thread, and it can be traced by a different
	// sentry thread than its parent). SIGCHLD is ignored in stubs, so it
	// is reaped by the kernel.
	appThreadFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | uintptr(unix.SIGCHLD)
)

// errReleased is returned by Switch on a released context.
var errReleased = errors.New("ptrace: context released")

// Context is one application thread: a stub process sharing its address
// space's memory, traced by the OS thread that created the context.
type Context struct {
	as  *AddressSpace
	tid int
	// initial holds the registers the thread had when created (segment
	// selectors for fillSegments).
	initial arch.Registers

	// running is true while Switch may have the thread running; interrupt
	// records an Interrupt that Switch has not reported yet. Interrupt
	// stores interrupt before loading running and Switch stores running
	// before loading interrupt, so one of the two always sees the other.
	running   atomic.Bool
	interrupt atomic.Bool
	// dead is set once, by whoever releases the thread.
	dead atomic.Bool
	// exited is set when Switch saw the process gone (and so reaped it):
	// its pid may be reused and must not be waited for again.
	exited atomic.Bool
	// finalCPU is the CPU time (ns) read just before Release killed the
	// thread, which CPUTime reports once it is dead.
	finalCPU atomic.Int64

	// mu guards pidfd against Release closing it under Interrupt.
	mu    sync.Mutex
	pidfd int

	// Reused by Switch so the trap path allocates nothing. Only the
	// owning thread touches them.
	ws unix.WaitStatus
	si [siginfoSize]byte
	// vsyscall is set when the last trap was a vsyscall-page call
	// reported as a system call (see vsyscallTrap): the thread sits in a
	// signal stop, not a system-call stop.
	vsyscall bool
}

var _ platform.Context = (*Context)(nil)

// NewContext creates an application thread: the injector clones the
// control thread, then hands the child over to the calling OS thread
// (PTRACE_DETACH with SIGSTOP, then PTRACE_ATTACH here).
//
// Preconditions: the caller has called runtime.LockOSThread.
func (as *AddressSpace) NewContext() (platform.Context, error) {
	as.mu.Lock()
	released := as.released
	as.mu.Unlock()
	if released {
		return nil, fmt.Errorf("ptrace: new thread in stub %d: %w", as.pid, errReleased)
	}
	tid := 0
	err := as.p.inj.run(func() error {
		child, err := as.ctl.fork(appThreadFlags)
		if err != nil {
			return err
		}
		// The child sits in its first (SIGSTOP) stop. Detaching with
		// SIGSTOP leaves it stopped, untraced, for our caller to attach.
		if err := ptrace(unix.PTRACE_DETACH, child.pid, 0, uintptr(unix.SIGSTOP)); err != nil {
			child.kill()
			return fmt.Errorf("detach new thread %d: %w", child.pid, err)
		}
		tid = child.pid
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ptrace: new thread in stub %d: %w", as.pid, err)
	}
	c := &Context{as: as, tid: tid, pidfd: -1}
	if err := c.attach(); err != nil {
		// Untraced or traced by us: SIGKILL works either way; a tracee
		// must also be reaped.
		_ = unix.Kill(tid, unix.SIGKILL)
		reap(tid, &c.ws)
		return nil, fmt.Errorf("ptrace: new thread in stub %d: %w", as.pid, err)
	}
	as.mu.Lock()
	if as.released {
		as.mu.Unlock()
		c.dead.Store(true)
		c.killAndReap()
		return nil, fmt.Errorf("ptrace: new thread in stub %d: %w", as.pid, errReleased)
	}
	as.contexts[c] = struct{}{}
	as.mu.Unlock()
	return c, nil
}

// attach makes the calling thread the tracer of c.tid.
func (c *Context) attach() error {
	if err := ptrace(unix.PTRACE_ATTACH, c.tid, 0, 0); err != nil {
		return fmt.Errorf("attach thread %d: %w", c.tid, err)
	}
	if _, err := wait4(c.tid, &c.ws, 0); err != nil {
		return fmt.Errorf("wait for thread %d: %w", c.tid, err)
	}
	if !c.ws.Stopped() {
		return fmt.Errorf("thread %d not stopped after attach (status %#x)", c.tid, uint32(c.ws))
	}
	// PTRACE_ATTACH may leave a SIGSTOP pending; Switch suppresses it.
	if err := ptrace(unix.PTRACE_SETOPTIONS, c.tid, 0, unix.PTRACE_O_EXITKILL|unix.PTRACE_O_TRACESYSGOOD); err != nil {
		return fmt.Errorf("set options of thread %d: %w", c.tid, err)
	}
	if err := getRegs(c.tid, &c.initial); err != nil {
		return fmt.Errorf("registers of thread %d: %w", c.tid, err)
	}
	fd, err := unix.PidfdOpen(c.tid, 0)
	if err != nil {
		return fmt.Errorf("pidfd of thread %d: %w", c.tid, err)
	}
	c.pidfd = fd
	return nil
}

// Switch runs the thread with regs until it traps.
//
// Preconditions: called on the OS thread that created the context.
func (c *Context) Switch(regs *arch.Registers) (platform.Trap, error) {
	if c.dead.Load() {
		return platform.Trap{}, errReleased
	}
	c.running.Store(true)
	trap, err := c.run(regs)
	c.running.Store(false)
	return trap, err
}

func (c *Context) run(regs *arch.Registers) (platform.Trap, error) {
	if c.interrupt.Swap(false) {
		return platform.Trap{Kind: platform.TrapInterrupted}, nil
	}
	fillSegments(regs, &c.initial)
	if c.vsyscall {
		c.vsyscall = false
		clearSyscallNo(regs)
	}
	if err := setRegs(c.tid, regs); err != nil {
		return platform.Trap{}, c.fail("set registers", err)
	}
	for {
		if err := ptrace(unix.PTRACE_SYSEMU, c.tid, 0, 0); err != nil {
			return platform.Trap{}, c.fail("resume", err)
		}
		if _, err := wait4(c.tid, &c.ws, 0); err != nil {
			return platform.Trap{}, c.fail("wait", err)
		}
		if !c.ws.Stopped() {
			c.exited.Store(c.ws.Exited() || c.ws.Signaled())
			return platform.Trap{}, fmt.Errorf("ptrace: app thread %d died (status %#x)", c.tid, uint32(c.ws))
		}
		sig := c.ws.StopSignal()
		if sig == unix.SIGTRAP|0x80 {
			if err := getRegs(c.tid, regs); err != nil {
				return platform.Trap{}, c.fail("get registers", err)
			}
			if c.as.p.ia32 && maybeI386(regs) {
				// An int 0x80 is not a 64-bit call (see int80Fault).
				a, err := getSyscallArch(c.tid)
				if err != nil {
					return platform.Trap{}, c.fail("get system call info", err)
				}
				if a == auditArchI386 {
					int80Fault(regs)
					return platform.Trap{Kind: platform.TrapFault, Signo: int(unix.SIGSEGV), Code: siKernel}, nil
				}
			}
			return platform.Trap{Kind: platform.TrapSyscall}, nil
		}
		if c.ws.TrapCause() > 0 {
			continue // a ptrace event stop: nothing to report.
		}
		kind := platform.TrapSignal
		switch sig {
		case unix.SIGSEGV, unix.SIGBUS:
			kind = platform.TrapFault
		case unix.SIGILL, unix.SIGFPE, unix.SIGTRAP:
		case unix.SIGSYS:
			// The stub filter's trap of a vsyscall-page call: report
			// it as the system call it stands for.
			if err := getSiginfo(c.tid, &c.si); err != nil {
				return platform.Trap{}, c.fail("get siginfo", err)
			}
			code := int32(binary.LittleEndian.Uint32(c.si[siginfoCode:]))
			if code != sysSeccompCode || !isVsyscall(binary.LittleEndian.Uint64(c.si[siginfoAddr:])) {
				continue
			}
			if err := getRegs(c.tid, regs); err != nil {
				return platform.Trap{}, c.fail("get registers", err)
			}
			vsyscallRegs(regs, int32(binary.LittleEndian.Uint32(c.si[siginfoSyscall:])))
			c.vsyscall = true
			return platform.Trap{Kind: platform.TrapSyscall}, nil
		case interruptSignal:
			if !c.interrupt.Swap(false) {
				continue // left over from an Interrupt already reported.
			}
			if err := getRegs(c.tid, regs); err != nil {
				return platform.Trap{}, c.fail("get registers", err)
			}
			return platform.Trap{Kind: platform.TrapInterrupted}, nil
		default:
			// SIGSTOP from the attach, or anything else (a host
			// user's kill, a terminal's SIGINT): stubs handle no
			// signals; the sentry delivers the application's.
			continue
		}
		if err := getSiginfo(c.tid, &c.si); err != nil {
			return platform.Trap{}, c.fail("get siginfo", err)
		}
		code := int32(binary.LittleEndian.Uint32(c.si[siginfoCode:]))
		if code <= 0 {
			// SI_USER, SI_TKILL, SI_QUEUE...: sent by a process (a
			// host user's kill of a stub pid), not raised by the
			// thread's own instructions, whose signals all carry a
			// kernel si_code > 0. App code cannot send host signals
			// (its calls never reach the host), so this is stray:
			// suppress it rather than report a fault that never was.
			continue
		}
		if err := getRegs(c.tid, regs); err != nil {
			return platform.Trap{}, c.fail("get registers", err)
		}
		return platform.Trap{
			Kind:  kind,
			Signo: int(sig),
			Code:  code,
			Addr:  uintptr(binary.LittleEndian.Uint64(c.si[siginfoAddr:])),
		}, nil
	}
}

// fail wraps a ptrace failure of the thread.
func (c *Context) fail(what string, err error) error {
	if c.dead.Load() {
		return errReleased
	}
	if err == unix.ESRCH {
		return fmt.Errorf("ptrace: app thread %d: %s: %w (thread gone, or Switch called from another OS thread)", c.tid, what, err)
	}
	return fmt.Errorf("ptrace: app thread %d: %s: %w", c.tid, what, err)
}

// Interrupt makes the running Switch, or the next one, return
// TrapInterrupted.
func (c *Context) Interrupt() {
	c.interrupt.Store(true)
	if !c.running.Load() {
		return
	}
	c.mu.Lock()
	if c.pidfd >= 0 {
		// pidfd: never signals a recycled pid.
		_ = unix.PidfdSendSignal(c.pidfd, interruptSignal, nil, 0)
	}
	c.mu.Unlock()
}

// Release kills the thread. It may be called from any goroutine.
func (c *Context) Release() {
	// The final CPU time is kept for CPUTime: the sentry folds it into
	// the task's total after an execve or exit.
	if !c.dead.Load() {
		if d, err := c.CPUTime(); err == nil {
			c.finalCPU.Store(int64(d))
		}
	}
	c.as.mu.Lock()
	first := c.markDead()
	if first && c.as.contexts != nil {
		delete(c.as.contexts, c)
	}
	c.as.mu.Unlock()
	if first {
		c.killAndReap()
	}
}

// markDead marks the context dead and reports whether this call did.
//
// Preconditions: c.as.mu is locked.
func (c *Context) markDead() bool {
	return c.dead.CompareAndSwap(false, true)
}

// killAndReap kills the thread's process and waits for it. Any thread of
// the sentry may wait for a tracee of a sibling thread.
func (c *Context) killAndReap() {
	c.mu.Lock()
	if c.pidfd >= 0 {
		_ = unix.PidfdSendSignal(c.pidfd, unix.SIGKILL, nil, 0)
	}
	c.mu.Unlock()
	if !c.exited.Load() {
		var ws unix.WaitStatus
		reap(c.tid, &ws)
	}
	c.mu.Lock()
	if c.pidfd >= 0 {
		unix.Close(c.pidfd)
		c.pidfd = -1
	}
	c.mu.Unlock()
}

// CPUTime returns the host CPU time, user and system together, that the
// thread's stub process has used: its process CPU clock
// (MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)), which the host lets any
// process read. It is read on demand (for /proc), never on the trap path.
// Once the context is released it reports the time read at Release.
func (c *Context) CPUTime() (time.Duration, error) {
	if c.dead.Load() {
		return time.Duration(c.finalCPU.Load()), nil
	}
	const cpuclockSched = 2
	clk := (^int32(c.tid))<<3 | cpuclockSched
	var ts unix.Timespec
	if err := unix.ClockGettime(clk, &ts); err != nil {
		return 0, fmt.Errorf("CPU clock of stub thread %d: %w", c.tid, err)
	}
	return time.Duration(ts.Nano()), nil
}
