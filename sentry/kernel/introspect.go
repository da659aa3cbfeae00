package kernel

import (
	"sort"

	"moat/sentry/fs/proc"
	"moat/sentry/loader"
	"moat/sentry/mm"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// The kernel as /proc sees it: *Kernel implements proc.Source. Every
// method takes its locks itself and returns snapshots; none is called
// with a kernel lock held.

// Caller implements proc.Source: the task a vfs call runs for.
func (k *Kernel) Caller(c *vfs.Creds) (pid, tid int32, ok bool) {
	if c == nil {
		return 0, 0, false
	}
	t, ok := c.Caller.(*Task)
	if !ok || t == nil || t.k != k {
		return 0, 0, false
	}
	return t.tg.pid, t.tid, true
}

// PIDs implements proc.Source: every process, zombies included.
func (k *Kernel) PIDs() []int32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	pids := make([]int32, 0, len(k.groups))
	for pid := range k.groups {
		pids = append(pids, pid)
	}
	sort.Slice(pids, func(i, j int) bool { return pids[i] < pids[j] })
	return pids
}

// Thread implements proc.Source.
func (k *Kernel) Thread(pid, tid int32) (proc.Thread, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	tg := k.groups[pid]
	if tg == nil {
		return nil, false
	}
	if t := k.tasks[tid]; t != nil && t.tg == tg {
		return procThread{tg: tg, t: t}, true
	}
	if tid == pid && tg.zombie {
		return procThread{tg: tg}, true
	}
	return nil, false
}

// Memory implements proc.Source: the host's figures as sysinfo gave them
// when the sandbox started (the sandbox has no memory limit of its own
// yet, so it sees the machine, as a container without a memory cgroup
// limit does).
func (k *Kernel) Memory() proc.Memory {
	h := k.hostMem
	return proc.Memory{
		Total: h.Total, Free: h.Free, Available: h.Free + h.Buffer,
		Shared: h.Shared, Buffers: h.Buffer,
		SwapTotal: h.TotalSwap, SwapFree: h.FreeSwap,
	}
}

// recordExec remembers, for /proc, what a successful exec of tg loaded:
// the executable (the interpreter of a "#!" script) and where argv and
// the environment lie.
func (k *Kernel) recordExec(tg *ThreadGroup, c *Credentials, exe *vfs.File, exePath string, res *loader.LoadResult, root, cwd vfs.Location) {
	e := &proc.Exec{
		Path: exePath, Loc: exe.Location(),
		ArgvStart: res.ArgvStart, ArgvEnd: res.ArgvEnd,
		EnvvStart: res.EnvvStart, EnvvEnd: res.EnvvEnd,
		Auxv: make([]uint64, 0, 2*len(res.Auxv)),
	}
	for _, a := range res.Auxv {
		e.Auxv = append(e.Auxv, a.Key, a.Val)
	}
	if res.Path != "" && res.Path != exePath {
		e.Path = res.Path
		e.Loc, _ = k.vfs.LookupAt(c.VFS(), root, cwd, res.Path, true)
	}
	tg.exec.Store(e)
}

// procThread is a thread (or a zombie process, t nil) for proc.
type procThread struct {
	tg *ThreadGroup
	t  *Task
}

