package kernel

import (
	"encoding/binary"
	"fmt"
	"time"

	"moat/platform"
	"moat/sentry/mm"

	"golang.org/x/sys/unix"
)

// Clone flags (linux/sched.h).
const (
	CLONE_VM             = 0x100
	CLONE_FS             = 0x200
	CLONE_FILES          = 0x400
	CLONE_SIGHAND        = 0x800
	CLONE_PIDFD          = 0x1000
	CLONE_PTRACE         = 0x2000
	CLONE_VFORK          = 0x4000
	CLONE_PARENT         = 0x8000
	CLONE_THREAD         = 0x10000
	CLONE_NEWNS          = 0x20000
	CLONE_SYSVSEM        = 0x40000
	CLONE_SETTLS         = 0x80000
	CLONE_PARENT_SETTID  = 0x100000
	CLONE_CHILD_CLEARTID = 0x200000
	CLONE_DETACHED       = 0x400000
	CLONE_UNTRACED       = 0x800000
	CLONE_CHILD_SETTID   = 0x1000000
	CLONE_NEWCGROUP      = 0x2000000
	CLONE_NEWUTS         = 0x4000000
	CLONE_NEWIPC         = 0x8000000
	CLONE_NEWUSER        = 0x10000000
	CLONE_NEWPID         = 0x20000000
	CLONE_NEWNET         = 0x40000000
	CLONE_IO             = 0x80000000

	// cloneSignalMask is CSIGNAL: the exit signal in clone's flags.
	cloneSignalMask = 0xff
	// cloneNamespaces are the flags that make new namespaces: the
	// sandbox refuses them with EPERM, as unshare and setns.
	cloneNamespaces = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
		CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
)

// CloneArgs are clone(2)'s arguments, decoded.
type CloneArgs struct {
	// Flags are the CLONE_* flags, without the exit signal.
	Flags uint64
	// ExitSignal is sent to the parent when a new process ends.
	ExitSignal unix.Signal
	// Stack is the child's stack pointer (0: the parent's).
	Stack uintptr
	// ParentTID and ChildTID are where CLONE_PARENT_SETTID,
	// CLONE_CHILD_SETTID and CLONE_CHILD_CLEARTID point.
	ParentTID, ChildTID uintptr
	// TLS is the child's thread pointer with CLONE_SETTLS.
	TLS uintptr
}

// checkCloneFlags applies the kernel's consistency rules (copy_process):
// EINVAL for impossible combinations, EPERM for namespaces.
func (t *Task) checkCloneFlags(a *CloneArgs) error {
	f := a.Flags
	switch {
	case f&(CLONE_NEWNS|CLONE_FS) == CLONE_NEWNS|CLONE_FS,
		f&(CLONE_NEWUSER|CLONE_FS) == CLONE_NEWUSER|CLONE_FS:
		return unix.EINVAL
	case f&CLONE_THREAD != 0 && f&CLONE_SIGHAND == 0:
		return unix.EINVAL
	case f&CLONE_SIGHAND != 0 && f&CLONE_VM == 0:
		return unix.EINVAL
	case f&CLONE_THREAD != 0 && f&(CLONE_NEWUSER|CLONE_NEWPID) != 0:
		return unix.EINVAL
	case f&CLONE_PIDFD != 0:
		// pidfds are not implemented; CLONE_PIDFD with CLONE_DETACHED
		// or CLONE_THREAD is EINVAL on Linux too.
		return unix.EINVAL
	case f&CLONE_PARENT != 0 && t.tg == t.k.init:
		// The namespace's init may not make siblings (SIGNAL_UNKILLABLE).
		return unix.EINVAL
	case f&cloneNamespaces != 0:
		return unix.EPERM
	}
	if a.ExitSignal != 0 && !ValidSignal(a.ExitSignal) {
		return unix.EINVAL
	}
	return nil
}

