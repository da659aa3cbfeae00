package loader

import (
	"encoding/binary"
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// ELF64 constants (elf(5), /usr/include/elf.h).
const (
	elfHeaderSize = 64
	progHdrSize   = 56
	// maxProgHdrBytes bounds the program header table as Linux does.
	maxProgHdrBytes = 65536
	// maxInterpLen bounds the PT_INTERP path (PATH_MAX).
	maxInterpLen = 4096

	etExec = 2
	etDyn  = 3

	ptLoad      = 1
	ptInterp    = 3
	ptPhdr      = 6
	ptGNUStack  = 0x6474e551
	pfX         = 1
	pfW         = 2
	pfR         = 4
	elfClass64  = 2
	elfData2LSB = 1
	evCurrent   = 1
)

// progHeader is one ELF64 program header.
type progHeader struct {
	typ, flags                              uint32
	off, vaddr, paddr, filesz, memsz, align uint64
}

// elfInfo is what the loader needs from an executable, validated.
type elfInfo struct {
	typ   uint16
	entry uint64
	phoff uint64
	phnum int
	// phdrs are all program headers; loads the PT_LOAD ones, in order of
	// rising vaddr.
	phdrs []progHeader
	loads []progHeader
	// interp is the PT_INTERP path, "" for a static executable.
	interp string
	// phdrVaddr is PT_PHDR's address, or the address the program headers
	// get through the PT_LOAD that covers them; hasPhdr is false when
	// neither exists.
	phdrVaddr uint64
	hasPhdr   bool
	// execStack is set by PT_GNU_STACK with PF_X.
	execStack bool
}

// noexec returns an ENOEXEC error about file name.
func noexec(name, format string, a ...any) error {
	return fmt.Errorf("loader: %s: %s: %w", name, fmt.Sprintf(format, a...), unix.ENOEXEC)
}

// parseELF reads and validates the ELF headers of r (size bytes long).
// Every offset and size is checked against the file, so a malformed file
// gives an error, never a panic or a huge allocation.
func parseELF(r io.ReaderAt, size int64, name string) (*elfInfo, error) {
	var hdr [elfHeaderSize]byte
	if size < elfHeaderSize {
		return nil, noexec(name, "too short for an ELF header (%d bytes)", size)
	}
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, fmt.Errorf("loader: %s: read ELF header: %w", name, err)
	}
	if hdr[0] != 0x7f || hdr[1] != 'E' || hdr[2] != 'L' || hdr[3] != 'F' {
		return nil, noexec(name, "not an ELF file")
	}
	if hdr[4] != elfClass64 {
		return nil, noexec(name, "ELF class %d, want ELFCLASS64", hdr[4])
	}
	if hdr[5] != elfData2LSB {
		return nil, noexec(name, "ELF data encoding %d, want little-endian", hdr[5])
	}
	if hdr[6] != evCurrent {
		return nil, noexec(name, "ELF version %d", hdr[6])
	}
	le := binary.LittleEndian
	info := &elfInfo{typ: le.Uint16(hdr[16:])}
	if info.typ != etExec && info.typ != etDyn {
		return nil, noexec(name, "ELF type %d is neither ET_EXEC nor ET_DYN", info.typ)
	}
	if m := le.Uint16(hdr[18:]); m != elfMachine {
		return nil, noexec(name, "ELF machine %d, this is %s (%d)", m, archName, elfMachine)
	}
	info.entry = le.Uint64(hdr[24:])
	info.phoff = le.Uint64(hdr[32:])
	phentsize := le.Uint16(hdr[54:])
	info.phnum = int(le.Uint16(hdr[56:]))
	if phentsize != progHdrSize {
		return nil, noexec(name, "program header size %d, want %d", phentsize, progHdrSize)
	}
	tableSize := uint64(info.phnum) * progHdrSize
	if info.phnum == 0 || tableSize > maxProgHdrBytes {
		return nil, noexec(name, "%d program headers", info.phnum)
	}
	if info.phoff > uint64(size) || tableSize > uint64(size)-info.phoff {
		return nil, noexec(name, "program headers at %#x run past the end of the file", info.phoff)
	}
	table := make([]byte, tableSize)
	if _, err := r.ReadAt(table, int64(info.phoff)); err != nil {
		return nil, fmt.Errorf("loader: %s: read program headers: %w", name, err)
	}
	info.phdrs = make([]progHeader, info.phnum)
	for i := range info.phdrs {
		b := table[i*progHdrSize:]
		info.phdrs[i] = progHeader{
			typ: le.Uint32(b[0:]), flags: le.Uint32(b[4:]),
			off: le.Uint64(b[8:]), vaddr: le.Uint64(b[16:]), paddr: le.Uint64(b[24:]),
			filesz: le.Uint64(b[32:]), memsz: le.Uint64(b[40:]), align: le.Uint64(b[48:]),
		}
	}
	if err := info.check(r, size, name); err != nil {
		return nil, err
	}
	return info, nil
}

