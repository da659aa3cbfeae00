package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"
)

// prctlArch: arm64 has none of the x86-only options the sandbox knows
// (PR_GET_TSC and PR_SET_TSC fail with EINVAL there, as on Linux).
func prctlArch(*kernel.Task, int32, arch.SyscallArguments) (uintptr, bool, error) {
	return 0, false, nil
}
