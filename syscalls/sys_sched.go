package syscalls

import (
	"math/bits"
	"time"

	"moat/platform/arch"
	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

// Scheduling calls. The host schedules the sandbox's threads: policies,
// priorities, nice values, CPU masks and I/O priorities are checked with
// Linux's rules, recorded per thread (kernel.SchedAttr), inherited by
// fork and reported back, but do not change how the host runs a thread.

const (
	// schedResetOnFork is SCHED_RESET_ON_FORK, or'ed into a policy.
	schedResetOnFork = 0x40000000
	// maxRTPrio is MAX_RT_PRIO - 1: real-time priorities are 1..99.
	maxRTPrio = 99
	// sched_attr sizes: VER0 (up to sched_period) and VER1 (with the
	// utilization clamps), the one this surface knows.
	schedAttrSizeVer0 = 48
	schedAttrSizeVer1 = 56
	// sched_attr.sched_flags.
	schedFlagResetOnFork = 0x01
	schedFlagReclaim     = 0x02
	schedFlagDLOverrun   = 0x04
	schedFlagKeepPolicy  = 0x08
	schedFlagKeepParams  = 0x10
	schedFlagUtilMin     = 0x20
	schedFlagUtilMax     = 0x40
	schedFlagAll         = 0x7f
	schedAttrMax         = 4096 // PAGE_SIZE: the largest sched_attr accepted
)

// schedTarget finds the thread a scheduling call names: 0 is the
// caller; EINVAL for a negative pid, ESRCH for none.
func schedTarget(t *kernel.Task, pid int32) (*kernel.Task, error) {
	if pid < 0 {
		return nil, unix.EINVAL
	}
	if pid == 0 {
		return t, nil
	}
	o := t.Kernel().TaskByTID(pid)
	if o == nil {
		return nil, unix.ESRCH
	}
	return o, nil
}

// sameOwner is check_same_owner: the caller's euid is the target's real
// or effective uid.
func sameOwner(t, o *kernel.Task) bool {
	c, oc := t.Credentials(), o.Credentials()
	return c.EffectiveUID == oc.RealUID || c.EffectiveUID == oc.EffectiveUID
}

// rlimitCur returns the soft limit of resource for o's process.
func rlimitCur(o *kernel.Task, resource int) uint64 {
	l, err := o.ThreadGroup().Rlimit(resource)
	if err != nil {
		return 0
	}
	return l.Cur
}

// canNice is can_nice: nice may go down to n within RLIMIT_NICE
// (20 - n) or with CAP_SYS_NICE.
func canNice(t, o *kernel.Task, n int32) bool {
	return uint64(20-n) <= rlimitCur(o, unix.RLIMIT_NICE) || t.Credentials().HasCap(unix.CAP_SYS_NICE)
}

func rtPolicy(p int32) bool { return p == kernel.SchedFIFO || p == kernel.SchedRR }

func fairPolicy(p int32) bool {
	return p == kernel.SchedOther || p == kernel.SchedBatch || p == kernel.SchedIdle
}

func validPolicy(p int32) bool { return fairPolicy(p) || rtPolicy(p) || p == kernel.SchedDeadline }

// setSched is __sched_setscheduler for the policies and fields this
// surface records: a the new attributes (Policy -1 keeps the policy),
// nice whether a.Nice applies (sched_setattr on a fair policy).
func setSched(t, o *kernel.Task, a kernel.SchedAttr, setNice bool) error {
	cur := o.SchedAttr()
	if a.Policy < 0 {
		a.Policy = cur.Policy
		a.ResetOnFork = cur.ResetOnFork
	}
	if !validPolicy(a.Policy) {
		return unix.EINVAL
	}
	if a.Priority < 0 || a.Priority > maxRTPrio || rtPolicy(a.Policy) != (a.Priority != 0) {
		return unix.EINVAL
	}
	if a.Policy == kernel.SchedDeadline {
		// SCHED_DEADLINE needs runtime/deadline/period: refused as a
		// kernel without deadline bandwidth for the caller would.
		return unix.EPERM
	}
	if !setNice {
		a.Nice = cur.Nice
	}
	if !t.Credentials().HasCap(unix.CAP_SYS_NICE) {
		if fairPolicy(a.Policy) && setNice && a.Nice < cur.Nice && !canNice(t, o, a.Nice) {
			return unix.EPERM
		}
		if rtPolicy(a.Policy) {
			rl := rlimitCur(o, unix.RLIMIT_RTPRIO)
			if a.Policy != cur.Policy && rl == 0 {
				return unix.EPERM
			}
			if a.Priority > cur.Priority && uint64(a.Priority) > rl {
				return unix.EPERM
			}
		}
		if cur.Policy == kernel.SchedIdle && a.Policy != kernel.SchedIdle && !canNice(t, o, cur.Nice) {
			return unix.EPERM
		}
		if !sameOwner(t, o) {
			return unix.EPERM
		}
		if cur.ResetOnFork && !a.ResetOnFork {
			return unix.EPERM
		}
	}
	o.SetSchedAttr(a)
	return nil
}

// copyInSchedParam reads struct sched_param (one int).
func copyInSchedParam(t *kernel.Task, addr uintptr) (int32, error) {
	if addr == 0 {
		return 0, unix.EINVAL
	}
	b := t.Scratch()[:4]
	if err := copyInAll(t, addr, b); err != nil {
		return 0, err
	}
	return int32(le.Uint32(b)), nil
}

// sysSchedSetscheduler implements sched_setscheduler(2).
func sysSchedSetscheduler(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	pid, policy := int32(a.Int(0)), int32(a.Int(1))
	if pid < 0 || a[2] == 0 {
		return 0, unix.EINVAL
	}
	prio, err := copyInSchedParam(t, a[2])
	if err != nil {
		return 0, err
	}
	if policy < 0 {
		return 0, unix.EINVAL
	}
	o, err := schedTarget(t, pid)
	if err != nil {
		return 0, err
	}
	reset := policy&schedResetOnFork != 0
	policy &^= schedResetOnFork
	return 0, setSched(t, o, kernel.SchedAttr{Policy: policy, Priority: prio, ResetOnFork: reset}, false)
}

// sysSchedSetparam implements sched_setparam(2): the priority under the
// current policy.
func sysSchedSetparam(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	pid := int32(a.Int(0))
	if pid < 0 || a[1] == 0 {
		return 0, unix.EINVAL
	}
	prio, err := copyInSchedParam(t, a[1])
	if err != nil {
		return 0, err
	}
	o, err := schedTarget(t, pid)
	if err != nil {
		return 0, err
	}
	return 0, setSched(t, o, kernel.SchedAttr{Policy: -1, Priority: prio}, false)
}

// sysSchedGetscheduler implements sched_getscheduler(2).
func sysSchedGetscheduler(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	o, err := schedTarget(t, int32(a.Int(0)))
	if err != nil {
		return 0, err
	}
	at := o.SchedAttr()
	p := uintptr(at.Policy)
	if at.ResetOnFork {
		p |= schedResetOnFork
	}
	return p, nil
}

// sysSchedGetparam implements sched_getparam(2).
func sysSchedGetparam(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	pid := int32(a.Int(0))
	if pid < 0 || a[1] == 0 {
		return 0, unix.EINVAL
	}
	o, err := schedTarget(t, pid)
	if err != nil {
		return 0, err
	}
	return 0, copyOutU32(t, a[1], uint32(o.SchedAttr().Priority))
}

// sysSchedGetPriorityMax implements sched_get_priority_max(2).
func sysSchedGetPriorityMax(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	p := int32(a.Int(0))
	switch {
	case rtPolicy(p):
		return maxRTPrio, nil
	case validPolicy(p):
		return 0, nil
	}
	return 0, unix.EINVAL
}

// sysSchedGetPriorityMin implements sched_get_priority_min(2).
func sysSchedGetPriorityMin(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	p := int32(a.Int(0))
	switch {
	case rtPolicy(p):
		return 1, nil
	case validPolicy(p):
		return 0, nil
	}
	return 0, unix.EINVAL
}

// rrTimeslice is RR_TIMESLICE (100 ms); fairSlice stands for CFS's slice
// of a thread, which on Linux depends on the load: one 4 ms tick.
const (
	rrTimeslice = 100 * time.Millisecond
	fairSlice   = 4 * time.Millisecond
)

// sysSchedRrGetInterval implements sched_rr_get_interval(2).
func sysSchedRrGetInterval(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	o, err := schedTarget(t, int32(a.Int(0)))
	if err != nil {
		return 0, err
	}
	var d time.Duration
	switch o.SchedAttr().Policy {
	case kernel.SchedRR:
		d = rrTimeslice
	case kernel.SchedFIFO:
		d = 0
	default:
		d = fairSlice
	}
	return 0, copyOutTimespec(t, a[1], timespec{int64(d / time.Second), int64(d % time.Second)})
}

// sysSchedSetattr implements sched_setattr(2) with copy_struct_from_user's
// size rules.
func sysSchedSetattr(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	pid, addr, flags := int32(a.Int(0)), a[1], a.Uint(2)
	if addr == 0 || pid < 0 || flags != 0 {
		return 0, unix.EINVAL
	}
	b := t.Scratch()[:schedAttrSizeVer1]
	clear(b)
	if err := copyInAll(t, addr, b[:4]); err != nil {
		return 0, err
	}
	size := uintptr(le.Uint32(b))
	if size == 0 {
		size = schedAttrSizeVer0
	}
	if size < schedAttrSizeVer0 || size > schedAttrMax {
		// Linux tells the caller the size it knows.
		_ = copyOutU32(t, addr, schedAttrSizeVer1)
		return 0, unix.E2BIG
	}
	n := min(size, schedAttrSizeVer1)
	if err := copyInAll(t, addr, b[:n]); err != nil {
		return 0, err
	}
	if size > schedAttrSizeVer1 {
		// The tail the kernel does not know must be zeros.
		rest := make([]byte, size-schedAttrSizeVer1)
		if err := copyInAll(t, addr+schedAttrSizeVer1, rest); err != nil {
			return 0, err
		}
		for _, c := range rest {
			if c != 0 {
				_ = copyOutU32(t, addr, schedAttrSizeVer1)
				return 0, unix.E2BIG
			}
		}
	}
	policy := int32(le.Uint32(b[4:]))
	sflags := le.Uint64(b[8:])
	nice := int32(le.Uint32(b[16:]))
	prio := le.Uint32(b[20:])
	if sflags&(schedFlagUtilMin|schedFlagUtilMax) != 0 && size < schedAttrSizeVer1 {
		return 0, unix.EINVAL
	}
	nice = max(-20, min(19, nice))
	if policy < 0 {
		return 0, unix.EINVAL
	}
	if sflags&^schedFlagAll != 0 {
		return 0, unix.EINVAL
	}
	if sflags&(schedFlagUtilMin|schedFlagUtilMax) != 0 {
		// Utilization clamps need CONFIG_UCLAMP_TASK: not offered.
		return 0, unix.EOPNOTSUPP
	}
	if prio > maxRTPrio {
		return 0, unix.EINVAL
	}
	o, err := schedTarget(t, pid)
	if err != nil {
		return 0, err
	}
	na := kernel.SchedAttr{Policy: policy, Priority: int32(prio), Nice: nice, ResetOnFork: sflags&schedFlagResetOnFork != 0}
	if sflags&schedFlagKeepPolicy != 0 {
		na.Policy = -1
	}
	if sflags&schedFlagKeepParams != 0 {
		cur := o.SchedAttr()
		na.Priority = cur.Priority
	}
	if na.Policy >= 0 && na.Policy == kernel.SchedDeadline {
		return 0, unix.EINVAL
	}
	setNice := na.Policy < 0 && fairPolicy(o.SchedAttr().Policy) || fairPolicy(na.Policy)
	if na.Policy < 0 {
		na.ResetOnFork = sflags&schedFlagResetOnFork != 0
		cur := o.SchedAttr()
		na.Policy = cur.Policy
	}
	return 0, setSched(t, o, na, setNice)
}

// sysSchedGetattr implements sched_getattr(2).
func sysSchedGetattr(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	pid, addr, usize, flags := int32(a.Int(0)), a[1], a.Uint(2), a.Uint(3)
	if addr == 0 || pid < 0 || usize > schedAttrMax || usize < schedAttrSizeVer0 || flags != 0 {
		return 0, unix.EINVAL
	}
	o, err := schedTarget(t, pid)
	if err != nil {
		return 0, err
	}
	at := o.SchedAttr()
	n := min(uintptr(usize), schedAttrSizeVer1)
	b := t.Scratch()[:schedAttrSizeVer1]
	clear(b)
	le.PutUint32(b, uint32(n))
	le.PutUint32(b[4:], uint32(at.Policy))
	if at.ResetOnFork {
		le.PutUint64(b[8:], schedFlagResetOnFork)
	}
	if fairPolicy(at.Policy) {
		le.PutUint32(b[16:], uint32(at.Nice))
	}
	if rtPolicy(at.Policy) {
		le.PutUint32(b[20:], uint32(at.Priority))
	}
	return 0, copyOutAll(t, addr, b[:n])
}

// cpuMaskBytes is cpumask_size(): whole longs covering the sandbox's CPUs.
func cpuMaskBytes(ncpu int) uintptr { return uintptr((ncpu + 63) / 64 * 8) }

// sysSchedSetaffinity implements sched_setaffinity(2): the mask, cut to
// the sandbox's CPUs, must keep at least one (EINVAL otherwise).
func sysSchedSetaffinity(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	pid, size, addr := int32(a.Int(0)), a[1], a[2]
	ncpu := t.Kernel().NumCPU()
	want := cpuMaskBytes(ncpu)
	b := make([]byte, want)
	// Linux reads what the caller gave, up to its own mask size; a
	// shorter mask leaves the CPUs beyond it clear.
	if err := copyInAll(t, addr, b[:min(size, want)]); err != nil {
		return 0, err
	}
	mask := make([]uint64, len(b)/8)
	any := false
	for i := 0; i < ncpu; i++ {
		if b[i/8]&(1<<(i%8)) != 0 {
			mask[i/64] |= 1 << (i % 64)
			any = true
		}
	}
	o, err := schedTarget(t, pid)
	if err != nil {
		return 0, err
	}
	if !sameOwner(t, o) && !t.Credentials().HasCap(unix.CAP_SYS_NICE) {
		return 0, unix.EPERM
	}
	if !any {
		return 0, unix.EINVAL
	}
	o.SetAffinity(mask)
	return 0, nil
}

// sysSchedGetaffinity implements sched_getaffinity(2): the mask set by
// sched_setaffinity, or every CPU of the sandbox; it returns the size of
// the kernel's cpumask.
func sysSchedGetaffinity(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	pid, size, addr := int32(a.Int(0)), a[1], a[2]
	ncpu := t.Kernel().NumCPU()
	maskSize := cpuMaskBytes(ncpu)
	if size*8 < uintptr(ncpu) || size&7 != 0 {
		return 0, unix.EINVAL
	}
	o, err := schedTarget(t, pid)
	if err != nil {
		return 0, err
	}
	b := make([]byte, maskSize)
	mask := o.Affinity()
	for i := 0; i < ncpu; i++ {
		if mask == nil || mask[i/64]&(1<<(i%64)) != 0 {
			b[i/8] |= 1 << (i % 8)
		}
	}
	if err := copyOutAll(t, addr, b); err != nil {
		return 0, err
	}
	return maskSize, nil
}

// sysGetcpu implements getcpu(2): the lowest CPU the thread may run on
// (the host decides where it really runs) and node 0.
func sysGetcpu(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	cpu := 0
	if mask := t.Affinity(); mask != nil {
		for i, w := range mask {
			if w != 0 {
				cpu = i*64 + bits.TrailingZeros64(w)
				break
			}
		}
	}
	if a[0] != 0 {
		if err := copyOutU32(t, a[0], uint32(cpu)); err != nil {
			return 0, err
		}
	}
	if a[1] != 0 {
		if err := copyOutU32(t, a[1], 0); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// setpriority/getpriority's which.
const (
	prioProcess = 0
	prioPgrp    = 1
	prioUser    = 2
)

// prioTargets returns the threads which and who name (who 0: the
// caller's thread, process group or real uid).
func prioTargets(t *kernel.Task, which int, who int32) ([]*kernel.Task, error) {
	k := t.Kernel()
	switch which {
	case prioProcess:
		if who == 0 {
			return []*kernel.Task{t}, nil
		}
		if o := k.TaskByTID(who); o != nil {
			return []*kernel.Task{o}, nil
		}
		return nil, nil
	case prioPgrp:
		if who == 0 {
			who = t.ThreadGroup().PGID()
		}
		var out []*kernel.Task
		for _, tg := range k.ProcessGroup(who) {
			out = append(out, tg.Tasks()...)
		}
		return out, nil
	case prioUser:
		uid := uint32(who)
		if who == 0 {
			uid = t.Credentials().RealUID
		}
		var out []*kernel.Task
		for _, o := range k.AllTasks() {
			if o.Credentials().RealUID == uid {
				out = append(out, o)
			}
		}
		return out, nil
	}
	return nil, unix.EINVAL
}

// sysGetpriority implements getpriority(2) as the raw call does: 20 -
// nice of the highest-priority match (1 to 40), ESRCH for none.
func sysGetpriority(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	ts, err := prioTargets(t, int(a.Int(0)), int32(a.Int(1)))
	if err != nil {
		return 0, err
	}
	best := int32(-1)
	for _, o := range ts {
		if v := 20 - o.SchedAttr().Nice; v > best {
			best = v
		}
	}
	if best < 0 {
		return 0, unix.ESRCH
	}
	return uintptr(best), nil
}

// sysSetpriority implements setpriority(2): EPERM for another user's
// thread without CAP_SYS_NICE, EACCES for lowering nice past RLIMIT_NICE.
func sysSetpriority(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	nice := max(-20, min(19, int32(a.Int(2))))
	ts, err := prioTargets(t, int(a.Int(0)), int32(a.Int(1)))
	if err != nil {
		return 0, err
	}
	if len(ts) == 0 {
		return 0, unix.ESRCH
	}
	c := t.Credentials()
	var ret error
	for _, o := range ts {
		oc := o.Credentials()
		if oc.RealUID != c.EffectiveUID && oc.EffectiveUID != c.EffectiveUID && !c.HasCap(unix.CAP_SYS_NICE) {
			ret = unix.EPERM
			continue
		}
		cur := o.SchedAttr()
		if nice < cur.Nice && !canNice(t, o, nice) {
			ret = unix.EACCES
			continue
		}
		cur.Nice = nice
		o.SetSchedAttr(cur)
	}
	return 0, ret
}

// sysPersonality implements personality(2): 0xffffffff queries; any
// other value is recorded (Linux checks none). ADDR_NO_RANDOMIZE makes
// the next execve's layout fixed (kernel.ThreadGroup.noRandomize); the
// other flags are only recorded.
func sysPersonality(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	p := uint32(a[0])
	if p == 0xffffffff {
		return uintptr(t.Personality()), nil
	}
	return uintptr(t.SetPersonality(p)), nil
}

// ioprio classes and who values.
const (
	ioprioClassNone = 0
	ioprioClassRT   = 1
	ioprioClassBE   = 2
	ioprioClassIdle = 3
	ioprioWhoProc   = 1
	ioprioWhoPgrp   = 2
	ioprioWhoUser   = 3
	ioprioNrLevels  = 8
)

// ioprioTargets maps ioprio's which/who onto setpriority's.
func ioprioTargets(t *kernel.Task, which int, who int32) ([]*kernel.Task, error) {
	switch which {
	case ioprioWhoProc:
		return prioTargets(t, prioProcess, who)
	case ioprioWhoPgrp:
		return prioTargets(t, prioPgrp, who)
	case ioprioWhoUser:
		return prioTargets(t, prioUser, who)
	}
	return nil, unix.EINVAL
}

// sysIoprioSet implements ioprio_set(2).
func sysIoprioSet(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	// The low 3 bits are the level, bits 3-12 hints (Linux 6.5 on).
	prio := int32(a.Int(2))
	class, level := prio>>13&7, prio&7
	c := t.Credentials()
	switch class {
	case ioprioClassRT:
		if !c.HasCap(unix.CAP_SYS_ADMIN) && !c.HasCap(unix.CAP_SYS_NICE) {
			return 0, unix.EPERM
		}
		fallthrough
	case ioprioClassBE:
		if level >= ioprioNrLevels {
			return 0, unix.EINVAL
		}
	case ioprioClassIdle:
	case ioprioClassNone:
		if level != 0 {
			return 0, unix.EINVAL
		}
	default:
		return 0, unix.EINVAL
	}
	ts, err := ioprioTargets(t, int(a.Int(0)), int32(a.Int(1)))
	if err != nil {
		return 0, err
	}
	if len(ts) == 0 {
		return 0, unix.ESRCH
	}
	for _, o := range ts {
		oc := o.Credentials()
		if oc.RealUID != c.EffectiveUID && oc.RealUID != c.RealUID && !c.HasCap(unix.CAP_SYS_NICE) {
			return 0, unix.EPERM
		}
		o.SetIOPrio(prio)
	}
	return 0, nil
}

// ioprioDefault is what a thread that never set an I/O priority reports
// (IOPRIO_CLASS_NONE, level 4: the best-effort level of nice 0) on the
// Linux this surface is modelled on.
const ioprioDefault = 4

// sysIoprioGet implements ioprio_get(2): the best priority of the
// matches (the lowest class number, then level).
func sysIoprioGet(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	ts, err := ioprioTargets(t, int(a.Int(0)), int32(a.Int(1)))
	if err != nil {
		return 0, err
	}
	if len(ts) == 0 {
		return 0, unix.ESRCH
	}
	best := int32(-1)
	for _, o := range ts {
		p := o.IOPrio()
		if p == 0 {
			p = ioprioDefault
		}
		if best < 0 || ioprioBetter(p, best) {
			best = p
		}
	}
	return uintptr(best), nil
}

// ioprioBetter is ioprio_best's order: a class of NONE counts as BE.
func ioprioBetter(p, q int32) bool {
	cp, cq := p>>13, q>>13
	if cp == ioprioClassNone {
		cp = ioprioClassBE
	}
	if cq == ioprioClassNone {
		cq = ioprioClassBE
	}
	if cp != cq {
		return cp < cq
	}
	return p&0x1fff < q&0x1fff
}
