package loader

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"

	"moat/platform/arch"
	"moat/sentry/mm"

	"golang.org/x/sys/unix"
)

// Auxiliary vector keys (/usr/include/elf.h).
const (
	atNull         = 0
	atPhdr         = 3
	atPhent        = 4
	atPhnum        = 5
	atPagesz       = 6
	atBase         = 7
	atFlags        = 8
	atEntry        = 9
	atUID          = 11
	atEUID         = 12
	atGID          = 13
	atEGID         = 14
	atPlatform     = 15
	atHWCap        = 16
	atClktck       = 17
	atSecure       = 23
	atRandom       = 25
	atHWCap2       = 26
	atExecFn       = 31
	atSysinfoEHdr  = 33
	atMinSigStkSz  = 51
	defaultMinSig  = 2048 // MINSIGSTKSZ, when the host does not say
	maxArgStrLen   = 32 * pageSize
	argMax         = 32 * pageSize // ARG_MAX: the floor of the argument limit
	stackLimitCeil = 8 << 20       // _STK_LIM
	// Stack mapping bounds: RLIMIT_STACK sizes it, within these.
	minStackSize = 128 << 10
	maxStackSize = 512 << 20
)

// hostAux holds the host's own hardware capability words, read once at
// start-up from the sentry's auxiliary vector (no /proc needed): the app
// runs on the same CPU, so it gets the same view.
var hostAux = readHostAux()

type hostAuxValues struct {
	hwcap, hwcap2, minSigStkSz uint64
}

func readHostAux() hostAuxValues {
	v := hostAuxValues{minSigStkSz: defaultMinSig}
	aux, err := unix.Auxv()
	if err != nil {
		return v
	}
	for _, kv := range aux {
		switch kv[0] {
		case atHWCap:
			v.hwcap = uint64(kv[1])
		case atHWCap2:
			v.hwcap2 = uint64(kv[1])
		case atMinSigStkSz:
			if kv[1] != 0 {
				v.minSigStkSz = uint64(kv[1])
			}
		}
	}
	return v
}

// StackSize is the size of the stack mapping for RLIMIT_STACK limit (0
// for the default): the limit itself within [128 KiB, 512 MiB]. The
// mapping is made whole at exec and does not grow on faults.
func StackSize(limit uint64) uintptr {
	if limit == 0 {
		limit = mm.DefaultStackLimit
	}
	return uintptr(min(max(limit, minStackSize), maxStackSize)) &^ (pageSize - 1)
}

// argLimit is how many bytes of argument and environment strings and
// pointers an exec may pass, as Linux computes it: a quarter of
// RLIMIT_STACK, at most 3/4 of 8 MiB, at least ARG_MAX.
func argLimit(stackLimit uint64) uint64 {
	if stackLimit == 0 {
		stackLimit = mm.DefaultStackLimit
	}
	return max(min(stackLimitCeil/4*3, stackLimit/4), argMax)
}

// checkArgs fails with E2BIG when argv and envp do not fit.
func checkArgs(args LoadArgs) error {
	total := uint64(max(len(args.Argv), 1)+len(args.Envv)) * 8
	for _, list := range [][]string{args.Argv, args.Envv, {args.Filename}} {
		for _, s := range list {
			if len(s)+1 > maxArgStrLen {
				return fmt.Errorf("argument of %d bytes: %w", len(s), unix.E2BIG)
			}
			total += uint64(len(s)) + 1
		}
	}
	if limit := argLimit(args.StackLimit); total > limit {
		return fmt.Errorf("arguments and environment take %d bytes, limit %d: %w", total, limit, unix.E2BIG)
	}
	return nil
}

// stackWriter builds the initial stack downwards in a Go buffer that
// mirrors [top-len(buf), top), to be copied out in one go.
type stackWriter struct {
	top uintptr
	buf []byte // buf[len(buf)-1] is the byte at top-1
	p   uintptr
}

func (w *stackWriter) grow(to uintptr) {
	need := int(w.top - to)
	if need > len(w.buf) {
		nb := make([]byte, max(need, 2*len(w.buf)))
		copy(nb[len(nb)-len(w.buf):], w.buf)
		w.buf = nb
	}
}

// at returns the buffer bytes for [addr, addr+n).
func (w *stackWriter) at(addr uintptr, n int) []byte {
	off := len(w.buf) - int(w.top-addr)
	return w.buf[off : off+n]
}

// pushString puts s and its NUL below p and returns its address.
func (w *stackWriter) pushString(s string) uintptr {
	w.p -= uintptr(len(s) + 1)
	w.grow(w.p)
	b := w.at(w.p, len(s)+1)
	copy(b, s)
	b[len(s)] = 0
	return w.p
}

// pushBytes puts b below p and returns its address.
func (w *stackWriter) pushBytes(b []byte) uintptr {
	w.p -= uintptr(len(b))
	w.grow(w.p)
	copy(w.at(w.p, len(b)), b)
	return w.p
}

