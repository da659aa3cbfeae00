package syscalls

import (
	"crypto/rand"

	"moat/platform/arch"
	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

var miscSyscalls = []entry{
	supported("getrandom", sysGetrandom, "ptr,size,grndflags"),
	partial("sysinfo", sysSysinfo, "ptr", "memory figures are the host's, load averages 0"),
}

// getrandom flags.
const (
	grndNonblock = 0x1
	grndRandom   = 0x2
	grndInsecure = 0x4
)

// maxGetrandom is the most one getrandom call returns (the kernel's
// MAX_RW_COUNT-derived limit for the urandom source).
const maxGetrandom = 33554431

// sysGetrandom implements getrandom(2) from the sentry's own CSPRNG
// (which the Go runtime seeds from the host's getrandom).
func sysGetrandom(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	addr, n, flags := args[0], args[1], args.Uint(2)
	if flags&^(grndNonblock|grndRandom|grndInsecure) != 0 {
		return 0, unix.EINVAL
	}
	if flags&(grndRandom|grndInsecure) == grndRandom|grndInsecure {
		return 0, unix.EINVAL
	}
	if n > maxGetrandom {
		n = maxGetrandom
	}
	buf := t.Scratch()
	var done uintptr
	for done < n {
		chunk := buf
		if n-done < uintptr(len(chunk)) {
			chunk = chunk[:n-done]
		}
		rand.Read(chunk)
		c, err := t.CopyOut(addr+done, chunk)
		done += uintptr(c)
		if err != nil {
			if done == 0 {
				return 0, unix.EFAULT
			}
			break
		}
	}
	return done, nil
}

// sysinfoSize is sizeof(struct sysinfo) on 64-bit Linux.
const sysinfoSize = 112

// sysSysinfo implements sysinfo(2): uptime since the sandbox started,
// memory from the host, the sandbox's process count.
func sysSysinfo(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	k := t.Kernel()
	mem := k.HostMemory()
	b := t.Scratch()[:sysinfoSize]
	clear(b)
	le.PutUint64(b[0:], uint64(k.Uptime().Seconds()))
	// loads[3] at 8..32 stay 0.
	le.PutUint64(b[32:], mem.Total)
	le.PutUint64(b[40:], mem.Free)
	le.PutUint64(b[48:], mem.Shared)
	le.PutUint64(b[56:], mem.Buffer)
	le.PutUint64(b[64:], mem.TotalSwap)
	le.PutUint64(b[72:], mem.FreeSwap)
	le.PutUint16(b[80:], uint16(len(k.Processes())))
	// totalhigh, freehigh at 88 and 96 stay 0.
	le.PutUint32(b[104:], 1) // mem_unit: bytes
	return 0, copyOutAll(t, args[0], b)
}
