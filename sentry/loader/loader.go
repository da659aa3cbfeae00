// Package loader loads an ELF executable into a fresh memory manager and
// builds its initial stack (argv, envp, auxv) per the System V ABI, so a
// task can start running it.
//
// Static executables (ET_EXEC) load at their link addresses, static-pie
// (ET_DYN without PT_INTERP) at a random base, and dynamic executables
// with their interpreter (ld.so, PT_INTERP) at another random base; "#!"
// scripts are run through their interpreter (script.go).
package loader

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"moat/sentry/mm"

	"golang.org/x/sys/unix"
)

const pageSize = mm.PageSize

// File is the executable the loader reads: the kernel passes its
// gofer-backed file. A File that also implements mm.MappedFileRef is kept
// open by its mappings; one that implements mm.MappedFileID gives them
// their device and inode in /proc/self/maps.
type File interface {
	io.ReaderAt
	// HostFD is a host descriptor for the file's data, mapped privately
	// into the application.
	HostFD() int
	// Name is the file's path in the sandbox, for /proc/self/maps and
	// /proc/self/exe.
	Name() string
	// Size is the file's size in bytes.
	Size() int64
}

// LoadArgs are the inputs of one exec besides the file.
type LoadArgs struct {
	// Filename is the path execve was given; it becomes AT_EXECFN.
	Filename string
	// Argv and Envv are the arguments and the environment ("K=V").
	Argv, Envv []string
	// Credentials for the auxiliary vector.
	UID, EUID, GID, EGID uint32
	// Secure is AT_SECURE (set-user-ID exec).
	Secure bool
	// StackLimit is RLIMIT_STACK in bytes, 0 for the 8 MiB default. It
	// sizes the stack mapping (see StackSize) and the argument limit.
	StackLimit uint64
	// NoRandomize turns address randomisation off (ADDR_NO_RANDOMIZE).
	NoRandomize bool
	// Rand supplies AT_RANDOM's bytes; nil means crypto/rand.
	Rand io.Reader
	// Open opens a file exec needs besides the executable: the ELF
	// interpreter (PT_INTERP) or a "#!" script's interpreter, by the path
	// the file names, resolved as execve resolves its own path (in the
	// task's root, relative to its working directory). It must refuse
	// what execve refuses (ENOENT, EACCES for a non-regular or
	// non-executable file, ...). If the returned File is an io.Closer the
	// loader closes it when Load returns. Nil makes dynamic executables
	// and scripts fail with ENOEXEC.
	Open func(path string) (File, error)
}

// AuxEntry is one auxiliary vector entry.
type AuxEntry struct {
	Key, Val uint64
}

// LoadResult is what the kernel needs to start the program and to answer
// /proc questions about it later.
type LoadResult struct {
	// Entry is the first instruction, SP the initial stack pointer.
	Entry, SP uintptr
	// Path is the executable's path (/proc/self/exe).
	Path string
	// Auxv is the auxiliary vector as written to the stack (AT_NULL
	// excluded), for /proc/self/auxv.
	Auxv []AuxEntry
	// Bias is what was added to the ELF addresses (0 for ET_EXEC).
	Bias uintptr
	// BrkStart is where the heap starts (already given to the mm).
	BrkStart uintptr
	// Interp is the ELF interpreter's path ("" for a static executable)
	// and InterpBias its load bias, which is AT_BASE.
	Interp     string
	InterpBias uintptr
	// StackTop is the top of the stack mapping.
	StackTop uintptr
	// ArgvStart..ArgvEnd and EnvvStart..EnvvEnd hold the argument and
	// environment strings (/proc/self/cmdline and environ).
	ArgvStart, ArgvEnd, EnvvStart, EnvvEnd uintptr
}

// mappedExe presents the executable to mm as a read-only mapped file. It
// passes on the device and inode (mm.MappedFileID) and the references
// (mm.MappedFileRef) of a File that has them, so the mappings keep the
// file open after exec returns.
type mappedExe struct{ File }

// MapName implements mm.MappedFile.
func (f mappedExe) MapName() string { return f.Name() }

// OpenFlags implements mm.MappedFile.
func (f mappedExe) OpenFlags() int { return unix.O_RDONLY }

