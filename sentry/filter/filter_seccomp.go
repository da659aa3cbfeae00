//go:build cgo

package filter

import (
	"fmt"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Install loads the sentry's filter into every thread of the process
// (libseccomp sets TSYNC, and the kernel then also copies no_new_privs
// to every thread). extra are further calls to allow: the platform's
// (ptrace.HostSyscalls, with the ptrace requests and signals it needs).
// Names unknown to the host architecture are skipped, so one list can
// serve amd64 and arm64.
func Install(extra []Rule) error {
	for _, r := range extra {
		for _, f := range Forbidden {
			if r.Name == f {
				return fmt.Errorf("sentry filter: %q may not be allowed", r.Name)
			}
		}
	}
	if err := limitMallocArenas(); err != nil {
		return err
	}
	f, err := build(extra)
	if err != nil {
		return err
	}
	defer f.Release()
	// The filter is refused without no_new_privs unless the caller has
	// CAP_SYS_ADMIN; the sentry sets it anyway, so ask for it here too.
	if err := f.SetNoNewPrivsBit(true); err != nil {
		return fmt.Errorf("sentry filter: no_new_privs: %w", err)
	}
	if err := f.Load(); err != nil {
		return fmt.Errorf("sentry filter: load: %w", err)
	}
	return nil
}

// build makes the filter without loading it.
func build(extra []Rule) (*seccomp.ScmpFilter, error) {
	f, err := seccomp.NewFilter(seccomp.ActKillProcess)
	if err != nil {
		return nil, fmt.Errorf("sentry filter: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Release()
		}
	}()
	native, err := seccomp.GetNativeArch()
	if err != nil {
		return nil, fmt.Errorf("sentry filter: %w", err)
	}
	uncond := map[string]bool{}
	names := append([]string{}, allowed...)
	if native == seccomp.ArchAMD64 {
		names = append(names, amd64Only...)
	}
	var condExtra []Rule
	for _, r := range extra {
		if len(r.Values) == 0 {
			names = append(names, r.Name)
		} else {
			condExtra = append(condExtra, r)
		}
	}
	for _, name := range names {
		if uncond[name] {
			continue
		}
		uncond[name] = true
		if err := addRule(f, native, name, seccomp.ActAllow, nil); err != nil {
			return nil, err
		}
	}
	if err := addConditional(f, native, uncond, condExtra); err != nil {
		return nil, err
	}
	// clone3 passes its flags in memory, where a filter cannot look:
	// answer ENOSYS so glibc falls back to clone, whose flags it can.
	if !uncond["clone3"] {
		if err := addRule(f, native, "clone3", seccomp.ActErrno.SetReturnCode(int16(unix.ENOSYS)), nil); err != nil {
			return nil, err
		}
	}
	ok = true
	return f, nil
}

// addConditional adds the calls allowed only with some arguments, unless
// uncond (the platform's extra list) already allows them outright.
func addConditional(f *seccomp.ScmpFilter, native seccomp.ScmpArch, uncond map[string]bool, extra []Rule) error {
	type rule struct {
		name string
		arg  uint
		op   seccomp.ScmpCompareOp
		vals []uint64
	}
	var rules []rule
	// The caller's own conditional rules: one allow per value.
	for _, r := range extra {
		for _, v := range r.Values {
			rules = append(rules, rule{r.Name, r.Arg, seccomp.CompareEqual, []uint64{v}})
		}
	}
	// A thread of this process, nothing else: no fork, no new namespace.
	rules = append(rules, rule{"clone", 0, seccomp.CompareMaskedEqual, []uint64{^uint64(threadOptional), threadFlags}})
	for _, req := range append(allowedIoctls, InterfaceQueries...) {
		rules = append(rules, rule{"ioctl", 1, seccomp.CompareEqual, []uint64{req}})
	}
	for _, cmd := range allowedFcntls {
		rules = append(rules, rule{"fcntl", 1, seccomp.CompareEqual, []uint64{cmd}})
	}
	for _, opt := range allowedPrctls {
		rules = append(rules, rule{"prctl", 0, seccomp.CompareEqual, []uint64{opt}})
	}
	// stat of a descriptor only: with AT_EMPTY_PATH and an empty path the
	// kernel uses the descriptor. The filter cannot read the path, so it
	// pins the flags to exactly AT_EMPTY_PATH; a non-empty path can then
	// only resolve inside the empty root the sentry pivoted into, or
	// below a directory descriptor the gofer chose to hand over.
	rules = append(rules, rule{"newfstatat", 3, seccomp.CompareEqual, []uint64{unix.AT_EMPTY_PATH}})
	// Reading limits (prlimit64 with a NULL new limit) is what glibc and
	// the Go runtime do; setting them is not.
	rules = append(rules, rule{"prlimit64", 2, seccomp.CompareEqual, []uint64{0}})
	// kill and tgkill: only the sentry itself (the Go runtime signals its
	// own threads with tgkill(getpid(), tid, sig); exitLike re-raises the
	// init's fatal signal). The platform adds the signals it sends stubs.
	self := uint64(unix.Getpid())
	rules = append(rules, rule{"kill", 0, seccomp.CompareEqual, []uint64{self}})
	rules = append(rules, rule{"tgkill", 0, seccomp.CompareEqual, []uint64{self}})
	if err := addInetRules(f, native, uncond); err != nil {
		return err
	}
	for _, r := range rules {
		if uncond[r.name] {
			continue
		}
		c, err := seccomp.MakeCondition(r.arg, r.op, r.vals...)
		if err != nil {
			return fmt.Errorf("sentry filter: %s condition: %w", r.name, err)
		}
		if err := addRule(f, native, r.name, seccomp.ActAllow, []seccomp.ScmpCondition{c}); err != nil {
			return err
		}
	}
	// Forbidden calls need no rule of their own: the default action
	// kills, and Install refuses an extra list that would allow one.
	return nil
}

// addRule adds one rule, skipping a name the native architecture lacks
// (open on arm64).
func addRule(f *seccomp.ScmpFilter, native seccomp.ScmpArch, name string, act seccomp.ScmpAction, conds []seccomp.ScmpCondition) error {
	nr, err := seccomp.GetSyscallFromNameByArch(name, native)
	if err != nil || nr < 0 {
		// Unknown to libseccomp, or a pseudo-number: not a call this
		// architecture has.
		return nil
	}
	if conds == nil {
		err = f.AddRule(nr, act)
	} else {
		err = f.AddRuleConditional(nr, act, conds)
	}
	if err != nil {
		return fmt.Errorf("sentry filter: rule for %s: %w", name, err)
	}
	return nil
}

// addInetRules allows what sentry/socket/hostinet needs to give the
// application AF_INET and AF_INET6 sockets on the host (each rule is the
// AND of its conditions):
//   - socket(AF_INET or AF_INET6, SOCK_STREAM or SOCK_DGRAM with only
//     SOCK_NONBLOCK|SOCK_CLOEXEC added, protocol 0), and AF_NETLINK
//     with NETLINK_ROUTE (SOCK_RAW or SOCK_DGRAM): never raw IP, packet,
//     other netlink or AF_UNIX sockets on the host;
//   - bind and connect with an address length of 12, 16 or 28
//     (sockaddr_nl, sockaddr_in, sockaddr_in6): the address itself is in
//     memory the filter cannot read; the length keeps most AF_UNIX names
//     out should the sentry be steered into binding one of its own Unix
//     sockets;
//   - listen (on a descriptor the sentry holds);
//   - setsockopt for the level and name pairs of SetSockOpts only.
func addInetRules(f *seccomp.ScmpFilter, native seccomp.ScmpArch, uncond map[string]bool) error {
	type cond struct {
		arg uint
		op  seccomp.ScmpCompareOp
		v   []uint64
	}
	var rules [][]cond
	names := []string{}
	add := func(name string, cs ...cond) {
		names = append(names, name)
		rules = append(rules, cs)
	}
	typeMask := ^uint64(unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC)
	for _, fam := range []uint64{unix.AF_INET, unix.AF_INET6} {
		for _, typ := range []uint64{unix.SOCK_STREAM, unix.SOCK_DGRAM} {
			add("socket",
				cond{0, seccomp.CompareEqual, []uint64{fam}},
				cond{1, seccomp.CompareMaskedEqual, []uint64{typeMask, typ}},
				cond{2, seccomp.CompareEqual, []uint64{0}})
		}
	}
	// NETLINK_ROUTE sockets for route and address dumps (hostinet
	// sends only read requests on them).
	for _, typ := range []uint64{unix.SOCK_RAW, unix.SOCK_DGRAM} {
		add("socket",
			cond{0, seccomp.CompareEqual, []uint64{unix.AF_NETLINK}},
			cond{1, seccomp.CompareMaskedEqual, []uint64{typeMask, typ}},
			cond{2, seccomp.CompareEqual, []uint64{unix.NETLINK_ROUTE}})
	}
	for _, name := range []string{"bind", "connect"} {
		for _, l := range []uint64{12, 16, 28} {
			add(name, cond{2, seccomp.CompareEqual, []uint64{l}})
		}
	}
	add("listen")
	for _, o := range SetSockOpts {
		add("setsockopt",
			cond{1, seccomp.CompareEqual, []uint64{uint64(o.Level)}},
			cond{2, seccomp.CompareEqual, []uint64{uint64(o.Name)}})
	}
	for i, name := range names {
		if uncond[name] {
			continue
		}
		var conds []seccomp.ScmpCondition
		for _, c := range rules[i] {
			sc, err := seccomp.MakeCondition(c.arg, c.op, c.v...)
			if err != nil {
				return fmt.Errorf("sentry filter: %s condition: %w", name, err)
			}
			conds = append(conds, sc)
		}
		if err := addRule(f, native, name, seccomp.ActAllow, conds); err != nil {
			return err
		}
	}
	return nil
}
