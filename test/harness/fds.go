package harness

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// CloseInheritedFDs marks every descriptor above stderr close-on-exec.
// Go's os/exec hands a child every descriptor the parent holds without
// FD_CLOEXEC, and a test binary inherits whatever its own starter left
// open (a shell's saved descriptors, a CI runner's pipes). The oracle of
// a differential test (chroot) would then show them to the program
// (ls /proc/self/fd), while a sandbox shows only the streams it is
// given, as runc does: call this first in TestMain so both runs see the
// same three. The Go runtime's own descriptors are close-on-exec already.
func CloseInheritedFDs() error {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("listing own descriptors: %w", err)
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 2 {
			continue
		}
		// EBADF: the descriptor ReadDir itself used, closed since.
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil && err != unix.EBADF {
			return fmt.Errorf("descriptor %d: %w", fd, err)
		}
	}
	return nil
}