// MapDevIno implements mm.MappedFileID.
func (f mappedExe) MapDevIno() (dev, ino uint64) {
	if id, ok := f.File.(mm.MappedFileID); ok {
		return id.MapDevIno()
	}
	return 0, 0
}

// IncRef implements mm.MappedFileRef.
func (f mappedExe) IncRef() {
	if r, ok := f.File.(mm.MappedFileRef); ok {
		r.IncRef()
	}
}

// DecRef implements mm.MappedFileRef.
func (f mappedExe) DecRef() {
	if r, ok := f.File.(mm.MappedFileRef); ok {
		r.DecRef()
	}
}

// Load maps exe into m, which must be a fresh memory manager with nothing
// mapped, builds the initial stack and sets the heap start. A "#!" script
// is replaced by its interpreter (up to the kernel's nesting limit), and
// a dynamic executable's interpreter is loaded beside it; both are opened
// with args.Open. Errors that the application sees (from execve) wrap a
// unix.Errno: ENOEXEC for a malformed or unknown format, ELOOP for
// scripts nested too deep, ELIBBAD for a bad ELF interpreter, E2BIG for
// oversized arguments, ENOMEM when the address space is full, and what
// args.Open returns for files it cannot open.
func Load(m *mm.MemoryManager, exe File, args LoadArgs) (LoadResult, error) {
	var opened []File
	defer func() {
		for _, f := range opened {
			if c, ok := f.(io.Closer); ok {
				c.Close()
			}
		}
	}()
	exe, args, err := resolveScripts(exe, args, &opened)
	if err != nil {
		return LoadResult{}, err
	}
	name := exe.Name()
	if err := checkArgs(args); err != nil {
		return LoadResult{}, fmt.Errorf("loader: %s: %w", name, err)
	}
	info, err := parseELF(exe, exe.Size(), name)
	if err != nil {
		return LoadResult{}, err
	}
	var (
		interp     File
		interpInfo *elfInfo
	)
	if info.interp != "" {
		interp, interpInfo, err = openInterp(info.interp, name, args, &opened)
		if err != nil {
			return LoadResult{}, err
		}
	}
	randomize := !args.NoRandomize
	layout := m.ResetLayout(args.StackLimit, randomize)

	img, err := loadImage(m, mappedExe{exe}, info, etDynBase(m.MaxAddr()), randomize)
	if err != nil {
		return LoadResult{}, err
	}
	brk := img.end
	if randomize {
		// Linux's arch_randomize_brk: up to 32 MiB above the bss.
		brk += randomPages(32 << 20)
	}
	m.SetBrkStart(brk)

	res := LoadResult{
		Entry:    uintptr(info.entry) + img.bias,
		Path:     name,
		Bias:     img.bias,
		BrkStart: brk,
		StackTop: layout.StackTop,
	}
	if interp != nil {
		// The interpreter goes where the kernel's top-down allocator
		// puts it (below the randomised mmap base), like any library.
		iimg, err := loadImage(m, mappedExe{interp}, interpInfo, 0, randomize)
		if err != nil {
			return LoadResult{}, fmt.Errorf("loader: %s: interpreter: %w", name, err)
		}
		res.Interp = interp.Name()
		res.InterpBias = iimg.bias
		res.Entry = uintptr(interpInfo.entry) + iimg.bias
	}
	if err := buildStack(m, info, img, args, randomize, &res); err != nil {
		return LoadResult{}, fmt.Errorf("loader: %s: %w", name, err)
	}
	return res, nil
}

