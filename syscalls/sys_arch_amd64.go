package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

// arch_prctl codes (asm/prctl.h).
const (
	archSetGS = 0x1001
	archSetFS = 0x1002
	archGetFS = 0x1003
	archGetGS = 0x1004
)

// sysArchPrctl implements arch_prctl(2)'s FS base codes. An FS base
// beyond the user address range is EPERM, as the kernel checks it
// against TASK_SIZE_MAX.
func sysArchPrctl(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	switch args.Int(0) {
	case archSetFS:
		if args[1] >= t.MM().MaxAddr() {
			return 0, unix.EPERM
		}
		t.Registers().SetTLS(args[1])
		return 0, nil
	case archGetFS:
		return 0, copyOutU64(t, args[1], uint64(t.Registers().TLS()))
	}
	return 0, unix.EINVAL
}
