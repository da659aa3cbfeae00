package seccomp

import (
	"errors"
	"fmt"
)

// Filter return actions (linux/seccomp.h): the high 16 bits of a verdict
// (SECCOMP_RET_ACTION_FULL); the low 16 bits are its data.
const (
	RetKillProcess uint32 = 0x80000000
	RetKillThread  uint32 = 0x00000000
	RetTrap        uint32 = 0x00030000
	RetErrno       uint32 = 0x00050000
	RetUserNotif   uint32 = 0x7fc00000
	RetTrace       uint32 = 0x7ff00000
	RetLog         uint32 = 0x7ffc0000
	RetAllow       uint32 = 0x7fff0000

	// ActionMask is SECCOMP_RET_ACTION_FULL; DataMask SECCOMP_RET_DATA.
	ActionMask uint32 = 0xffff0000
	DataMask   uint32 = 0x0000ffff
)

// KnownAction reports whether action is one seccomp(2)'s
// SECCOMP_GET_ACTION_AVAIL reports as available here. USER_NOTIF is not:
// the sandbox has no notification listener (SECCOMP_FILTER_FLAG_NEW_LISTENER
// is refused), so such a verdict can only ever mean ENOSYS.
func KnownAction(action uint32) bool {
	switch action {
	case RetKillProcess, RetKillThread, RetTrap, RetErrno, RetTrace, RetLog, RetAllow:
		return true
	}
	return false
}

// ErrTooLong is returned when a chain would exceed the kernel's
// MAX_INSNS_PER_PATH (seccomp(2) fails with ENOMEM).
var ErrTooLong = errors.New("seccomp filter chain too long")

// Chain is an immutable list of installed filters, newest first. Child
// tasks share their parent's chain; a new filter makes a new head whose
// tail is the old chain, as the kernel's seccomp_filter->prev does.
type Chain struct {
	prog Filter
	prev *Chain
	// insns is the chain's MAX_INSNS_PER_PATH count.
	insns int
	// Log is SECCOMP_FILTER_FLAG_LOG: the filter's actions other than
	// ALLOW are logged.
	Log bool
}

// Filter is one filter of a chain: a checked BPF program, or a
// runtime profile (linux.seccomp) evaluated directly.
type Filter interface {
	// Run returns the filter's 32-bit verdict for d.
	Run(d *Data) uint32
	// Len is the filter's size for the chain's length limit.
	Len() int
}

// Push returns the chain with p added on top of c (c may be nil).
func (c *Chain) Push(p Filter, log bool) (*Chain, error) {
	n := &Chain{prog: p, prev: c, insns: p.Len() + 4, Log: log}
	if c != nil {
		n.insns += c.insns
	}
	if n.insns > maxPathInstructions {
		return nil, fmt.Errorf("%w: %d instructions", ErrTooLong, n.insns)
	}
	return n, nil
}

// Descends reports whether c is anc or was built on top of it: a thread
// whose chain is an ancestor of the caller's may be synchronized to the
// caller's (SECCOMP_FILTER_FLAG_TSYNC).
func (c *Chain) Descends(anc *Chain) bool {
	if anc == nil {
		return true
	}
	for f := c; f != nil; f = f.prev {
		if f == anc {
			return true
		}
	}
	return false
}

// Run evaluates every filter of the chain on d and returns the verdict
// whose action is the most restrictive (the smallest as a signed 32-bit
// number: KILL_PROCESS < KILL_THREAD < TRAP < ERRNO < USER_NOTIF < TRACE
// < LOG < ALLOW); among equal actions, the newest filter's data wins.
// log reports whether that verdict's filter asked for logging.
func (c *Chain) Run(d *Data) (verdict uint32, log bool) {
	verdict = RetAllow
	for f := c; f != nil; f = f.prev {
		r := f.prog.Run(d)
		if int32(r&ActionMask) < int32(verdict&ActionMask) {
			verdict, log = r, f.Log
		}
	}
	return verdict, log
}

// StrictAllowed reports whether SECCOMP_MODE_STRICT lets system call nr
// (named by the caller's table) run: read, write, exit, rt_sigreturn.
func StrictAllowed(name string) bool {
	switch name {
	case "read", "write", "exit", "rt_sigreturn":
		return true
	}
	return false
}