// resolveScripts follows "#!" lines from exe to the ELF file that will
// run, rewriting argv on the way; the files it opens are appended to
// opened for the caller to close.
func resolveScripts(exe File, args LoadArgs, opened *[]File) (File, LoadArgs, error) {
	// path is the current file as exec named it: the script path the
	// next interpreter receives.
	path := args.Filename
	for depth := 0; ; depth++ {
		head, err := readHead(exe)
		if err != nil {
			return nil, args, err
		}
		interp, arg, hasArg, err := parseScript(head)
		if errors.Is(err, errNotScript) {
			return exe, args, nil
		}
		if err != nil {
			return nil, args, fmt.Errorf("loader: %s: %w", exe.Name(), err)
		}
		if depth >= maxHandlerDepth {
			return nil, args, fmt.Errorf("loader: %s: interpreters nested more than %d deep: %w", exe.Name(), maxHandlerDepth, unix.ELOOP)
		}
		if interp == "" {
			// Linux looks the empty name up as the working
			// directory, which exec refuses as not a regular file.
			return nil, args, fmt.Errorf("loader: %s: empty interpreter name: %w", exe.Name(), unix.EACCES)
		}
		if args.Open == nil {
			return nil, args, fmt.Errorf("loader: %s: no opener for interpreter %q: %w", exe.Name(), interp, unix.ENOEXEC)
		}
		next, err := args.Open(interp)
		if err != nil {
			return nil, args, fmt.Errorf("loader: %s: interpreter %q: %w", exe.Name(), interp, err)
		}
		*opened = append(*opened, next)
		args.Argv = scriptArgv(args.Argv, interp, arg, hasArg, path)
		exe, path = next, interp
	}
}

// openInterp opens and checks the ELF interpreter named by exe's
// PT_INTERP. Like Linux, anything wrong with an interpreter that exists
// is ELIBBAD; an interpreter that itself asks for one is refused too.
func openInterp(path, exeName string, args LoadArgs, opened *[]File) (File, *elfInfo, error) {
	if args.Open == nil {
		return nil, nil, fmt.Errorf("loader: %s: no opener for interpreter %q: %w", exeName, path, unix.ENOEXEC)
	}
	f, err := args.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("loader: %s: interpreter %q: %w", exeName, path, err)
	}
	*opened = append(*opened, f)
	info, err := parseELF(f, f.Size(), f.Name())
	if err != nil {
		if errors.Is(err, unix.ENOEXEC) {
			return nil, nil, fmt.Errorf("loader: %s: bad interpreter: %w: %w", exeName, err, unix.ELIBBAD)
		}
		return nil, nil, err
	}
	if info.interp != "" {
		return nil, nil, fmt.Errorf("loader: %s: interpreter %q itself needs interpreter %q: %w", exeName, path, info.interp, unix.ELIBBAD)
	}
	return f, info, nil
}

// image is one ELF object mapped into memory.
type image struct {
	// bias is added to every ELF address; end is the page-aligned end of
	// the highest segment.
	bias, end uintptr
}

// etDynBase is where position-independent executables go before
// randomisation: two thirds of the way up the address space, as Linux's
// ELF_ET_DYN_BASE.
func etDynBase(maxAddr uintptr) uintptr { return (maxAddr / 3 * 2) &^ (pageSize - 1) }

// loadImage maps the PT_LOAD segments of f. An ET_DYN object first
// reserves its whole span at a free address, so segments keep their
// relative places; the gaps between segments are unmapped again. The
// span goes at base (plus up to 1 TiB when randomize is set) when that is
// free, or top-down from the mmap base when base is 0 or taken.
func loadImage(m *mm.MemoryManager, f mm.MappedFile, info *elfInfo, base uintptr, randomize bool) (image, error) {
	lo, hi := info.span()
	var bias uintptr
	if info.typ == etDyn {
		hint := base
		if randomize && hint != 0 {
			// Linux gives PIEs 28 bits of page randomisation.
			hint += randomPages(1 << 40)
		}
		base, err := m.MMap(mm.MMapOpts{
			Addr:   hint,
			Length: uintptr(hi - lo),
			Prot:   unix.PROT_NONE,
			Flags:  unix.MAP_PRIVATE | unix.MAP_ANONYMOUS,
		})
		if err != nil {
			return image{}, fmt.Errorf("loader: %s: reserve %#x bytes: %w", f.MapName(), hi-lo, err)
		}
		bias = base - uintptr(lo)
	}
	cursor := uintptr(lo) + bias
	for i, ph := range info.loads {
		start := (uintptr(ph.vaddr) + bias) &^ (pageSize - 1)
		if start > cursor {
			if err := m.MUnmap(cursor, start-cursor); err != nil {
				return image{}, fmt.Errorf("loader: %s: unmap gap before segment %d: %w", f.MapName(), i, err)
			}
		}
		end, err := mapSegment(m, f, ph, bias)
		if err != nil {
			return image{}, fmt.Errorf("loader: %s: segment %d at %#x: %w", f.MapName(), i, ph.vaddr, err)
		}
		cursor = max(cursor, end)
	}
	return image{bias: bias, end: uintptr(hi) + bias}, nil
}

