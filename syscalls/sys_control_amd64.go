package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

// prctlArch implements x86's prctl options: PR_GET_TSC reports that
// rdtsc is allowed and PR_SET_TSC accepts only PR_TSC_ENABLE (making
// rdtsc fault would need the host's CR4.TSD for the stub thread).
func prctlArch(t *kernel.Task, opt int32, a arch.SyscallArguments) (uintptr, bool, error) {
	switch opt {
	case unix.PR_GET_TSC:
		return 0, true, copyOutU32(t, a[1], unix.PR_TSC_ENABLE)
	case unix.PR_SET_TSC:
		if a[1] != unix.PR_TSC_ENABLE {
			return 0, true, unix.EINVAL
		}
		return 0, true, nil
	}
	return 0, false, nil
}