// Clone implements clone(2), fork(2) and vfork(2): it makes a new thread
// (CLONE_THREAD) or process and starts it, and returns its TID. With
// CLONE_VFORK it returns only once the child has exec'd or ended.
func (t *Task) Clone(a CloneArgs) (int32, error) {
	if err := t.checkCloneFlags(&a); err != nil {
		return 0, err
	}
	k := t.k
	f := a.Flags

	// The child's memory, files and file-system context: shared or copied.
	var cmm *mm.MemoryManager
	if f&CLONE_VM != 0 {
		cmm = t.mm
	} else {
		var err error
		if cmm, err = t.mm.Fork(); err != nil {
			k.log.Warn("fork of the address space failed", "pid", t.tg.pid, "err", err)
			return 0, unix.ENOMEM
		}
	}
	k.mmGet(cmm)
	fds := t.fds
	if f&CLONE_FILES == 0 {
		fds = t.fds.Fork()
	}
	fds.incUsers()
	fs := t.fs
	if f&CLONE_FS == 0 {
		fs = t.fs.Fork()
	}

	c := &Task{k: k, mm: cmm, fds: fds, fs: fs, wake: make(chan struct{}, 1), start: k.Uptime()}
	c.creds.Store(t.creds.Load())
	c.timer = time.NewTimer(time.Hour)
	c.timer.Stop()
	c.comm = t.commCopy()
	c.regs = t.regs
	c.inheritFP = t.copyFPState()
	c.regs.SetReturn(0)
	if a.Stack != 0 {
		c.regs.SetSP(a.Stack)
	}
	if f&CLONE_SETTLS != 0 {
		c.regs.SetTLS(a.TLS)
	}
	c.mask = t.SignalMask()
	// A thread sharing memory (but not a vfork child, which borrows the
	// parent's stack) does not inherit the alternate signal stack.
	if f&(CLONE_VM|CLONE_VFORK) != CLONE_VM {
		c.altStack = t.altStack
	}
	if f&CLONE_CHILD_CLEARTID != 0 {
		c.clearChildTID = a.ChildTID
	}
	if f&CLONE_VFORK != 0 {
		c.vforkDone = make(chan struct{})
	}
	vforkDone := c.vforkDone

	k.mu.Lock()
	tg := t.tg
	if tg.exitingLocked() {
		k.mu.Unlock()
		t.undoClone(c)
		return 0, ERESTARTNOINTR
	}
	tid := k.allocIDLocked()
	if tid < 0 {
		k.mu.Unlock()
		t.undoClone(c)
		return 0, unix.EAGAIN
	}
	c.tid = tid
	if f&CLONE_THREAD != 0 {
		c.tg = tg
		tg.mu.Lock()
		tg.tasks = append(tg.tasks, c)
		tg.mu.Unlock()
	} else {
		parent := tg
		if f&CLONE_PARENT != 0 {
			parent = tg.parent
		}
		ntg := &ThreadGroup{
			k:          k,
			pid:        tid,
			exitSignal: a.ExitSignal,
			start:      c.start,
			parent:     parent,
			children:   map[*ThreadGroup]struct{}{},
			pgid:       tg.pgid,
			sid:        tg.sid,
		}
		tg.mu.Lock()
		// CLONE_SIGHAND without CLONE_THREAD shares the handler table on
		// Linux; here the child gets a copy (a documented difference).
		ntg.actions = tg.actions
		ntg.umask = tg.umask
		ntg.rlimits = tg.rlimits
		ntg.exec.Store(tg.exec.Load())
		tg.mu.Unlock()
		ntg.tasks = []*Task{c}
		c.tg = ntg
		if parent != nil {
			parent.children[ntg] = struct{}{}
		}
		k.groups[tid] = ntg
	}
	k.tasks[tid] = c
	k.mu.Unlock()
	t.inheritSched(c)
	t.inheritControl(c, f&CLONE_THREAD == 0)

	// The TID stores happen before the child runs, as in the kernel.
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(tid))
	if f&CLONE_PARENT_SETTID != 0 {
		_, _ = t.mm.CopyOut(a.ParentTID, b[:])
	}
	if f&CLONE_CHILD_SETTID != 0 {
		_, _ = cmm.CopyOut(a.ChildTID, b[:])
	}

	started := make(chan error, 1)
	go c.run(started)
	if err := <-started; err != nil {
		k.log.Warn("clone: the new thread did not start", "pid", t.tg.pid, "err", err)
		return 0, unix.EAGAIN
	}
	if vforkDone != nil {
		t.waitVfork(vforkDone)
	}
	return tid, nil
}

