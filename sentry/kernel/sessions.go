package kernel

import "golang.org/x/sys/unix"

// SetPGID implements setpgid(2): pid 0 means the caller, pgid 0 means
// pid. The target must be the caller or a child of it in the same session
// that has not exec'd (ESRCH, EPERM, EACCES), not a session leader
// (EPERM), and the group must exist in the caller's session unless it is
// the target's own PID (EPERM).
func (t *Task) SetPGID(pid, pgid int32) error {
	if pgid < 0 {
		return unix.EINVAL
	}
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	me := t.tg
	if pid == 0 {
		pid = me.pid
	}
	target := k.groups[pid]
	if target == nil || target.zombie {
		return unix.ESRCH
	}
	if target != me {
		if target.parent != me {
			return unix.ESRCH
		}
		if target.sid != me.sid {
			return unix.EPERM
		}
		if target.execed {
			return unix.EACCES
		}
	}
	if pgid == 0 {
		pgid = target.pid
	}
	if target.sid == target.pid {
		return unix.EPERM
	}
	if pgid != target.pid {
		found := false
		for _, g := range k.groups {
			if g.pgid == pgid && g.sid == me.sid && !g.zombie {
				found = true
				break
			}
		}
		if !found {
			return unix.EPERM
		}
	}
	target.pgid = pgid
	return nil
}

// SetSID implements setsid(2): the caller leads a new session and process
// group; EPERM if it already leads a process group (or its PID names one).
func (t *Task) SetSID() (int32, error) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	me := t.tg
	for _, g := range k.groups {
		if g.pgid == me.pid {
			return 0, unix.EPERM
		}
	}
	me.pgid, me.sid = me.pid, me.pid
	return me.pid, nil
}

// ProcessGroup returns the live processes of process group pgid.
func (k *Kernel) ProcessGroup(pgid int32) []*ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []*ThreadGroup
	for _, g := range k.groups {
		if g.pgid == pgid && !g.zombie {
			out = append(out, g)
		}
	}
	return out
}

// AllProcesses returns every live process but init and except (kill -1).
func (k *Kernel) AllProcesses(except *ThreadGroup) []*ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []*ThreadGroup
	for _, g := range k.groups {
		if g != except && g != k.init && !g.zombie {
			out = append(out, g)
		}
	}
	return out
}
