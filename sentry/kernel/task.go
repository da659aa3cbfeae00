package kernel

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"moat/platform"
	"moat/platform/arch"
	"moat/sentry/mm"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// ErrNoReturn is returned by handlers of calls after which the
// registers must not receive a result: exit, exit_group, and a successful
// rt_sigreturn (which restores every register itself).
var ErrNoReturn = errors.New("system call does not return")

// Task is one application thread. Its goroutine is locked to one OS
// thread for life, since the platform context is bound to that thread.
// Fields without a lock are touched only by the task's own goroutine.
type Task struct {
	k   *Kernel
	tg  *ThreadGroup
	tid int32
	// start is when the thread was created, as time since boot; fixed.
	start time.Duration

	regs arch.Registers
	ctx  platform.Context
	// cpu is the context's CPU clock for /proc (nil: none), set with ctx
	// by setContext and read from other goroutines.
	cpu atomic.Pointer[cpuClock]
	// cpuAcct is the task's CPU accounting (task_cputime.go).
	cpuAcct taskCPU

	// mm, fds and fs are the task's memory, descriptor table and
	// file-system context, shared per clone's CLONE_VM, CLONE_FILES and
	// CLONE_FS. Only the task's goroutine changes them (execve).
	mm  *mm.MemoryManager
	fds *FDTable
	fs  *vfs.FS

	creds atomic.Pointer[Credentials]
	// vfsCreds is creds' vfs view with the task as Caller, made from
	// vfsCredsOf; touched only by the task's goroutine (VFSCreds).
	vfsCreds   vfs.Creds
	vfsCredsOf *Credentials

	// clearChildTID is set_tid_address's pointer; robustList and
	// robustLen are set_robust_list's.
	clearChildTID uintptr
	robustList    uintptr
	robustLen     uintptr
	// altStack is sigaltstack's stack (Size 0: none).
	altStack SignalStack

	// commMu guards comm, the thread's name (PR_SET_NAME, /proc comm).
	commMu sync.Mutex
	comm   [16]byte

	// sigMu guards mask and pending; it nests inside ThreadGroup.mu.
	sigMu       sync.Mutex
	mask        SigSet
	pending     SigSet
	pendingInfo [NumSignals]SigInfo

	// sched is the recorded scheduling state (task_sched.go).
	sched taskSched

	// ctl is the prctl and seccomp state (task_control.go).
	ctl taskControl

	// stopParked is set while the thread is parked for its process's
	// group stop (job_control.go); guarded by ThreadGroup.mu.
	stopParked bool
	// restart is the restart_syscall continuation of a call interrupted
	// with ERESTART_RESTARTBLOCK (nil: none); the task's goroutine only.
	restart RestartBlock

	// wake has room for one token: sent when a signal or exit needs the
	// task while it blocks in the sentry (nanosleep, futex).
	wake chan struct{}
	// timer is reused by every sleep so blocking does not allocate.
	timer *time.Timer

	// scratch is reused by handlers for small copy-ins and copy-outs.
	scratch [512]byte
	// strace is reused for every --strace line.
	strace StraceCall
	// exitCode is the code exit(2) gave, for a thread that exits alone.
	exitCode int
	// exited is set when the task left its run loop by exit(2).
	exited bool
	// startFailed is set when the task never ran (no platform context):
	// its process, if it is the only thread, vanishes without a trace.
	startFailed bool
	// vforkDone, for a child of vfork, is closed when it execs or ends,
	// releasing the parent.
	vforkDone chan struct{}
	// sysReturn is set while the registers hold the result of the system
	// call just handled: signal delivery then decides about restarts.
	sysReturn bool
	// savedMask is the mask rt_sigsuspend replaced, restored after the
	// signal that ends it (haveSavedMask says it is set).
	savedMask     SigSet
	haveSavedMask bool
	// fpBuf holds the FP state while a signal frame is built or undone;
	// fpInit is the clean state a handler starts with.
	fpBuf  []byte
	fpInit []byte
	// inheritFP is the parent's FP state a new thread or process starts
	// with (clone copies it, as Linux's fpu_clone does); run loads it
	// into the fresh platform context and drops it.
	inheritFP []byte
}

// SignalStack is a stack_t: an alternate signal stack.
type SignalStack struct {
	Addr  uint64
	Flags int32
	Size  uint64
}

// Kernel returns the task's kernel.
func (t *Task) Kernel() *Kernel { return t.k }

