package main

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"moat/sentry/kernel"
)

// capNames are the capability names config.json uses, indexed by CAP_*
// number (linux/capability.h, up to kernel.CapLast).
var capNames = [kernel.CapLast + 1]string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// capSet turns the names of one of process.capabilities' lists into a
// set; field names the list for the error on an unknown name. Names are
// matched without regard to case, as runc does.
func capSet(field string, names []string) (kernel.CapSet, error) {
	var s kernel.CapSet
	for _, name := range names {
		n := capNumber(name)
		if n < 0 {
			return 0, fmt.Errorf("process.capabilities.%s: unknown capability %q", field, name)
		}
		s |= 1 << n
	}
	return s, nil
}

// capNumber returns the CAP_* number of name, or -1.
func capNumber(name string) int {
	for i, c := range capNames {
		if strings.EqualFold(c, name) {
			return i
		}
	}
	return -1
}

// specCaps returns the init's capability sets from process.capabilities,
// nil when the spec has none (the kernel's uid-based default).
func specCaps(c *specs.LinuxCapabilities) (*kernel.CapSets, error) {
	if c == nil {
		return nil, nil
	}
	var s kernel.CapSets
	lists := []struct {
		field string
		names []string
		set   *kernel.CapSet
	}{
		{"bounding", c.Bounding, &s.Bounding},
		{"effective", c.Effective, &s.Effective},
		{"inheritable", c.Inheritable, &s.Inheritable},
		{"permitted", c.Permitted, &s.Permitted},
		{"ambient", c.Ambient, &s.Ambient},
	}
	for _, l := range lists {
		set, err := capSet(l.field, l.names)
		if err != nil {
			return nil, err
		}
		*l.set = set
	}
	return &s, nil
}

// rlimitNames are the resource names process.rlimits uses, by RLIMIT_*
// number (asm-generic/resource.h; the same on x86-64 and arm64).
var rlimitNames = [kernel.NumRlimits]string{
	"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK",
	"RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE",
	"RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING",
	"RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
}

// specRlimits returns the init's resource limits from process.rlimits:
// an error names an unknown type, a soft limit above the hard one, or a
// type given twice.
func specRlimits(rl []specs.POSIXRlimit) (map[int]kernel.Rlimit, error) {
	if len(rl) == 0 {
		return nil, nil
	}
	out := make(map[int]kernel.Rlimit, len(rl))
	for i, r := range rl {
		res := -1
		for n, name := range rlimitNames {
			if name == r.Type {
				res = n
			}
		}
		if res < 0 {
			return nil, fmt.Errorf("process.rlimits[%d]: unknown type %q", i, r.Type)
		}
		if r.Soft > r.Hard {
			return nil, fmt.Errorf("process.rlimits[%d] (%s): soft limit %d above hard limit %d", i, r.Type, r.Soft, r.Hard)
		}
		if _, dup := out[res]; dup {
			return nil, fmt.Errorf("process.rlimits[%d]: %s given twice", i, r.Type)
		}
		out[res] = kernel.Rlimit{Cur: r.Soft, Max: r.Hard}
	}
	return out, nil
}

// processLimits returns the init's capability sets and resource limits
// from the spec's process (both nil when it has none). create calls it
// before anything is made so that a bad name fails there, like runc.
func processLimits(p *specs.Process) (*kernel.CapSets, map[int]kernel.Rlimit, error) {
	if p == nil {
		return nil, nil, nil
	}
	caps, err := specCaps(p.Capabilities)
	if err != nil {
		return nil, nil, err
	}
	rl, err := specRlimits(p.Rlimits)
	if err != nil {
		return nil, nil, err
	}
	return caps, rl, nil
}
