package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

// sysArchPrctl is never called on arm64, which has no arch_prctl; the
// table leaves the name out there.
func sysArchPrctl(*kernel.Task, arch.SyscallArguments) (uintptr, error) {
	return 0, unix.ENOSYS
}
