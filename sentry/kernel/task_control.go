package kernel

import (
	"fmt"
	"runtime"
	"sync/atomic"

	"moat/platform/arch"
	"moat/sentry/seccomp"

	"golang.org/x/sys/unix"
)

// taskControl is a thread's prctl(2) and seccomp(2) state. The atomic
// fields are also written from other goroutines: by a sibling thread's
// SECCOMP_FILTER_FLAG_TSYNC, or read when the parent dies (pdeathSig).
type taskControl struct {
	// seccomp is the thread's seccomp state; nil (the common case) means
	// no filter, and the dispatch checks nothing else.
	seccomp atomic.Pointer[SeccompState]
	// noNewPrivs is PR_SET_NO_NEW_PRIVS: set once, inherited, never
	// cleared.
	noNewPrivs atomic.Bool
	// pdeathSig is PR_SET_PDEATHSIG's signal (0: none); not inherited.
	pdeathSig atomic.Int32
	// timerSlack and defaultSlack are PR_SET_TIMERSLACK's value and the
	// one 0 restores (the parent's slack at fork), in nanoseconds.
	timerSlack, defaultSlack uint64
	// mceKill is PR_MCE_KILL's policy (PR_MCE_KILL_DEFAULT, _EARLY or
	// _LATE); inherited.
	mceKill int32
}

// processControl is a process's prctl(2) state (shared by its threads).
type processControl struct {
	// dumpable is PR_SET_DUMPABLE (0 or 1; an execve sets it back to 1).
	dumpable atomic.Int32
	// thpDisable is PR_SET_THP_DISABLE: inherited by fork, kept by exec.
	thpDisable atomic.Bool
	// subreaper is PR_SET_CHILD_SUBREAPER: orphaned descendants are
	// reparented to the nearest living subreaper ancestor before init.
	// Read under Kernel.mu in reparentLocked.
	subreaper atomic.Bool
}

// defaultTimerSlack is the kernel's initial timer slack: 50 µs.
const defaultTimerSlack = 50000

// initControl sets the state of the container's first thread: the
// defaults, and the spec's noNewPrivileges and seccomp profile.
func (t *Task) initControl() error { return t.startControl(t.k.cfg.NoNewPrivs) }

// startControl sets the control state of a process the runtime starts
// (the init, or one Spawn starts for `moat exec`): the defaults, the
// no_new_privs bit when noNewPrivs, and the container's seccomp profile
// (Config.Seccomp), which every process of the container runs under.
func (t *Task) startControl(noNewPrivs bool) error {
	t.ctl.timerSlack, t.ctl.defaultSlack = defaultTimerSlack, defaultTimerSlack
	t.ctl.mceKill = unix.PR_MCE_KILL_DEFAULT
	t.tg.ctl.dumpable.Store(1)
	cfg := t.k.cfg
	if noNewPrivs {
		t.SetNoNewPrivs()
	}
	if cfg.Seccomp != nil {
		if err := t.InstallSeccompProgram(cfg.Seccomp); err != nil {
			return fmt.Errorf("linux.seccomp: %w", err)
		}
	}
	return nil
}

// inheritControl gives the new thread c what clone passes on: seccomp
// filters, no_new_privs, the MCE policy, the timer slack (which also
// becomes c's default); a new process also inherits dumpable and
// THP-disable (they belong to the copied mm on Linux).
func (t *Task) inheritControl(c *Task, newProcess bool) {
	c.ctl.seccomp.Store(t.ctl.seccomp.Load())
	c.ctl.noNewPrivs.Store(t.ctl.noNewPrivs.Load())
	c.ctl.timerSlack, c.ctl.defaultSlack = t.ctl.timerSlack, t.ctl.timerSlack
	c.ctl.mceKill = t.ctl.mceKill
	if newProcess {
		c.tg.ctl.dumpable.Store(t.tg.ctl.dumpable.Load())
		c.tg.ctl.thpDisable.Store(t.tg.ctl.thpDisable.Load())
	}
}

// NoNewPrivs reports PR_GET_NO_NEW_PRIVS.
func (t *Task) NoNewPrivs() bool { return t.ctl.noNewPrivs.Load() }