// copyFPState returns a copy of t's floating-point and vector state
// (x87 control word, MXCSR, the registers), or nil where the platform
// cannot read it. A child starts with it, as on Linux.
func (t *Task) copyFPState() []byte {
	fpc, ok := t.ctx.(platform.FPContext)
	if !ok {
		return nil
	}
	buf := make([]byte, fpc.FPStateSize())
	n, err := fpc.FPState(buf)
	if err != nil {
		t.k.log.Warn("clone: reading the FP state failed; the child starts with a fresh one", "pid", t.tg.pid, "tid", t.tid, "err", err)
		return nil
	}
	return buf[:n]
}

// loadInheritedFP loads the FP state clone copied from the parent into
// t's new platform context.
//
// Preconditions: called on t's OS thread, before it first runs.
func (t *Task) loadInheritedFP() {
	fp := t.inheritFP
	t.inheritFP = nil
	if fp == nil {
		return
	}
	fpc, ok := t.ctx.(platform.FPContext)
	if !ok {
		return
	}
	if err := fpc.SetFPState(fp); err != nil {
		t.k.log.Warn("clone: loading the parent's FP state failed; the child starts with a fresh one", "pid", t.tg.pid, "tid", t.tid, "err", err)
	}
}

// undoClone drops what Clone took for a child that will not run.
func (t *Task) undoClone(c *Task) {
	t.k.mmPut(c.mm)
	c.fds.decUsers()
}

// waitVfork blocks the parent of a vfork until the child has exec'd or
// ended. Like the kernel's killable wait, only the parent's own exit (a
// fatal signal) ends it early; other signals are taken afterwards. Each
// kick leaves one token, so the loop does not spin.
func (t *Task) waitVfork(done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case <-t.wake:
			if t.leaving() {
				return
			}
		}
	}
}

// exitingLocked reports whether the group is ending.
func (tg *ThreadGroup) exitingLocked() bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.exiting
}

// allocIDLocked returns a free ID for a new task (which is also its
// process's PID), or -1 when the PID space is full.
//
// Preconditions: k.mu is locked.
func (k *Kernel) allocIDLocked() int32 {
	const pidMax = 1 << 22 // the kernel's PID_MAX_LIMIT on 64-bit
	for i := 0; i < pidMax; i++ {
		id := k.nextID
		k.nextID++
		if k.nextID >= pidMax {
			k.nextID = 2
		}
		_, usedT := k.tasks[id]
		_, usedG := k.groups[id]
		if !usedT && !usedG && !k.pgidInUseLocked(id) {
			return id
		}
	}
	return -1
}

// pgidInUseLocked reports whether a process group or session has ID id
// (a PID may not be reused while it names one).
//
// Preconditions: k.mu is locked.
func (k *Kernel) pgidInUseLocked(id int32) bool {
	for _, g := range k.groups {
		if g.pgid == id || g.sid == id {
			return true
		}
	}
	return false
}

// commCopy returns the thread's name buffer.
func (t *Task) commCopy() [16]byte {
	t.commMu.Lock()
	defer t.commMu.Unlock()
	return t.comm
}

// String names the task for logs.
func (t *Task) String() string { return fmt.Sprintf("task %d (pid %d)", t.tid, t.tg.pid) }
