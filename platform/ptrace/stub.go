package ptrace

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// Layout of the stub image and of its scratch page.
const (
	pageSize = 0x1000

	// codeOffset is where stubCode starts within the code page (after the
	// ELF header and program headers, which the kernel maps too).
	codeOffset = 0x100

	// scratchBase is the stub's read-write page, used to pass structures
	// to injected calls (msghdr, sigaction, BPF program).
	scratchBase = stubBase + pageSize

	// stubEnd is one past the stub's last page.
	stubEnd = scratchBase + pageSize

	// Offsets in the scratch page.
	scratchMsghdr  = 0    // struct msghdr (56 bytes)
	scratchIovec   = 64   // struct iovec (16 bytes)
	scratchPayload = 80   // the 8-byte sequence number sent with each fd
	scratchCmsg    = 96   // cmsg buffer for one SCM_RIGHTS fd (32 bytes)
	scratchSigact  = 256  // struct kernel_sigaction (32 bytes)
	scratchCaps    = 320  // capset header and data (8 + 24 bytes)
	scratchFprog   = 512  // struct sock_fprog (16 bytes)
	scratchFilter  = 1024 // the BPF program, up to 384 instructions
	scratchCmsgLen = 32

	// stubSocketFD is the stub end of the fd-passing socket: the zygote
	// gets it as fd 3 (os/exec ExtraFiles[0]) and every fork inherits it.
	stubSocketFD = 3
)

// stubImage returns a static ELF64 executable (ET_EXEC) with a read+exec
// code page at stubBase holding stubCode and a zero-filled read+write
// scratch page right after it. Nothing else is in it: no interpreter, no
// sections, no stack use.
func stubImage() []byte {
	const (
		ehSize = 64
		phSize = 56
		phNum  = 2
	)
	img := make([]byte, codeOffset+len(stubCode))
	le := binary.LittleEndian

	// ELF header.
	copy(img[0:], []byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* LE */, 1 /* EV_CURRENT */})
	le.PutUint16(img[16:], 2) // ET_EXEC
	le.PutUint16(img[18:], elfMachine)
	le.PutUint32(img[20:], 1) // e_version
	le.PutUint64(img[24:], stubBase+codeOffset+entryOffset)
	le.PutUint64(img[32:], ehSize) // e_phoff
	le.PutUint64(img[40:], 0)      // e_shoff
	le.PutUint32(img[48:], 0)      // e_flags
	le.PutUint16(img[52:], ehSize)
	le.PutUint16(img[54:], phSize)
	le.PutUint16(img[56:], phNum)
	le.PutUint16(img[58:], 64) // e_shentsize
	le.PutUint16(img[60:], 0)  // e_shnum
	le.PutUint16(img[62:], 0)  // e_shstrndx

	phdr := func(i int, flags uint32, off, vaddr, filesz, memsz uint64) {
		p := img[ehSize+i*phSize:]
		le.PutUint32(p[0:], 1) // PT_LOAD
		le.PutUint32(p[4:], flags)
		le.PutUint64(p[8:], off)
		le.PutUint64(p[16:], vaddr)
		le.PutUint64(p[24:], vaddr) // p_paddr
		le.PutUint64(p[32:], filesz)
		le.PutUint64(p[40:], memsz)
		le.PutUint64(p[48:], pageSize)
	}
	const pfX, pfW, pfR = 1, 2, 4
	phdr(0, pfR|pfX, 0, stubBase, uint64(len(img)), pageSize)
	// The scratch page has no file contents: the kernel maps zero pages.
	phdr(1, pfR|pfW, 0, scratchBase, 0, pageSize)

	copy(img[codeOffset:], stubCode)
	return img
}

// BPF opcodes (linux/bpf_common.h) used by stubFilter.
const (
	bpfLdWAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfJeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfRetK   = unix.BPF_RET | unix.BPF_K

	seccompDataNr   = 0 // offsetof(struct seccomp_data, nr)
	seccompDataArch = 4 // offsetof(struct seccomp_data, arch)
	// seccompDataIPLow and seccompDataIPHigh are the halves of
	// seccomp_data.instruction_pointer.
	seccompDataIPLow  = 8
	seccompDataIPHigh = 12
)

// stubAllowed lists the host calls a stub may make once its filter is in:
// exactly what the platform injects after the zygote is set up. App system
// calls never reach the filter: under PTRACE_SYSEMU the kernel stops the
// thread and skips the call before seccomp runs.
var stubAllowed = []uint32{
	sysMmap, sysMunmap, sysMprotect, sysClone, sysRecvmsg, sysClose,
}

// stubFilter builds the stub's seccomp program by hand: trap the legacy
// vsyscall page's calls (vsyscallTrap), check the architecture, then
// allow the listed numbers, then kill the process.
func stubFilter() []unix.SockFilter {
	prog := append(vsyscallTrap(), []unix.SockFilter{
		{Code: bpfLdWAbs, K: seccompDataArch},
		{Code: bpfJeqK, Jt: 1, Jf: 0, K: auditArch},
		{Code: bpfRetK, K: unix.SECCOMP_RET_KILL_PROCESS},
		{Code: bpfLdWAbs, K: seccompDataNr},
	}...)
	for i, nr := range stubAllowed {
		// On a match, jump to the ALLOW at the end: skip the remaining
		// comparisons and the KILL.
		skip := uint8(len(stubAllowed) - i)
		prog = append(prog, unix.SockFilter{Code: bpfJeqK, Jt: skip, Jf: 0, K: nr})
	}
	prog = append(prog,
		unix.SockFilter{Code: bpfRetK, K: unix.SECCOMP_RET_KILL_PROCESS},
		unix.SockFilter{Code: bpfRetK, K: unix.SECCOMP_RET_ALLOW},
	)
	return prog
}

// checkStubLayout verifies at start-up that the fixed layout fits.
func checkStubLayout() error {
	if codeOffset+len(stubCode) > pageSize {
		return fmt.Errorf("ptrace: stub code of %d bytes does not fit its page", len(stubCode))
	}
	if n := len(stubFilter()); scratchFilter+n*8 > pageSize {
		return fmt.Errorf("ptrace: stub filter of %d instructions does not fit the scratch page", n)
	}
	return nil
}
