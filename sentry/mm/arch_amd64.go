package mm

import "golang.org/x/sys/unix"

// map32Bit is MAP_32BIT, which only x86-64 has.
const map32Bit = unix.MAP_32BIT

// readableProt are the protections that let the CPU read a page: on
// x86-64 a writable or executable page is also readable.
const readableProt = unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC

// alignHint turns an mmap hint into a page address the way x86-64 Linux
// does: rounding down.
func alignHint(addr uintptr) uintptr { return addr &^ (PageSize - 1) }