// ThreadGroup returns the task's process.
func (t *Task) ThreadGroup() *ThreadGroup { return t.tg }

// TID returns the task's thread ID in the sandbox.
func (t *Task) TID() int32 { return t.tid }

// PID returns the task's process ID in the sandbox.
func (t *Task) PID() int32 { return t.tg.pid }

// Registers returns the task's registers, as of the last trap. Handlers
// may change them (arch_prctl sets the thread pointer).
func (t *Task) Registers() *arch.Registers { return &t.regs }

// MM returns the task's memory manager.
func (t *Task) MM() *mm.MemoryManager { return t.mm }

// FDTable returns the task's file descriptor table.
func (t *Task) FDTable() *FDTable { return t.fds }

// FSContext returns the task's root and working directory.
func (t *Task) FSContext() *vfs.FS { return t.fs }

// Credentials returns the task's credentials (never changed in place).
func (t *Task) Credentials() *Credentials { return t.creds.Load() }

// VFSCreds returns the credentials vfs calls run with, naming the task
// as their Caller (for /proc/self). Only the task's goroutine calls it: it
// refreshes a copy kept in the task when the credentials changed.
func (t *Task) VFSCreds() *vfs.Creds {
	c := t.creds.Load()
	if t.vfsCredsOf != c {
		t.vfsCreds = *c.VFS()
		t.vfsCreds.Caller = t
		t.vfsCredsOf = c
	}
	return &t.vfsCreds
}

// Scratch returns the task's reusable buffer (512 bytes). It is valid
// until the handler returns and must not be kept.
func (t *Task) Scratch() []byte { return t.scratch[:] }

// CopyIn copies application memory at addr into dst (EFAULT).
func (t *Task) CopyIn(addr uintptr, dst []byte) (int, error) { return t.mm.CopyIn(addr, dst) }

// CopyOut copies src into application memory at addr (EFAULT).
func (t *Task) CopyOut(addr uintptr, src []byte) (int, error) { return t.mm.CopyOut(addr, src) }

// CopyInString reads a NUL-terminated string of at most maxLen bytes.
func (t *Task) CopyInString(addr uintptr, maxLen int) (string, error) {
	return t.mm.CopyInString(addr, maxLen)
}

// Comm returns the thread's name.
func (t *Task) Comm() string {
	t.commMu.Lock()
	defer t.commMu.Unlock()
	n := 0
	for n < len(t.comm) && t.comm[n] != 0 {
		n++
	}
	return string(t.comm[:n])
}

// SetComm sets the thread's name, truncated to 15 bytes.
func (t *Task) SetComm(name []byte) {
	t.commMu.Lock()
	defer t.commMu.Unlock()
	t.comm = [16]byte{}
	for i := 0; i < len(name) && i < 15 && name[i] != 0; i++ {
		t.comm[i] = name[i]
	}
}

// SetClearChildTID implements set_tid_address's store.
func (t *Task) SetClearChildTID(addr uintptr) { t.clearChildTID = addr }

// SetRobustList stores set_robust_list's head and length.
func (t *Task) SetRobustList(head, length uintptr) { t.robustList, t.robustLen = head, length }

// RobustList returns set_robust_list's head and length.
func (t *Task) RobustList() (head, length uintptr) { return t.robustList, t.robustLen }

// AltStack returns the alternate signal stack.
func (t *Task) AltStack() SignalStack { return t.altStack }

// SetAltStack installs an alternate signal stack.
func (t *Task) SetAltStack(s SignalStack) { t.altStack = s }

// OnAltStack reports whether the task runs on its alternate signal stack.
func (t *Task) OnAltStack() bool {
	sp := uint64(t.regs.SP())
	s := t.altStack
	return s.Size != 0 && sp > s.Addr && sp-s.Addr <= s.Size
}

