package ipc

import (
	"runtime"
	"time"

	"moat/sentry/kernel"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Semaphore limits: Linux's defaults since 3.19.
const (
	SemMsl = 32000
	SemMns = 1024000000
	SemOpm = 500
	SemMni = 32000
	SemVmx = 32767
	SemAem = SemVmx
	semUsz = 20
)

// semctl commands and semop flags.
const (
	GetPid    = 11
	GetVal    = 12
	GetAll    = 13
	GetNcnt   = 14
	GetZcnt   = 15
	SetVal    = 16
	SetAll    = 17
	SemStat   = 18
	SemInfo   = 19
	SemStatAn = 20
	SemUndo   = 0x1000
)

type semaphore struct {
	val        int
	pid        int32
	ncnt, zcnt int
}

// SemSet is a semaphore set.
type SemSet struct {
	p     Perm
	sems  []semaphore
	otime time.Time
	w     waiter
}

func (s *SemSet) perm() *Perm { return &s.p }

// undoList is a process's SEM_UNDO adjustments: per set, per semaphore.
type undoList map[*SemSet]map[int]int

// SemGet implements semget(2).
func (ns *Namespace) SemGet(c Cred, key int32, nsems int, flg int) (int32, error) {
	if nsems < 0 || nsems > SemMsl {
		return 0, unix.EINVAL
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	check := func(s *SemSet) error {
		if nsems > len(s.sems) {
			return unix.EINVAL
		}
		return nil
	}
	mk := func() (*SemSet, error) {
		if nsems == 0 {
			return nil, unix.EINVAL
		}
		used := 0
		for _, s := range ns.sem.objs {
			used += len(s.sems)
		}
		if used+nsems > SemMns {
			return nil, unix.ENOSPC
		}
		return &SemSet{sems: make([]semaphore, nsems)}, nil
	}
	return get(&ns.sem, c, key, flg, check, mk)
}

// SemOp is one struct sembuf.
type SemOp struct {
	Num uint16
	Op  int16
	Flg int16
}

// semUndoKey is the AtExit key of a process's undo list.
type semUndoKey struct{ ns *Namespace }

// SemTimedOp implements semop(2) and semtimedop(2): the operations apply
// all at once or not at all, sleeping (until deadline, zero for none)
// while one cannot. EINTR on a signal (semop is never restarted), EIDRM
// if the set is removed meanwhile.
func (ns *Namespace) SemTimedOp(c Cred, tg *kernel.ThreadGroup, in vfs.Blocker, id int32, ops []SemOp, deadline time.Time) error {
	if len(ops) < 1 {
		return unix.EINVAL
	}
	if len(ops) > SemOpm {
		return unix.E2BIG
	}
	ns.mu.Lock()
	s, err := ns.sem.byID(id)
	if err != nil {
		ns.mu.Unlock()
		return err
	}
	alter, undo := false, false
	for _, o := range ops {
		if int(o.Num) >= len(s.sems) {
			ns.mu.Unlock()
			return unix.EFBIG
		}
		if o.Op != 0 {
			alter = true
		}
		if o.Flg&SemUndo != 0 {
			undo = true
		}
	}
	may := uint32(4)
	if alter {
		may = 2
	}
	if !s.p.Permits(c, may) {
		ns.mu.Unlock()
		return unix.EACCES
	}
	var ul undoList
	if undo {
		ul = ns.undoOf(tg)
	}
	blockedOn := -1
	defer func() {
		if blockedOn >= 0 {
			ns.unblock(s, ops[blockedOn])
		}
		ns.mu.Unlock()
	}()
	for {
		if s.p.removed {
			return unix.EIDRM
		}
		i, err := ns.trySemOps(s, ops, c.PID, ul)
		if err == nil {
			return nil
		}
		if err != unix.EAGAIN {
			return err
		}
		if ops[i].Flg&IPCNoWait != 0 {
			return unix.EAGAIN
		}
		if blockedOn != i {
			if blockedOn >= 0 {
				ns.unblock(s, ops[blockedOn])
			}
			blockedOn = i
			if ops[i].Op < 0 {
				s.sems[ops[i].Num].ncnt++
			} else {
				s.sems[ops[i].Num].zcnt++
			}
		}
		ch := s.w.wait()
		ns.mu.Unlock()
		err = in.Block(ch, deadline)
		ns.mu.Lock()
		if err == unix.ETIMEDOUT {
			return unix.EAGAIN
		}
		if err != nil {
			return err
		}
	}
}

// unblock undoes the wait count of op.
//
// Preconditions: ns.mu is locked.
func (ns *Namespace) unblock(s *SemSet, op SemOp) {
	if int(op.Num) >= len(s.sems) {
		return
	}
	if op.Op < 0 {
		s.sems[op.Num].ncnt--
	} else {
		s.sems[op.Num].zcnt--
	}
}

// trySemOps applies ops if they can all proceed now. Otherwise it
// changes nothing and returns the index of the op that would block
// (EAGAIN), or ERANGE.
//
// Preconditions: ns.mu is locked.
func (ns *Namespace) trySemOps(s *SemSet, ops []SemOp, pid int32, ul undoList) (int, error) {
	vals := make([]int, len(s.sems))
	for i := range s.sems {
		vals[i] = s.sems[i].val
	}
	for i, o := range ops {
		v := vals[o.Num]
		switch {
		case o.Op == 0:
			if v != 0 {
				return i, unix.EAGAIN
			}
		case int(o.Op)+v < 0:
			return i, unix.EAGAIN
		case int(o.Op)+v > SemVmx:
			return i, unix.ERANGE
		}
		vals[o.Num] = v + int(o.Op)
		if o.Flg&SemUndo != 0 && ul != nil {
			adj := ul[s][int(o.Num)] - int(o.Op)
			if adj < -SemAem-1 || adj > SemAem {
				return i, unix.ERANGE
			}
		}
	}
	for _, o := range ops {
		if o.Flg&SemUndo != 0 && ul != nil && o.Op != 0 {
			m := ul[s]
			if m == nil {
				m = map[int]int{}
				ul[s] = m
			}
			m[int(o.Num)] -= int(o.Op)
		}
	}
	for i := range s.sems {
		if s.sems[i].val != vals[i] {
			s.sems[i].val = vals[i]
		}
	}
	for _, o := range ops {
		s.sems[o.Num].pid = pid
	}
	s.otime = time.Now()
	s.w.wake()
	return 0, nil
}

// undoOf returns tg's undo list, registering its application at exit.
//
// Preconditions: ns.mu is locked.
func (ns *Namespace) undoOf(tg *kernel.ThreadGroup) undoList {
	if ns.undo == nil {
		ns.undo = map[*kernel.ThreadGroup]undoList{}
	}
	ul := ns.undo[tg]
	if ul == nil {
		ul = undoList{}
		ns.undo[tg] = ul
		pid := tg.PID()
		tg.AtExit(semUndoKey{ns}, func() { ns.exitUndo(tg, pid) })
	}
	return ul
}

// exitUndo applies a process's adjustments when it exits, clamping each
// value to [0, SEMVMX] as Linux's exit_sem does.
func (ns *Namespace) exitUndo(tg *kernel.ThreadGroup, pid int32) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	ul := ns.undo[tg]
	delete(ns.undo, tg)
	for s, adj := range ul {
		if s.p.removed {
			continue
		}
		for n, a := range adj {
			v := min(max(s.sems[n].val+a, 0), SemVmx)
			s.sems[n].val = v
			s.sems[n].pid = pid
		}
		s.w.wake()
	}
}

// clearUndoLocked drops every process's adjustment of semaphore n of s
// (n < 0: of the whole set), as SETVAL, SETALL and IPC_RMID do.
//
// Preconditions: ns.mu is locked.
func (ns *Namespace) clearUndoLocked(s *SemSet, n int) {
	for _, ul := range ns.undo {
		if n < 0 {
			delete(ul, s)
		} else if m := ul[s]; m != nil {
			delete(m, n)
		}
	}
}

// semid64DSSize is sizeof(struct semid64_ds): x86_64 has padding words
// after each time that the generic layout (arm64) lacks.
func semid64DSLayout() (size, otime, ctime, nsems int) {
	if runtime.GOARCH == "amd64" {
		return 104, 48, 64, 80
	}
	return 88, 48, 56, 64
}

// SemDSSize is the size of struct semid64_ds on this architecture.
func SemDSSize() int { s, _, _, _ := semid64DSLayout(); return s }

// SemCtl implements semctl(2). arg is the raw fourth argument (SETVAL's
// value); buf is filled or read per cmd (IPC_STAT, IPC_SET, *_INFO:
// the structure; GETALL, SETALL: the values as unsigned shorts, sized
// with SemNum first).
func (ns *Namespace) SemCtl(c Cred, id int32, num int, cmd int, arg int32, buf []byte) (int32, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	switch cmd {
	case IPCInfo, SemInfo:
		clear(buf[:40])
		used := 0
		for _, s := range ns.sem.objs {
			used += len(s.sems)
		}
		vals := []int32{SemMns, SemMni, SemMns, SemMns, SemMsl, SemOpm, SemOpm, semUsz, SemVmx, SemAem}
		if cmd == SemInfo {
			vals[7], vals[9] = int32(len(ns.sem.objs)), int32(used)
		}
		for i, v := range vals {
			le.PutUint32(buf[i*4:], uint32(v))
		}
		return int32(max(ns.sem.highest(), 0)), nil
	case SemStat, SemStatAn, IPCStat:
		var s *SemSet
		var err error
		if cmd == IPCStat {
			s, err = ns.sem.byID(id)
		} else {
			s, err = ns.sem.byIndex(id)
		}
		if err != nil {
			return 0, err
		}
		if cmd != SemStatAn && !s.p.Permits(c, 4) {
			return 0, unix.EACCES
		}
		size, ot, ct, nt := semid64DSLayout()
		clear(buf[:size])
		s.p.Encode(buf)
		le.PutUint64(buf[ot:], uint64(unixTime(s.otime)))
		le.PutUint64(buf[ct:], uint64(unixTime(s.p.changeTime)))
		le.PutUint64(buf[nt:], uint64(len(s.sems)))
		if cmd == IPCStat {
			return 0, nil
		}
		return s.p.ID, nil
	}
	s, err := ns.sem.byID(id)
	if err != nil {
		return 0, err
	}
	switch cmd {
	case IPCSet, IPCRmid:
		if !s.p.mayChange(c) {
			return 0, unix.EPERM
		}
		if cmd == IPCSet {
			s.p.setFrom(buf)
			s.p.changeTime = time.Now()
			return 0, nil
		}
		ns.clearUndoLocked(s, -1)
		ns.sem.remove(s)
		s.w.wake()
		return 0, nil
	case GetVal, GetPid, GetNcnt, GetZcnt, GetAll:
		if !s.p.Permits(c, 4) {
			return 0, unix.EACCES
		}
		if cmd == GetAll {
			for i, sm := range s.sems {
				le.PutUint16(buf[i*2:], uint16(sm.val))
			}
			return 0, nil
		}
		if num < 0 || num >= len(s.sems) {
			return 0, unix.EINVAL
		}
		sm := s.sems[num]
		switch cmd {
		case GetVal:
			return int32(sm.val), nil
		case GetPid:
			return sm.pid, nil
		case GetNcnt:
			return int32(sm.ncnt), nil
		}
		return int32(sm.zcnt), nil
	case SetVal:
		if num < 0 || num >= len(s.sems) {
			return 0, unix.EINVAL
		}
		if arg < 0 || arg > SemVmx {
			return 0, unix.ERANGE
		}
		if !s.p.Permits(c, 2) {
			return 0, unix.EACCES
		}
		ns.clearUndoLocked(s, num)
		s.sems[num].val = int(arg)
		s.sems[num].pid = c.PID
		s.p.changeTime = time.Now()
		s.w.wake()
		return 0, nil
	case SetAll:
		if !s.p.Permits(c, 2) {
			return 0, unix.EACCES
		}
		for i := range s.sems {
			if le.Uint16(buf[i*2:]) > SemVmx {
				return 0, unix.ERANGE
			}
		}
		ns.clearUndoLocked(s, -1)
		for i := range s.sems {
			s.sems[i].val = int(le.Uint16(buf[i*2:]))
			s.sems[i].pid = c.PID
		}
		s.p.changeTime = time.Now()
		s.w.wake()
		return 0, nil
	}
	return 0, unix.EINVAL
}

// SemNum returns the number of semaphores of set id (for sizing GETALL
// and SETALL buffers); EINVAL for no such set.
func (ns *Namespace) SemNum(id int32) (int, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	s, err := ns.sem.byID(id)
	if err != nil {
		return 0, err
	}
	return len(s.sems), nil
}