// segProt turns ELF segment flags into PROT_* bits.
func segProt(flags uint32) int {
	prot := 0
	if flags&pfR != 0 {
		prot |= unix.PROT_READ
	}
	if flags&pfW != 0 {
		prot |= unix.PROT_WRITE
	}
	if flags&pfX != 0 {
		prot |= unix.PROT_EXEC
	}
	return prot
}

// mapSegment maps one PT_LOAD segment: its file part as a private file
// mapping, the zeroed tail of the last file page, and anonymous memory for
// the rest of the bss. It returns the page-aligned end of the segment.
func mapSegment(m *mm.MemoryManager, f mm.MappedFile, ph progHeader, bias uintptr) (uintptr, error) {
	prot := segProt(ph.flags)
	vaddr := uintptr(ph.vaddr) + bias
	start := vaddr &^ (pageSize - 1)
	fileEnd := vaddr + uintptr(ph.filesz)
	memEnd := vaddr + uintptr(ph.memsz)
	mapEnd := (memEnd + pageSize - 1) &^ (pageSize - 1)
	fixed := unix.MAP_PRIVATE | unix.MAP_FIXED
	anonStart := start
	if ph.filesz > 0 {
		fileMapEnd := (fileEnd + pageSize - 1) &^ (pageSize - 1)
		_, err := m.MMap(mm.MMapOpts{
			Addr:   start,
			Length: fileMapEnd - start,
			Prot:   prot,
			Flags:  fixed,
			File:   f,
			Offset: int64(ph.off - (ph.vaddr - ph.vaddr&^(pageSize-1))),
		})
		if err != nil {
			return 0, fmt.Errorf("map file part: %w", err)
		}
		anonStart = fileMapEnd
		if ph.memsz > ph.filesz && fileEnd%pageSize != 0 {
			// Like Linux's padzero, clear to the end of the page,
			// not just to p_memsz: ld.so's start-up allocator takes
			// the rest of its last bss page as zeroed memory.
			if err := zeroTail(m, fileEnd, fileMapEnd, prot); err != nil {
				return 0, err
			}
		}
	}
	if mapEnd > anonStart {
		_, err := m.MMap(mm.MMapOpts{
			Addr:   anonStart,
			Length: mapEnd - anonStart,
			Prot:   prot,
			Flags:  fixed | unix.MAP_ANONYMOUS,
		})
		if err != nil {
			return 0, fmt.Errorf("map bss: %w", err)
		}
	}
	return mapEnd, nil
}

// zeroTail clears [from, to) of a private file mapping: the bytes of the
// last file page past p_filesz belong to the bss (or lie past it on the
// same page) and must read as zero. A
// segment that is not writable is made writable for the moment.
func zeroTail(m *mm.MemoryManager, from, to uintptr, prot int) error {
	page := from &^ (pageSize - 1)
	readOnly := prot&unix.PROT_WRITE == 0
	if readOnly {
		if err := m.MProtect(page, pageSize, prot|unix.PROT_WRITE); err != nil {
			return fmt.Errorf("make bss page %#x writable: %w", page, err)
		}
	}
	var zeros [pageSize]byte
	if _, err := m.CopyOut(from, zeros[:to-from]); err != nil {
		return fmt.Errorf("zero bss at %#x: %w", from, err)
	}
	if readOnly {
		if err := m.MProtect(page, pageSize, prot); err != nil {
			return fmt.Errorf("restore protection of bss page %#x: %w", page, err)
		}
	}
	return nil
}

// randomBelow returns a random number in [0, n); n must be positive.
func randomBelow(n uint64) uint64 {
	var b [8]byte
	rand.Read(b[:]) // crypto/rand.Read never fails on Linux.
	return binary.LittleEndian.Uint64(b[:]) % n
}

// randomPages returns a random page-aligned amount below limit, which is
// at least a page.
func randomPages(limit uint64) uintptr {
	return uintptr(randomBelow(limit/pageSize)) * pageSize
}
