package seccomp

import (
	"fmt"
	"runtime"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Profile is config.json's linux.seccomp compiled for one architecture:
// a filter of the chain evaluated directly (rather than through BPF), with
// the semantics runc gives the profile through libseccomp.
type Profile struct {
	// def is the verdict for calls no rule matches.
	def uint32
	// badArch is the verdict for a call of another architecture
	// (libseccomp's default: kill the thread).
	badArch uint32
	// arches are the AUDIT_ARCH values the profile admits.
	arches []uint32
	// rules maps a call number to its rules, conditional ones first, each
	// group in the profile's order: the first that matches decides.
	rules map[int32][]profileRule
	// count is the number of rules, for the chain's length limit.
	count int
	// Log is the SECCOMP_FILTER_FLAG_LOG flag of the profile.
	Log bool
}

// profileRule is one syscalls[] entry for one call: all its conditions
// must hold (several conditions on one argument are split into separate
// rules first, as runc does).
type profileRule struct {
	verdict uint32
	conds   []specs.LinuxSeccompArg
}

// auditArches maps the profile's architecture names this package can
// meet to AUDIT_ARCH values.
var auditArches = map[specs.Arch]uint32{
	specs.ArchX86_64:  0xc000003e,
	specs.ArchX86:     0x40000003,
	specs.ArchX32:     0xc000003e, // x32 shares the x86-64 audit arch
	specs.ArchAARCH64: 0xc00000b7,
	specs.ArchARM:     0x40000028,
}

// nativeArch is the AUDIT_ARCH of the sandbox's architecture.
func nativeArch() uint32 {
	if runtime.GOARCH == "arm64" {
		return auditArches[specs.ArchAARCH64]
	}
	return auditArches[specs.ArchX86_64]
}

// SupportedActions are the SCMP_ACT_* names FromSpec accepts (for
// `moat features`).
var SupportedActions = []string{
	string(specs.ActAllow), string(specs.ActErrno), string(specs.ActKill),
	string(specs.ActKillProcess), string(specs.ActKillThread), string(specs.ActLog),
	string(specs.ActTrace), string(specs.ActTrap),
}

// SupportedOperators are the SCMP_CMP_* names FromSpec accepts.
var SupportedOperators = []string{
	string(specs.OpEqualTo), string(specs.OpGreaterEqual), string(specs.OpGreaterThan),
	string(specs.OpLessEqual), string(specs.OpLessThan), string(specs.OpMaskedEqual),
	string(specs.OpNotEqual),
}

// SupportedArches are the SCMP_ARCH_* names FromSpec knows.
var SupportedArches = []string{
	string(specs.ArchAARCH64), string(specs.ArchARM), string(specs.ArchX32),
	string(specs.ArchX86), string(specs.ArchX86_64),
}

// SupportedFlags are the seccomp flags a profile may carry.
var SupportedFlags = []string{
	string(specs.LinuxSeccompFlagLog), string(specs.LinuxSeccompFlagSpecAllow),
	"SECCOMP_FILTER_FLAG_TSYNC",
}

// defaultErrno is the errno of SCMP_ACT_ERRNO without errnoRet (EPERM),
// as runc uses.
const defaultErrno = 1

// verdictOf turns an SCMP_ACT_* action into a filter verdict.
func verdictOf(a specs.LinuxSeccompAction, errnoRet *uint) (uint32, error) {
	e := uint32(defaultErrno)
	if errnoRet != nil {
		if *errnoRet > uint(DataMask) {
			return 0, fmt.Errorf("seccomp: errnoRet %d out of range", *errnoRet)
		}
		e = uint32(*errnoRet)
	}
	switch a {
	case specs.ActAllow:
		return RetAllow, nil
	case specs.ActErrno:
		return RetErrno | e, nil
	case specs.ActKill, specs.ActKillThread:
		return RetKillThread, nil
	case specs.ActKillProcess:
		return RetKillProcess, nil
	case specs.ActLog:
		return RetLog, nil
	case specs.ActTrace:
		return RetTrace | e, nil
	case specs.ActTrap:
		return RetTrap, nil
	case specs.ActNotify:
		return 0, fmt.Errorf("seccomp: action %s is not supported (no notification listener)", a)
	}
	return 0, fmt.Errorf("seccomp: unknown action %q", a)
}

// FromSpec compiles s for the architecture whose system calls names
// lists by number. Names the architecture does not have are skipped, as
// runc skips them; an unknown action, operator, architecture, flag or an
// argument index above 5 is an error naming it.
func FromSpec(s *specs.LinuxSeccomp, names []string) (*Profile, error) {
	def, err := verdictOf(s.DefaultAction, s.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("defaultAction: %w", err)
	}
	p := &Profile{def: def, badArch: RetKillThread, rules: map[int32][]profileRule{}}
	for _, a := range s.Architectures {
		v, ok := auditArches[a]
		if !ok {
			return nil, fmt.Errorf("seccomp: unsupported architecture %q", a)
		}
		p.arches = append(p.arches, v)
	}
	// libseccomp always admits the native architecture.
	p.arches = append(p.arches, nativeArch())
	for _, f := range s.Flags {
		switch f {
		case specs.LinuxSeccompFlagLog:
			p.Log = true
		case specs.LinuxSeccompFlagSpecAllow, "SECCOMP_FILTER_FLAG_TSYNC":
			// Speculation mitigations are the host's business; the
			// profile goes to every thread of a single-threaded init.
		default:
			return nil, fmt.Errorf("seccomp: unsupported flag %q", f)
		}
	}
	numbers := make(map[string]int32, len(names))
	for nr, n := range names {
		if n != "" {
			numbers[n] = int32(nr)
		}
	}
	var uncond = map[int32][]profileRule{}
	for i, sc := range s.Syscalls {
		v, err := verdictOf(sc.Action, sc.ErrnoRet)
		if err != nil {
			return nil, fmt.Errorf("syscalls[%d]: %w", i, err)
		}
		for _, a := range sc.Args {
			if a.Index > 5 {
				return nil, fmt.Errorf("syscalls[%d]: argument index %d out of range", i, a.Index)
			}
			if !knownOp(a.Op) {
				return nil, fmt.Errorf("syscalls[%d]: unknown operator %q", i, a.Op)
			}
		}
		if v == def {
			// libseccomp refuses a rule with the default action; runc
			// skips it, and so does the result.
			continue
		}
		for _, name := range sc.Names {
			nr, ok := numbers[name]
			if !ok {
				continue
			}
			if len(sc.Args) == 0 {
				uncond[nr] = append(uncond[nr], profileRule{verdict: v})
				p.count++
				continue
			}
			for _, conds := range splitSameIndex(sc.Args) {
				p.rules[nr] = append(p.rules[nr], profileRule{verdict: v, conds: conds})
				p.count++
			}
		}
	}
	for nr, rs := range uncond {
		p.rules[nr] = append(p.rules[nr], rs...)
	}
	sort.Slice(p.arches, func(i, j int) bool { return p.arches[i] < p.arches[j] })
	return p, nil
}

// splitSameIndex returns args as one rule, or, when two conditions test
// the same argument, one rule per condition (runc's reading: libseccomp
// cannot AND two tests of one argument, so runc ORs them).
func splitSameIndex(args []specs.LinuxSeccompArg) [][]specs.LinuxSeccompArg {
	seen := map[uint]bool{}
	same := false
	for _, a := range args {
		if seen[a.Index] {
			same = true
		}
		seen[a.Index] = true
	}
	if !same {
		return [][]specs.LinuxSeccompArg{args}
	}
	out := make([][]specs.LinuxSeccompArg, len(args))
	for i := range args {
		out[i] = args[i : i+1]
	}
	return out
}

func knownOp(op specs.LinuxSeccompOperator) bool {
	switch op {
	case specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
		specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual:
		return true
	}
	return false
}

// matches reports whether condition a holds for the call's arguments.
func matches(a *specs.LinuxSeccompArg, args *[6]uint64) bool {
	v := args[a.Index]
	switch a.Op {
	case specs.OpNotEqual:
		return v != a.Value
	case specs.OpLessThan:
		return v < a.Value
	case specs.OpLessEqual:
		return v <= a.Value
	case specs.OpEqualTo:
		return v == a.Value
	case specs.OpGreaterEqual:
		return v >= a.Value
	case specs.OpGreaterThan:
		return v > a.Value
	case specs.OpMaskedEqual:
		return v&a.Value == a.ValueTwo
	}
	return false
}

// Run implements Filter.Run.
func (p *Profile) Run(d *Data) uint32 {
	archOK := false
	for _, a := range p.arches {
		if a == d.Arch {
			archOK = true
			break
		}
	}
	if !archOK {
		return p.badArch
	}
rules:
	for _, r := range p.rules[d.Nr] {
		for i := range r.conds {
			if !matches(&r.conds[i], &d.Args) {
				continue rules
			}
		}
		return r.verdict
	}
	return p.def
}

// Len implements Filter.Len: a nominal size, the number of rules.
func (p *Profile) Len() int { return p.count }