// SetNoNewPrivs implements PR_SET_NO_NEW_PRIVS: the bit is sticky.
func (t *Task) SetNoNewPrivs() { t.ctl.noNewPrivs.Store(true) }

// PdeathSig returns PR_GET_PDEATHSIG's signal.
func (t *Task) PdeathSig() int32 { return t.ctl.pdeathSig.Load() }

// SetPdeathSig implements PR_SET_PDEATHSIG (the caller validated sig).
func (t *Task) SetPdeathSig(sig int32) { t.ctl.pdeathSig.Store(sig) }

// TimerSlack returns PR_GET_TIMERSLACK's value in nanoseconds.
func (t *Task) TimerSlack() uint64 { return t.ctl.timerSlack }

// SetTimerSlack implements PR_SET_TIMERSLACK: 0 restores the default.
// The value is recorded only: the sentry's timers have no slack.
func (t *Task) SetTimerSlack(ns uint64) {
	if ns == 0 {
		ns = t.ctl.defaultSlack
	}
	t.ctl.timerSlack = ns
}

// MCEKill returns PR_MCE_KILL_GET's policy.
func (t *Task) MCEKill() int32 { return t.ctl.mceKill }

// SetMCEKill records PR_MCE_KILL's policy (the sandbox sees no machine
// check errors: it is only reported back).
func (t *Task) SetMCEKill(p int32) { t.ctl.mceKill = p }

// Dumpable returns PR_GET_DUMPABLE.
func (tg *ThreadGroup) Dumpable() int32 { return tg.ctl.dumpable.Load() }

// SetDumpable implements PR_SET_DUMPABLE (0 or 1).
func (tg *ThreadGroup) SetDumpable(v int32) { tg.ctl.dumpable.Store(v) }

// THPDisabled returns PR_GET_THP_DISABLE.
func (tg *ThreadGroup) THPDisabled() bool { return tg.ctl.thpDisable.Load() }

// SetTHPDisabled implements PR_SET_THP_DISABLE (recorded only: the
// sandbox's memory has no transparent huge pages of its own).
func (tg *ThreadGroup) SetTHPDisabled(v bool) { tg.ctl.thpDisable.Store(v) }

// ChildSubreaper returns PR_GET_CHILD_SUBREAPER.
func (tg *ThreadGroup) ChildSubreaper() bool { return tg.ctl.subreaper.Load() }

// SetChildSubreaper implements PR_SET_CHILD_SUBREAPER.
func (tg *ThreadGroup) SetChildSubreaper(v bool) { tg.ctl.subreaper.Store(v) }

// ClearChildTIDAddress returns set_tid_address's pointer
// (PR_GET_TID_ADDRESS).
func (t *Task) ClearChildTIDAddress() uintptr { return t.clearChildTID }

// Auxv returns the auxiliary vector of the program the process runs, as
// key, value pairs without the final AT_NULL (PR_GET_AUXV).
func (tg *ThreadGroup) Auxv() []uint64 {
	if e := tg.exec.Load(); e != nil {
		return e.Auxv
	}
	return nil
}

// childReaperLocked returns the process that adopts the orphans of tg:
// the nearest ancestor marked PR_SET_CHILD_SUBREAPER that still has
// live threads, else the container's init (nil once init is gone).
//
// Preconditions: k.mu is locked.
func (k *Kernel) childReaperLocked(tg *ThreadGroup) *ThreadGroup {
	for p := tg.parent; p != nil; p = p.parent {
		if p == k.init {
			break
		}
		if p.ctl.subreaper.Load() && !p.zombie && !p.exitingLocked() {
			return p
		}
	}
	if k.initDone {
		return nil
	}
	return k.init
}

// sendPdeathSigLocked sends the orphan c its threads' PR_SET_PDEATHSIG
// signals now that its parent, dead, is gone: from the parent, as the
// kernel's SEND_SIG_NOINFO makes it (SI_USER, the parent's pid).
//
// Preconditions: k.mu is locked.
func (k *Kernel) sendPdeathSigLocked(dead, c *ThreadGroup) {
	var sigs SigSet
	c.mu.Lock()
	for _, t := range c.tasks {
		if s := t.ctl.pdeathSig.Load(); s != 0 {
			sigs |= SigBit(unix.Signal(s))
		}
	}
	c.mu.Unlock()
	for sig := unix.Signal(1); sigs != 0; sig++ {
		if sigs&SigBit(sig) == 0 {
			continue
		}
		sigs &^= SigBit(sig)
		info := SigInfo{Signo: int32(sig), Code: SI_USER, PID: dead.pid, UID: dead.lastUID}
		c.notifyParentJobControlLocked(c.queueSignal(info))
	}
}

