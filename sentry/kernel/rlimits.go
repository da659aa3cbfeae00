package kernel

import (
	"fmt"
	"math"

	"golang.org/x/sys/unix"
)

// NumRlimits is RLIM_NLIMITS: resources 0..15.
const NumRlimits = 16

// RlimInfinity is RLIM_INFINITY.
const RlimInfinity = math.MaxUint64

// Rlimit is one resource limit (struct rlimit64).
type Rlimit struct {
	Cur, Max uint64
}

// defaultRlimits are the limits a container's init starts with: Linux's
// own defaults for init (include/asm-generic/resource.h) with the values a
// typical distribution sets for NOFILE and NPROC.
func defaultRlimits() [NumRlimits]Rlimit {
	var r [NumRlimits]Rlimit
	for i := range r {
		r[i] = Rlimit{RlimInfinity, RlimInfinity}
	}
	r[unix.RLIMIT_STACK] = Rlimit{8 << 20, RlimInfinity}
	r[unix.RLIMIT_CORE] = Rlimit{0, RlimInfinity}
	r[unix.RLIMIT_NOFILE] = Rlimit{1024, 4096}
	r[unix.RLIMIT_NPROC] = Rlimit{63459, 63459}
	r[unix.RLIMIT_MEMLOCK] = Rlimit{8 << 20, 8 << 20}
	r[rlimitSigpending] = Rlimit{63459, 63459}
	r[rlimitMsgqueue] = Rlimit{819200, 819200}
	r[rlimitNice] = Rlimit{0, 0}
	r[rlimitRtprio] = Rlimit{0, 0}
	return r
}

// initRlimits returns the init process's limits: the defaults with set
// (already checked by checkRlimits) applied over them.
func initRlimits(set map[int]Rlimit) [NumRlimits]Rlimit {
	r := defaultRlimits()
	for res, l := range set {
		r[res] = l
	}
	return r
}

// checkRlimits validates the limits a Config asks for: every resource in
// range, soft no higher than hard, NOFILE within fs.nr_open (as
// setrlimit would refuse).
func checkRlimits(set map[int]Rlimit) error {
	for res, l := range set {
		if res < 0 || res >= NumRlimits {
			return fmt.Errorf("rlimit %d: no such resource", res)
		}
		if l.Cur > l.Max {
			return fmt.Errorf("rlimit %d: soft limit %d above hard limit %d", res, l.Cur, l.Max)
		}
		if res == unix.RLIMIT_NOFILE && l.Max > maxFDs && l.Max != RlimInfinity {
			return fmt.Errorf("rlimit %d (NOFILE): hard limit %d above the sandbox's %d", res, l.Max, maxFDs)
		}
	}
	return nil
}

// Resource numbers x/sys/unix does not name on every architecture.
const (
	rlimitSigpending = 11
	rlimitMsgqueue   = 12
	rlimitNice       = 13
	rlimitRtprio     = 14
)

// Rlimit returns the thread group's limit for resource (EINVAL when out
// of range).
func (tg *ThreadGroup) Rlimit(resource int) (Rlimit, error) {
	if resource < 0 || resource >= NumRlimits {
		return Rlimit{}, unix.EINVAL
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.rlimits[resource], nil
}

// SetRlimit implements the store of setrlimit/prlimit64: it returns the
// old limit and installs nl. EINVAL when Cur > Max or the resource is out
// of range; EPERM when raising Max without privilege, or NOFILE beyond
// fs.nr_open. A new RLIMIT_DATA applies to brk at once.
//
// Lock order: tg.mu → mm.mu (SetDataLimit takes nothing else).
func (tg *ThreadGroup) SetRlimit(resource int, nl Rlimit, privileged bool) (Rlimit, error) {
	if resource < 0 || resource >= NumRlimits {
		return Rlimit{}, unix.EINVAL
	}
	if nl.Cur > nl.Max {
		return Rlimit{}, unix.EINVAL
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	old := tg.rlimits[resource]
	if nl.Max > old.Max && !privileged {
		return old, unix.EPERM
	}
	if resource == unix.RLIMIT_NOFILE && nl.Max > maxFDs {
		return old, unix.EPERM
	}
	tg.rlimits[resource] = nl
	if resource == unix.RLIMIT_DATA {
		// brk checks the limit in the memory manager; every thread of
		// the group shares one, except during an execve, which gives
		// its new one the limit under tg.mu too (swapMM).
		for _, t := range tg.tasks {
			if t.mm != nil {
				t.mm.SetDataLimit(nl.Cur)
			}
		}
	}
	return old, nil
}

// NoFileLimit is the RLIMIT_NOFILE soft limit the fd table allocates under.
func (tg *ThreadGroup) NoFileLimit() uint64 {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.rlimits[unix.RLIMIT_NOFILE].Cur
}
