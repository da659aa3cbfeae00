package main

import (
	"fmt"

	"moat/platform"
	"moat/platform/ptrace" // registers the "ptrace" platform
	"moat/sentry/filter"
)

// sandboxPlatform is what the sentry's bootstrap needs of a platform
// beyond the platform package's registry.
type sandboxPlatform struct {
	// start makes the platform with its stubs running as uid and gid
	// id, the identity the sentry switches to afterwards.
	start func(id int) (platform.Platform, error)
	// hostRules are the host calls (and their arguments) the sentry's
	// seccomp filter must allow for the platform once app code runs.
	hostRules func() []filter.Rule
}

// sandboxPlatforms holds, per platform name, how the sentry starts it.
var sandboxPlatforms = map[string]sandboxPlatform{
	"ptrace": {
		start: func(id int) (platform.Platform, error) {
			p, err := ptrace.NewWithOptions(ptrace.Options{UID: id, GID: id})
			if err != nil {
				return nil, err
			}
			return p, nil
		},
		hostRules: ptraceHostRules,
	},
}

// lookupPlatform returns how to start platform name in the sentry.
func lookupPlatform(name string) (sandboxPlatform, error) {
	sp, ok := sandboxPlatforms[name]
	if !ok {
		return sandboxPlatform{}, fmt.Errorf("platform %q: unknown to the sandbox (have %v)", name, platform.Names())
	}
	return sp, nil
}

// ptraceHostRules pins the ptrace platform's calls to the arguments it
// uses: its ptrace requests (never PTRACE_TRACEME or PTRACE_SEIZE), and
// the signals it sends stubs with kill and pidfd_send_signal.
func ptraceHostRules() []filter.Rule {
	var reqs, sigs []uint64
	for _, r := range ptrace.HostPtraceRequests() {
		reqs = append(reqs, uint64(r))
	}
	for _, s := range ptrace.HostSignals() {
		sigs = append(sigs, uint64(s))
	}
	var rules []filter.Rule
	for _, name := range ptrace.HostSyscalls() {
		switch name {
		case "ptrace":
			rules = append(rules, filter.Rule{Name: name, Arg: 0, Values: reqs})
		case "kill", "pidfd_send_signal":
			rules = append(rules, filter.Rule{Name: name, Arg: 1, Values: sigs})
		case "kcmp":
			var types []uint64
			for _, k := range ptrace.HostKcmpTypes() {
				types = append(types, uint64(k))
			}
			rules = append(rules, filter.Rule{Name: name, Arg: 2, Values: types})
		default:
			rules = append(rules, filter.Rule{Name: name})
		}
	}
	return rules
}