// SeccompState is a thread's seccomp mode: strict, or a filter chain.
// It is immutable; a change installs a new one.
type SeccompState struct {
	// Strict is SECCOMP_MODE_STRICT.
	Strict bool
	// Filters is SECCOMP_MODE_FILTER's chain (nil in strict mode).
	Filters *seccomp.Chain
}

// Seccomp modes as PR_GET_SECCOMP returns them.
const (
	SeccompModeDisabled = 0
	SeccompModeStrict   = 1
	SeccompModeFilter   = 2
)

// SeccompMode returns PR_GET_SECCOMP's mode.
func (t *Task) SeccompMode() int {
	s := t.ctl.seccomp.Load()
	switch {
	case s == nil:
		return SeccompModeDisabled
	case s.Strict:
		return SeccompModeStrict
	}
	return SeccompModeFilter
}

// SetSeccompStrict implements SECCOMP_SET_MODE_STRICT: EINVAL when a
// filter is installed (modes cannot change).
func (t *Task) SetSeccompStrict() error {
	if s := t.ctl.seccomp.Load(); s != nil && !s.Strict {
		return unix.EINVAL
	}
	t.ctl.seccomp.Store(&SeccompState{Strict: true})
	return nil
}

// AddSeccompFilter implements SECCOMP_SET_MODE_FILTER once the program is
// checked: it needs no_new_privs or CAP_SYS_ADMIN (EACCES), not strict
// mode (EINVAL), and a chain within the kernel's length limit (ENOMEM).
// With tsync every other thread of the process gets the new chain (and
// no_new_privs if the caller has it), unless one of them has filters the
// caller's chain does not descend from: then nothing changes and that
// thread's TID is returned (ESRCH instead when tsyncESRCH).
func (t *Task) AddSeccompFilter(p *seccomp.Program, log, tsync, tsyncESRCH bool) (int32, error) {
	if !t.NoNewPrivs() && !t.Credentials().HasCap(CapSysAdmin) {
		return 0, unix.EACCES
	}
	return t.installSeccomp(p, log, tsync, tsyncESRCH)
}

// installSeccomp installs the filter without the privilege check (the
// runtime's linux.seccomp is installed whatever the process's rights).
func (t *Task) installSeccomp(p seccomp.Filter, log, tsync, tsyncESRCH bool) (int32, error) {
	tg := t.tg
	// tg.mu serializes installs and TSYNC among the process's threads.
	tg.mu.Lock()
	defer tg.mu.Unlock()
	cur := t.ctl.seccomp.Load()
	var chain *seccomp.Chain
	if cur != nil {
		if cur.Strict {
			return 0, unix.EINVAL
		}
		chain = cur.Filters
	}
	nc, err := chain.Push(p, log)
	if err != nil {
		return 0, unix.ENOMEM
	}
	if tsync {
		for _, o := range tg.tasks {
			if o == t {
				continue
			}
			os := o.ctl.seccomp.Load()
			if os == nil {
				continue
			}
			if os.Strict || !chain.Descends(os.Filters) {
				if tsyncESRCH {
					return 0, unix.ESRCH
				}
				return o.tid, nil
			}
		}
	}
	ns := &SeccompState{Filters: nc}
	t.ctl.seccomp.Store(ns)
	if tsync {
		nnp := t.NoNewPrivs()
		for _, o := range tg.tasks {
			if o != t {
				o.ctl.seccomp.Store(ns)
				if nnp {
					o.ctl.noNewPrivs.Store(true)
				}
			}
		}
	}
	return 0, nil
}

// InstallSeccompProgram installs a filter on t without the no_new_privs
// check: the runtime's linux.seccomp profile, put on the container's
// processes before their first instruction.
func (t *Task) InstallSeccompProgram(p seccomp.Filter) error {
	_, err := t.installSeccomp(p, false, false, false)
	return err
}

