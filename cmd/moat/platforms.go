package main

import (
	"moat/platform/ptrace" // registers the "ptrace" platform
)

// platformHostSyscalls gives, per platform name, the host calls the
// sentry's seccomp filter must allow for it once application code runs.
var platformHostSyscalls = map[string]func() []string{
	"ptrace": ptrace.HostSyscalls,
}
