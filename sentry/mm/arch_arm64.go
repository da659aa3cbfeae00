package mm

import "golang.org/x/sys/unix"

// map32Bit is MAP_32BIT, which arm64 does not have.
const map32Bit = 0

// readableProt are the protections that let the CPU read a page: on arm64
// write implies read, but execute-only pages are not readable.
const readableProt = unix.PROT_READ | unix.PROT_WRITE

// alignHint turns an mmap hint into a page address the way arm64 Linux
// does: rounding up (0 when that overflows, which then means no hint).
func alignHint(addr uintptr) uintptr {
	r, ok := pageUp(addr)
	if !ok {
		return 0
	}
	return r
}
