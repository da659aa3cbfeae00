package kernel

import "golang.org/x/sys/unix"

// credsMaySignal is kill_ok_by_cred: the sender's real or effective UID
// matches the target's real or saved UID, or the sender has CAP_KILL.
func credsMaySignal(sender, target *Credentials) bool {
	if sender.HasCap(CapKill) {
		return true
	}
	for _, s := range [2]uint32{sender.EffectiveUID, sender.RealUID} {
		if s == target.SavedUID || s == target.RealUID {
			return true
		}
	}
	return false
}

// MaySignal is check_kill_permission for a signal sender sends to target
// with kill, tkill or tgkill (sig 0 included): without a matching UID or
// CAP_KILL only the sender's own process may be signalled, and SIGCONT
// any process of the sender's session. A nil sender (the runtime) may
// signal anything. Without this check an unprivileged process of the
// container could kill or stop the container's root-owned daemons.
func (t *Task) MaySignal(sender *Task, sig unix.Signal) bool {
	if sender == nil || sender.tg == t.tg {
		return true
	}
	if credsMaySignal(sender.Credentials(), t.Credentials()) {
		return true
	}
	return sig == unix.SIGCONT && sender.tg.SID() == t.tg.SID()
}

// MaySignal is Task.MaySignal for a process: the permission is checked
// against its leader, as kill(2) does through the PID's task. A process
// whose threads are all gone (a zombie) has nothing to signal and may be
// "signalled" by anyone, which has no effect.
func (tg *ThreadGroup) MaySignal(sender *Task, sig unix.Signal) bool {
	tg.mu.Lock()
	var leader *Task
	if len(tg.tasks) > 0 {
		leader = tg.tasks[0]
	}
	tg.mu.Unlock()
	if leader == nil {
		return true
	}
	return leader.MaySignal(sender, sig)
}
