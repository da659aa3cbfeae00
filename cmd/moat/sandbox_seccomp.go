package main

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"moat/sentry/seccomp"
	"moat/syscalls"
)

// specSeccomp compiles config.json's linux.seccomp for the sandbox's
// architecture: the filter the sentry applies to the container's system
// calls, as runc installs it on the container's processes (nil: none).
// `moat exec` processes get the same filter (the profile is the
// container's, not the process's).
func specSeccomp(s *specs.Spec) (seccomp.Filter, error) {
	if s.Linux == nil || s.Linux.Seccomp == nil {
		return nil, nil
	}
	sc := s.Linux.Seccomp
	if sc.ListenerPath != "" {
		return nil, errors.New("linux.seccomp: listenerPath: seccomp notification (SCMP_ACT_NOTIFY) is not supported")
	}
	p, err := seccomp.FromSpec(sc, syscalls.Table().Names)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: %w", err)
	}
	return p, nil
}
