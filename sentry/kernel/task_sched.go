package kernel

import "sync"

// Scheduling attributes of a thread. The host schedules the sandbox's
// threads; these are the values the scheduling calls (sched_setscheduler,
// setpriority, sched_setaffinity, ioprio_set, personality) record and
// report back, with Linux's rules for who may set what (in
// syscalls/sys_sched.go). They do not change how the host runs the
// thread.

// Scheduling policies (SCHED_*).
const (
	SchedOther    = 0
	SchedFIFO     = 1
	SchedRR       = 2
	SchedBatch    = 3
	SchedIdle     = 5
	SchedDeadline = 6
)

// SchedAttr is a thread's scheduling policy and parameters.
type SchedAttr struct {
	// Policy is SCHED_OTHER, SCHED_FIFO ...
	Policy int32
	// Priority is the real-time priority (1-99 for FIFO and RR, else 0).
	Priority int32
	// Nice is the nice value, -20 to 19.
	Nice int32
	// ResetOnFork is SCHED_RESET_ON_FORK.
	ResetOnFork bool
}

// taskSched is a thread's recorded scheduling state.
type taskSched struct {
	// mu guards the fields below; a leaf lock.
	mu   sync.Mutex
	attr SchedAttr
	// ioprio is ioprio_set's value (0: none set, IOPRIO_CLASS_NONE).
	ioprio int32
	// personality is personality(2)'s persona (PER_LINUX, 0, by default).
	personality uint32
	// affinity is sched_setaffinity's mask, one bit per CPU (nil: every
	// CPU of the sandbox).
	affinity []uint64
}

// SchedAttr returns t's scheduling policy and parameters.
func (t *Task) SchedAttr() SchedAttr {
	t.sched.mu.Lock()
	defer t.sched.mu.Unlock()
	return t.sched.attr
}

// SetSchedAttr records t's scheduling policy and parameters (the caller
// has checked them and the permission).
func (t *Task) SetSchedAttr(a SchedAttr) {
	t.sched.mu.Lock()
	t.sched.attr = a
	t.sched.mu.Unlock()
}

// IOPrio returns t's I/O priority as ioprio_get reports it.
func (t *Task) IOPrio() int32 {
	t.sched.mu.Lock()
	defer t.sched.mu.Unlock()
	return t.sched.ioprio
}

// SetIOPrio records t's I/O priority.
func (t *Task) SetIOPrio(p int32) {
	t.sched.mu.Lock()
	t.sched.ioprio = p
	t.sched.mu.Unlock()
}

// Personality returns t's execution domain and flags.
func (t *Task) Personality() uint32 {
	t.sched.mu.Lock()
	defer t.sched.mu.Unlock()
	return t.sched.personality
}

// SetPersonality records t's execution domain and flags and returns the
// old ones.
func (t *Task) SetPersonality(p uint32) uint32 {
	t.sched.mu.Lock()
	defer t.sched.mu.Unlock()
	old := t.sched.personality
	t.sched.personality = p
	return old
}

// Affinity returns a copy of t's CPU mask, nil for every CPU.
func (t *Task) Affinity() []uint64 {
	t.sched.mu.Lock()
	defer t.sched.mu.Unlock()
	if t.sched.affinity == nil {
		return nil
	}
	return append([]uint64(nil), t.sched.affinity...)
}

// SetAffinity records t's CPU mask (nil: every CPU).
func (t *Task) SetAffinity(mask []uint64) {
	t.sched.mu.Lock()
	t.sched.affinity = mask
	t.sched.mu.Unlock()
}

// Tasks returns the live threads of tg, the leader first.
func (tg *ThreadGroup) Tasks() []*Task {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return append([]*Task(nil), tg.tasks...)
}

// AllTasks returns every live thread of the sandbox.
func (k *Kernel) AllTasks() []*Task {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]*Task, 0, len(k.tasks))
	for _, t := range k.tasks {
		out = append(out, t)
	}
	return out
}

// inheritSched gives the new thread c t's scheduling state, as fork and
// clone do: with SCHED_RESET_ON_FORK, a real-time policy becomes
// SCHED_OTHER and a negative nice 0, and the flag is cleared.
func (t *Task) inheritSched(c *Task) {
	t.sched.mu.Lock()
	defer t.sched.mu.Unlock()
	a := t.sched.attr
	if a.ResetOnFork {
		if a.Policy == SchedFIFO || a.Policy == SchedRR {
			a.Policy, a.Priority = SchedOther, 0
		}
		if a.Nice < 0 {
			a.Nice = 0
		}
		a.ResetOnFork = false
	}
	c.sched.attr = a
	c.sched.ioprio = t.sched.ioprio
	c.sched.personality = t.sched.personality
	if t.sched.affinity != nil {
		c.sched.affinity = append([]uint64(nil), t.sched.affinity...)
	}
}

// addrNoRandomize is personality(2)'s ADDR_NO_RANDOMIZE.
const addrNoRandomize = 0x0040000

// noRandomize reports whether the program tg loads next gets a fixed
// layout: its thread (the only one left at exec) has ADDR_NO_RANDOMIZE,
// as setarch -R sets before it execs.
func (tg *ThreadGroup) noRandomize() bool {
	tg.mu.Lock()
	var t *Task
	if len(tg.tasks) > 0 {
		t = tg.tasks[0]
	}
	tg.mu.Unlock()
	return t != nil && t.Personality()&addrNoRandomize != 0
}