// Status implements proc.Thread.
func (p procThread) Status() (proc.Status, bool) {
	k, tg := p.tg.k, p.tg
	var s proc.Status
	k.mu.Lock()
	s.PID, s.PGID, s.SID = tg.pid, tg.pgid, tg.sid
	if tg.parent != nil {
		s.PPID = tg.parent.pid
	}
	zombie := tg.zombie
	gone := p.t != nil && k.tasks[p.t.tid] != p.t
	s.ExitSignal = int32(tg.exitSignal)
	k.mu.Unlock()
	if gone || (p.t == nil && !zombie) {
		return proc.Status{}, false
	}
	tg.mu.Lock()
	s.Umask = tg.umask
	s.Threads = len(tg.tasks)
	s.ShdPnd = uint64(tg.pending)
	for i := range tg.actions {
		a := &tg.actions[i]
		bit := uint64(1) << i
		switch {
		case a.Handler == SIG_IGN:
			s.SigIgn |= bit
		case a.Handler != SIG_DFL:
			s.SigCgt |= bit
		}
	}
	tg.mu.Unlock()
	s.StartTime = tg.start
	if p.t == nil {
		// Linux counts the dead leader as the zombie's one thread.
		s.TID, s.State, s.Comm, s.Threads = tg.pid, 'Z', tg.lastComm(), 1
		return s, true
	}
	t := p.t
	s.TID = t.tid
	if t.tid == tg.pid {
		// The leader stands for the process: its CPU time is every
		// thread's (Linux sums them in /proc/[pid]/stat).
		s.UserTime, s.SystemTime = tg.CPUTimes()
	} else {
		s.StartTime = t.start
		s.UserTime, s.SystemTime = t.CPUTimes()
	}
	s.State = t.procState()
	s.Comm = t.Comm()
	cr := t.Credentials()
	s.UIDs = [4]uint32{cr.RealUID, cr.EffectiveUID, cr.SavedUID, cr.VFS().UID}
	s.GIDs = [4]uint32{cr.RealGID, cr.EffectiveGID, cr.SavedGID, cr.VFS().GID}
	s.CapInh, s.CapPrm, s.CapEff = uint64(cr.Inheritable), uint64(cr.Permitted), uint64(cr.Effective)
	s.CapBnd, s.CapAmb = uint64(cr.Bounding), uint64(cr.Ambient)
	s.Groups = cr.Groups
	t.sigMu.Lock()
	s.SigPnd, s.SigBlk = uint64(t.pending), uint64(t.mask)
	t.sigMu.Unlock()
	return s, true
}

// lastComm is the name a zombie shows: its leader's, which is gone, so
// the executable's base name.
func (tg *ThreadGroup) lastComm() string {
	e := tg.exec.Load()
	if e == nil {
		return ""
	}
	name := e.Path
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '/' {
			name = name[i+1:]
			break
		}
	}
	if len(name) > 15 {
		name = name[:15]
	}
	return name
}

// TIDs implements proc.Thread.
func (p procThread) TIDs() []int32 {
	p.tg.mu.Lock()
	defer p.tg.mu.Unlock()
	out := make([]int32, 0, len(p.tg.tasks))
	for _, t := range p.tg.tasks {
		out = append(out, t.tid)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// SetComm implements proc.Thread.
func (p procThread) SetComm(name []byte) {
	if p.t != nil {
		p.t.SetComm(name)
	}
}

// MM implements proc.Thread. Another task's mm is read without its
// owner's cooperation: it is only replaced by that task's execve.
func (p procThread) MM() *mm.MemoryManager {
	if p.t == nil {
		return nil
	}
	return p.t.mm
}

// FDs implements proc.Thread.
func (p procThread) FDs() []int32 {
	if p.t == nil || p.t.fds == nil {
		return nil
	}
	return p.t.fds.FDs()
}

// FD implements proc.Thread.
func (p procThread) FD(fd int32) (*vfs.File, bool, error) {
	if p.t == nil || p.t.fds == nil {
		return nil, false, unix.EBADF
	}
	f, err := p.t.fds.Get(fd)
	if err != nil {
		return nil, false, err
	}
	cloexec, err := p.t.fds.CloseOnExec(fd)
	if err != nil {
		f.DecRef()
		return nil, false, err
	}
	return f, cloexec, nil
}

// FSContext implements proc.Thread.
func (p procThread) FSContext() (root, cwd vfs.Location, ok bool) {
	if p.t == nil || p.t.fs == nil {
		return vfs.Location{}, vfs.Location{}, false
	}
	return p.t.fs.Root(), p.t.fs.Cwd(), true
}

// Exec implements proc.Thread.
func (p procThread) Exec() proc.Exec {
	if e := p.tg.exec.Load(); e != nil {
		return *e
	}
	return proc.Exec{}
}

// Limits implements proc.Thread.
func (p procThread) Limits() []proc.Rlimit {
	p.tg.mu.Lock()
	defer p.tg.mu.Unlock()
	out := make([]proc.Rlimit, len(p.tg.rlimits))
	for i, r := range p.tg.rlimits {
		out[i] = proc.Rlimit{Cur: r.Cur, Max: r.Max}
	}
	return out
}

var _ proc.Source = (*Kernel)(nil)
