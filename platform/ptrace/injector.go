package ptrace

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"moat/platform/arch"
)

// errClosed is returned by requests made after the platform was closed.
var errClosed = errors.New("ptrace platform: closed")

// injector owns the OS thread that traces the zygote and every address
// space's control thread. ptrace requests for a tracee are only accepted
// from its tracer thread, so every injection, fork and reap of those
// processes is run on that one thread through run.
type injector struct {
	// mu serialises callers of run; it is held for a whole request, so the
	// one fd-passing socket and the scratch pages are used by one request
	// at a time.
	mu     sync.Mutex
	closed bool
	fn     func()
	start  chan struct{}
	done   chan struct{}
}

// newInjector starts the injector thread and runs setup on it before
// serving requests. If setup fails the thread exits (and takes any process
// it started with it, through their parent-death signal).
func newInjector(setup func() error) (*injector, error) {
	in := &injector{start: make(chan struct{}), done: make(chan struct{})}
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: when this goroutine returns, the thread exits,
		// which detaches (and with PTRACE_O_EXITKILL kills) its tracees.
		runtime.LockOSThread()
		if err := setup(); err != nil {
			errc <- err
			return
		}
		errc <- nil
		for range in.start {
			in.fn()
			in.done <- struct{}{}
		}
	}()
	if err := <-errc; err != nil {
		return nil, err
	}
	return in, nil
}

// run runs fn on the injector thread and waits for it.
func (in *injector) run(fn func() error) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return errClosed
	}
	var err error
	in.fn = func() { err = fn() }
	in.start <- struct{}{}
	<-in.done
	in.fn = nil
	return err
}

// stop runs last on the injector thread, then ends it.
func (in *injector) stop(last func()) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return
	}
	in.fn = last
	in.start <- struct{}{}
	<-in.done
	in.closed = true
	close(in.start)
}

// tracee is a stub thread stopped under the injector's control: the zygote
// or an address space's control thread.
//
// Preconditions for all methods: called on the injector thread, with the
// tracee in a ptrace stop.
type tracee struct {
	pid   int
	saved arch.Registers
	regs  arch.Registers
	ws    unix.WaitStatus
	// child is the pid reported by the last fork/clone event stop.
	child uint64
	// gone is set once the process was seen dead (and so reaped): its
	// pid may be reused and must not be signalled.
	gone bool
}

// inject runs system call nr with args in the tracee and returns its raw
// result (negative errno values included). The tracee's registers are
// restored afterwards. A child created by the call is left in t.child.
func (t *tracee) inject(nr uintptr, args [6]uintptr) (uintptr, error) {
	if t.gone {
		return 0, fmt.Errorf("ptrace: stub %d is dead", t.pid)
	}
	if err := getRegs(t.pid, &t.saved); err != nil {
		return 0, fmt.Errorf("ptrace: stub %d: get registers: %w", t.pid, err)
	}
	t.regs = t.saved
	prepareInjection(&t.regs, nr, &args)
	if err := setRegs(t.pid, &t.regs); err != nil {
		return 0, fmt.Errorf("ptrace: stub %d: set registers: %w", t.pid, err)
	}
	t.child = 0
	if err := ptrace(unix.PTRACE_CONT, t.pid, 0, 0); err != nil {
		return 0, fmt.Errorf("ptrace: stub %d: continue: %w", t.pid, err)
	}
	for {
		if _, err := wait4(t.pid, &t.ws, 0); err != nil {
			return 0, fmt.Errorf("ptrace: stub %d: wait: %w", t.pid, err)
		}
		if !t.ws.Stopped() {
			t.gone = t.ws.Exited() || t.ws.Signaled()
			return 0, fmt.Errorf("ptrace: stub %d died during injected call %d (status %#x)", t.pid, nr, uint32(t.ws))
		}
		switch t.ws.StopSignal() {
		case unix.SIGTRAP:
			switch t.ws.TrapCause() {
			case unix.PTRACE_EVENT_FORK, unix.PTRACE_EVENT_VFORK, unix.PTRACE_EVENT_CLONE:
				if err := getEventMsg(t.pid, &t.child); err != nil {
					return 0, fmt.Errorf("ptrace: stub %d: fork event message: %w", t.pid, err)
				}
			case 0, -1:
				if err := getRegs(t.pid, &t.regs); err != nil {
					return 0, fmt.Errorf("ptrace: stub %d: get registers: %w", t.pid, err)
				}
				if injectionDone(&t.regs) {
					ret := injectionResult(&t.regs)
					if err := setRegs(t.pid, &t.saved); err != nil {
						return 0, fmt.Errorf("ptrace: stub %d: restore registers: %w", t.pid, err)
					}
					return ret, nil
				}
			}
		}
		// Anything else on the way (SIGCHLD from a stub's children, the
		// stop of a detached clone's parent notification...) is
		// suppressed: stubs never handle signals themselves.
		if err := ptrace(unix.PTRACE_CONT, t.pid, 0, 0); err != nil {
			return 0, fmt.Errorf("ptrace: stub %d: continue: %w", t.pid, err)
		}
	}
}