// kick makes the task notice a signal or an exit soon: it interrupts a
// running Switch and wakes a sleep in the sentry.
func (t *Task) kick() {
	if t.ctx != nil {
		t.ctx.Interrupt()
	}
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// interrupted reports whether a blocking call must give up: the task must
// exit or has a signal to take.
func (t *Task) interrupted() bool {
	return t.leaving() || t.tg.hasDeliverable(t)
}

// leaving reports whether the task must leave its run loop: it called
// exit(2), its process is ending, or another thread runs execve.
func (t *Task) leaving() bool {
	if t.exited {
		return true
	}
	tg := t.tg
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.exiting && tg.execer != t
}

// BlockUntil sleeps until deadline (the zero time: forever) unless a
// signal the task does not block arrives or it must exit: then it returns
// EINTR. deadline is on the monotonic clock.
func (t *Task) BlockUntil(deadline time.Time) error {
	// As in Block: a paused sandbox completes no sleep.
	defer t.k.pause.wait(t)
	forever := deadline.IsZero()
	for {
		if t.interrupted() {
			return unix.EINTR
		}
		if forever {
			<-t.wake
			continue
		}
		d := time.Until(deadline)
		if d <= 0 {
			return nil
		}
		t.timer.Reset(d)
		select {
		case <-t.wake:
			if !t.timer.Stop() {
				<-t.timer.C
			}
		case <-t.timer.C:
		}
	}
}

// BlockFor sleeps for d like BlockUntil.
func (t *Task) BlockFor(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	return t.BlockUntil(time.Now().Add(d))
}

// run is the task's goroutine: it binds an OS thread, creates the
// platform context on it and runs the application until the task exits.
// started receives the context error, or nil once the thread runs.
func (t *Task) run(started chan<- error) {
	// The OS thread stays locked until the goroutine ends, which ends the
	// thread too: the host ptrace relation dies with it.
	runtime.LockOSThread()
	ctx, err := t.mm.AddressSpace().NewContext()
	if err != nil {
		started <- fmt.Errorf("task %d: new platform context: %w", t.tid, err)
		t.startFailed = true
		t.k.taskGone(t)
		return
	}
	t.setContext(ctx)
	t.loadInheritedFP()
	started <- nil
	t.loop()
	t.ctx.Release()
	t.k.taskGone(t)
}

// loop runs the application: Switch, handle the trap, repeat.
func (t *Task) loop() {
	for {
		t.k.pause.wait(t)
		if t.leaving() {
			return
		}
		t.deliverSignals()
		if t.leaving() {
			return
		}
		trap, err := t.ctx.Switch(&t.regs)
		if err != nil {
			t.k.log.Error("platform switch failed; killing the process", "pid", t.tg.pid, "tid", t.tid, "err", err)
			t.tg.exitGroup(ExitStatus{Signal: unix.SIGKILL})
			return
		}
		switch trap.Kind {
		case platform.TrapSyscall:
			t.syscall()
		case platform.TrapFault, platform.TrapSignal:
			t.forceSignal(SigInfo{Signo: int32(trap.Signo), Code: trap.Code, Addr: uint64(trap.Addr)})
		case platform.TrapInterrupted:
			// Pending signals and exits are checked at the top.
		}
	}
}

// syscall dispatches the call the task trapped on and stores its result.
// It allocates nothing in the steady state.
func (t *Task) syscall() {
	nr := t.regs.SyscallNo()
	args := t.regs.SyscallArgs()
	tab := t.k.table
	var ret uintptr
	var err error
	var filtered bool
	if sc := t.ctl.seccomp.Load(); sc != nil {
		// Seccomp decides before dispatch; without it this is the only cost.
		ret, filtered, err = t.seccompDecide(sc, nr, args)
	}
	if filtered {
		// The filter gave the result (or ended the thread).
	} else if nr < uintptr(len(tab.Table)) && (tab.Table[nr].Fn != nil || tab.Table[nr].Support == Refused) {
		e := &tab.Table[nr]
		if e.Fn == nil {
			err = e.Errno
		} else {
			ret, err = e.Fn(t, args)
		}
	} else {
		t.k.unknownSyscall(t, nr)
		err = unix.ENOSYS
	}
	if err != nil && err != ErrNoReturn {
		errno, ok := err.(unix.Errno)
		if !ok {
			t.k.log.Error("system call failed inside the sentry", "pid", t.tg.pid, "tid", t.tid, "nr", nr, "err", err)
			errno = unix.EFAULT
			err = errno
		}
		ret = uintptr(-int64(errno))
	}
	if err != ErrNoReturn {
		t.regs.SetReturn(ret)
	}
	t.sysReturn = err != ErrNoReturn
	if t.k.strace != nil {
		t.traceCall(nr, args, ret, err)
	}
}

// Exit implements exit(2) for the task: the thread ends with code. When
// it is the last thread, the process ends with that code.
func (t *Task) Exit(code int) {
	t.exited = true
	t.exitCode = code & 0xff
}

// ExitGroup implements exit_group(2): every thread of the process ends,
// and the process's status is code.
func (t *Task) ExitGroup(code int) {
	t.tg.exitGroup(ExitStatus{Code: code & 0xff})
}