// auditArch is the AUDIT_ARCH_* value seccomp_data.arch and si_arch hold.
var auditArch = func() uint32 {
	if runtime.GOARCH == "arm64" {
		return 0xc00000b7 // AUDIT_ARCH_AARCH64
	}
	return 0xc000003e // AUDIT_ARCH_X86_64
}()

// AuditArch returns the AUDIT_ARCH_* value of the sandbox's architecture.
func AuditArch() uint32 { return auditArch }

// SYS_SECCOMP is SIGSYS's si_code for a seccomp SECCOMP_RET_TRAP.
const SYS_SECCOMP = 1

// maxErrno is MAX_ERRNO: SECCOMP_RET_ERRNO's data is clamped to it.
const maxErrno = 4095

// seccompDecide runs t's seccomp state s on system call nr before it is
// dispatched. done reports that the call must not run: ret and err are
// then its result (err ErrNoReturn when the thread or process dies).
func (t *Task) seccompDecide(s *SeccompState, nr uintptr, args arch.SyscallArguments) (ret uintptr, done bool, err error) {
	if s.Strict {
		name := ""
		if nr < uintptr(len(t.k.table.Names)) {
			name = t.k.table.Names[nr]
		}
		if seccomp.StrictAllowed(name) {
			return 0, false, nil
		}
		t.seccompKillThread(unix.SIGKILL)
		return 0, true, ErrNoReturn
	}
	d := seccomp.Data{Nr: int32(nr), Arch: auditArch, IP: uint64(t.regs.IP())}
	for i := range d.Args {
		d.Args[i] = uint64(args[i])
	}
	verdict, log := s.Filters.Run(&d)
	action, data := verdict&seccomp.ActionMask, verdict&seccomp.DataMask
	if log && action != seccomp.RetAllow {
		t.k.log.Info("seccomp", "pid", t.tg.pid, "tid", t.tid, "nr", nr, "action", action, "data", data)
	}
	switch action {
	case seccomp.RetAllow, seccomp.RetLog:
		return 0, false, nil
	case seccomp.RetErrno:
		if data == 0 {
			return 0, true, nil
		}
		return 0, true, unix.Errno(min(data, maxErrno))
	case seccomp.RetTrap:
		// The kernel rolls the return register back to the number and
		// raises SIGSYS as a fault (a blocked or ignored SIGSYS kills).
		t.forceSignal(SigInfo{
			Signo: int32(unix.SIGSYS), Code: SYS_SECCOMP, Addr: d.IP,
			Errno: int32(data), Syscall: d.Nr, Arch: auditArch,
		})
		return nr, true, nil
	case seccomp.RetTrace, seccomp.RetUserNotif:
		// No tracer can attach in the sandbox and no listener exists:
		// the kernel then fails the call with ENOSYS.
		return 0, true, unix.ENOSYS
	case seccomp.RetKillThread:
		t.seccompKillThread(unix.SIGSYS)
		return 0, true, ErrNoReturn
	}
	// KILL_PROCESS and any unknown action kill the whole process.
	t.tg.exitGroup(ExitStatus{Signal: unix.SIGSYS})
	return 0, true, ErrNoReturn
}

// seccompKillThread ends t as killed by sig: the process too when t is
// its only thread (its status then names the signal), as do_exit(sig)
// and the kernel's last-thread core dump rule do.
func (t *Task) seccompKillThread(sig unix.Signal) {
	if t.tg.NumTasks() == 1 {
		t.tg.exitGroup(ExitStatus{Signal: sig})
		return
	}
	t.Exit(0)
}

// execControl applies what a successful execve changes of the control
// state: the capability transformation (Credentials.ForExec, committed
// like any credential change), then dumpable again unless the real and
// effective ids differ (begin_new_exec). Seccomp filters and no_new_privs
// are kept.
func (t *Task) execControl() {
	t.SetCredentials(t.Credentials().ForExec(t.NoNewPrivs()))
	c := t.Credentials()
	if c.EffectiveUID == c.RealUID && c.EffectiveGID == c.RealGID {
		t.tg.ctl.dumpable.Store(1)
	} else {
		t.tg.ctl.dumpable.Store(0)
	}
}