// check validates the program headers and fills in the derived fields.
func (info *elfInfo) check(r io.ReaderAt, size int64, name string) error {
	tableSize := uint64(info.phnum) * progHdrSize
	for i, ph := range info.phdrs {
		switch ph.typ {
		case ptLoad:
			if ph.filesz > ph.memsz {
				return noexec(name, "segment %d: file size %#x above memory size %#x", i, ph.filesz, ph.memsz)
			}
			if ph.off > uint64(size) || ph.filesz > uint64(size)-ph.off {
				return noexec(name, "segment %d: file range %#x+%#x past the end of the file", i, ph.off, ph.filesz)
			}
			if ph.vaddr%pageSize != ph.off%pageSize {
				return noexec(name, "segment %d: address %#x and offset %#x differ modulo the page size", i, ph.vaddr, ph.off)
			}
			if ph.vaddr+ph.memsz < ph.vaddr || ph.vaddr+ph.memsz > maxSegmentEnd {
				return noexec(name, "segment %d: %#x+%#x beyond the address space", i, ph.vaddr, ph.memsz)
			}
			if n := len(info.loads); n > 0 && ph.vaddr < info.loads[n-1].vaddr+info.loads[n-1].memsz {
				return noexec(name, "segment %d: at %#x, below or overlapping the previous one", i, ph.vaddr)
			}
			info.loads = append(info.loads, ph)
		case ptInterp:
			if info.interp != "" {
				return noexec(name, "two PT_INTERP headers")
			}
			if ph.filesz < 2 || ph.filesz > maxInterpLen || ph.off > uint64(size) || ph.filesz > uint64(size)-ph.off {
				return noexec(name, "PT_INTERP: bad file range %#x+%#x", ph.off, ph.filesz)
			}
			buf := make([]byte, ph.filesz)
			if _, err := r.ReadAt(buf, int64(ph.off)); err != nil {
				return fmt.Errorf("loader: %s: read PT_INTERP: %w", name, err)
			}
			if buf[len(buf)-1] != 0 {
				return noexec(name, "PT_INTERP is not NUL-terminated")
			}
			info.interp = string(buf[:len(buf)-1])
			if info.interp == "" {
				return noexec(name, "PT_INTERP is empty")
			}
		case ptPhdr:
			info.phdrVaddr, info.hasPhdr = ph.vaddr, true
		case ptGNUStack:
			info.execStack = ph.flags&pfX != 0
		}
	}
	if len(info.loads) == 0 {
		return noexec(name, "no PT_LOAD segment")
	}
	if !info.hasPhdr {
		for _, ph := range info.loads {
			if ph.off <= info.phoff && info.phoff+tableSize <= ph.off+ph.filesz {
				info.phdrVaddr, info.hasPhdr = ph.vaddr+(info.phoff-ph.off), true
				break
			}
		}
	}
	inSegment := false
	for _, ph := range info.loads {
		if info.entry >= ph.vaddr && info.entry < ph.vaddr+ph.memsz {
			inSegment = true
			break
		}
	}
	if !inSegment {
		return noexec(name, "entry point %#x outside every PT_LOAD segment", info.entry)
	}
	return nil
}

// span returns the page range [lo, hi) the PT_LOAD segments cover before
// relocation.
func (info *elfInfo) span() (lo, hi uint64) {
	lo = info.loads[0].vaddr &^ (pageSize - 1)
	last := info.loads[len(info.loads)-1]
	hi = (last.vaddr + last.memsz + pageSize - 1) &^ (pageSize - 1)
	return lo, hi
}