// buildStack maps the stack and writes the initial process stack, from
// the top: an 8-byte end marker, AT_EXECFN's string, the environment
// strings, the argument strings, the platform string, AT_RANDOM's bytes,
// then, 16-byte aligned at sp: argc, argv[], NULL, envp[], NULL, auxv,
// AT_NULL.
func buildStack(m *mm.MemoryManager, info *elfInfo, img image, args LoadArgs, randomize bool, res *LoadResult) error {
	size := StackSize(args.StackLimit)
	top := res.StackTop
	prot := unix.PROT_READ | unix.PROT_WRITE
	if info.execStack {
		prot |= unix.PROT_EXEC
	}
	if _, err := m.MMap(mm.MMapOpts{
		Addr:   top - size,
		Length: size,
		Prot:   prot,
		Flags:  unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_FIXED | unix.MAP_GROWSDOWN,
		Name:   "[stack]",
	}); err != nil {
		return fmt.Errorf("map stack %#x-%#x: %w", top-size, top, err)
	}

	w := &stackWriter{top: top, p: top - 8}
	w.grow(w.p)
	execFn := w.pushString(args.Filename)
	res.EnvvEnd = w.p
	envp := make([]uintptr, len(args.Envv))
	for i := len(args.Envv) - 1; i >= 0; i-- {
		envp[i] = w.pushString(args.Envv[i])
	}
	res.EnvvStart = w.p
	res.ArgvEnd = w.p
	argv := make([]uintptr, len(args.Argv))
	for i := len(args.Argv) - 1; i >= 0; i-- {
		argv[i] = w.pushString(args.Argv[i])
	}
	res.ArgvStart = w.p
	if randomize {
		// Linux's arch_align_stack: up to 8 KiB of random offset.
		w.p -= uintptr(randomBelow(8 << 10))
	}
	w.p &^= 15
	platform := w.pushString(arch.Name)
	var rnd [16]byte
	src := args.Rand
	if src == nil {
		src = rand.Reader
	}
	if _, err := io.ReadFull(src, rnd[:]); err != nil {
		return fmt.Errorf("read AT_RANDOM bytes: %w", err)
	}
	random := w.pushBytes(rnd[:])

	phdr := uint64(img.bias) + info.phdrVaddr
	if !info.hasPhdr {
		// No segment maps the headers: point where they would be.
		phdr = uint64(img.bias) + info.loads[0].vaddr - info.loads[0].off + info.phoff
	}
	var auxv []AuxEntry
	if v := m.VDSO(); v != 0 {
		auxv = append(auxv, AuxEntry{atSysinfoEHdr, uint64(v)})
	}
	auxv = append(auxv,
		AuxEntry{atMinSigStkSz, hostAux.minSigStkSz},
		AuxEntry{atHWCap, hostAux.hwcap},
		AuxEntry{atPagesz, pageSize},
		AuxEntry{atClktck, 100},
		AuxEntry{atPhdr, phdr},
		AuxEntry{atPhent, progHdrSize},
		AuxEntry{atPhnum, uint64(info.phnum)},
		AuxEntry{atBase, uint64(res.InterpBias)},
		AuxEntry{atFlags, 0},
		AuxEntry{atEntry, uint64(img.bias) + info.entry},
		AuxEntry{atUID, uint64(args.UID)},
		AuxEntry{atEUID, uint64(args.EUID)},
		AuxEntry{atGID, uint64(args.GID)},
		AuxEntry{atEGID, uint64(args.EGID)},
		AuxEntry{atSecure, b2u(args.Secure)},
		AuxEntry{atRandom, uint64(random)},
		AuxEntry{atHWCap2, hostAux.hwcap2},
		AuxEntry{atExecFn, uint64(execFn)},
		AuxEntry{atPlatform, uint64(platform)},
	)
	res.Auxv = auxv

	words := 1 + len(argv) + 1 + len(envp) + 1 + 2*(len(auxv)+1)
	sp := (w.p - uintptr(words*8)) &^ 15
	if top-sp > size {
		return fmt.Errorf("initial stack needs %d bytes, stack is %d: %w", top-sp, size, unix.E2BIG)
	}
	w.grow(sp)
	table := w.at(sp, words*8)
	clear(table)
	i := 0
	put := func(v uint64) {
		binary.LittleEndian.PutUint64(table[i*8:], v)
		i++
	}
	put(uint64(len(argv)))
	for _, a := range argv {
		put(uint64(a))
	}
	put(0)
	for _, e := range envp {
		put(uint64(e))
	}
	put(0)
	for _, a := range auxv {
		put(a.Key)
		put(a.Val)
	}
	put(atNull)
	put(0)
	if _, err := m.CopyOut(sp, w.at(sp, int(top-sp))); err != nil {
		return fmt.Errorf("write initial stack at %#x: %w", sp, err)
	}
	res.SP = sp
	return nil
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