// call is inject with an errno check: a result in [-4095, -1] is returned
// as that unix.Errno.
func (t *tracee) call(nr uintptr, args ...uintptr) (uintptr, error) {
	var a [6]uintptr
	copy(a[:], args)
	ret, err := t.inject(nr, a)
	if err != nil {
		return 0, err
	}
	if e := -int64(ret); e > 0 && e < 4096 {
		return 0, unix.Errno(e)
	}
	return ret, nil
}

// fork injects clone(SIGCHLD) (a plain fork) and returns the new process,
// traced by this thread and stopped at its first stop.
func (t *tracee) fork(flags uintptr) (*tracee, error) {
	if _, err := t.call(sysClone, flags); err != nil {
		return nil, fmt.Errorf("ptrace: clone in stub %d: %w", t.pid, err)
	}
	if t.child == 0 {
		return nil, fmt.Errorf("ptrace: clone in stub %d: no fork event", t.pid)
	}
	child := &tracee{pid: int(t.child)}
	if err := child.waitStop(); err != nil {
		return nil, err
	}
	return child, nil
}

// waitStop waits for a freshly forked child's initial (SIGSTOP) stop.
func (t *tracee) waitStop() error {
	if _, err := wait4(t.pid, &t.ws, 0); err != nil {
		return fmt.Errorf("ptrace: new stub %d: wait: %w", t.pid, err)
	}
	if !t.ws.Stopped() {
		return fmt.Errorf("ptrace: new stub %d: not stopped (status %#x)", t.pid, uint32(t.ws))
	}
	return nil
}

// kill kills the tracee's process and reaps it.
func (t *tracee) kill() {
	if t.gone {
		return
	}
	t.gone = true
	_ = unix.Kill(t.pid, unix.SIGKILL)
	reap(t.pid, &t.ws)
}

// reap waits for a killed process until it is gone. A traced process whose
// real parent ignores SIGCHLD is released once its tracer has waited.
func reap(pid int, ws *unix.WaitStatus) {
	for {
		if _, err := wait4(pid, ws, 0); err != nil {
			return // ECHILD: someone else reaped it.
		}
		if ws.Exited() || ws.Signaled() {
			return
		}
	}
}

// writeScratch copies b into the tracee's scratch page at off.
func (t *tracee) writeScratch(off uintptr, b []byte) error {
	n, err := processVM(t.pid, b, scratchBase+off, true)
	if err != nil {
		return fmt.Errorf("ptrace: stub %d: write scratch: %w", t.pid, err)
	}
	if n != len(b) {
		return fmt.Errorf("ptrace: stub %d: write scratch: short copy: %w", t.pid, unix.EFAULT)
	}
	return nil
}
