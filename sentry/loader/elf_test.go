package loader

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// minimalELF returns a valid static ET_EXEC of one page: the ELF header,
// then nphdr program headers (the first a PT_LOAD of the whole file at
// 0x400000, the others PT_NULL), then code.
func minimalELF(nphdr int) []byte {
	b := make([]byte, pageSize)
	le := binary.LittleEndian
	copy(b, []byte{0x7f, 'E', 'L', 'F', elfClass64, elfData2LSB, evCurrent})
	le.PutUint16(b[16:], etExec)
	le.PutUint16(b[18:], elfMachine)
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[24:], 0x400000+0x800) // entry
	le.PutUint64(b[32:], elfHeaderSize)  // phoff
	le.PutUint16(b[52:], elfHeaderSize)
	le.PutUint16(b[54:], progHdrSize)
	le.PutUint16(b[56:], uint16(nphdr))
	ph := b[elfHeaderSize:]
	le.PutUint32(ph[0:], ptLoad)
	le.PutUint32(ph[4:], pfR|pfX)
	le.PutUint64(ph[8:], 0)
	le.PutUint64(ph[16:], 0x400000)
	le.PutUint64(ph[24:], 0x400000)
	le.PutUint64(ph[32:], pageSize)
	le.PutUint64(ph[40:], 2*pageSize)
	le.PutUint64(ph[48:], pageSize)
	return b
}

// phOff returns the offset of field off in program header i.
func phOff(i, off int) int { return elfHeaderSize + i*progHdrSize + off }

func TestParseMinimal(t *testing.T) {
	b := minimalELF(2)
	info, err := parseELF(bytes.NewReader(b), int64(len(b)), "min")
	if err != nil {
		t.Fatal(err)
	}
	if len(info.loads) != 1 || !info.hasPhdr || info.phdrVaddr != 0x400000+elfHeaderSize || info.execStack {
		t.Errorf("parsed %+v", info)
	}
}

func TestParseCorrupt(t *testing.T) {
	le := binary.LittleEndian
	tests := []struct {
		name    string
		corrupt func(b []byte) []byte
		want    string
	}{
		{"empty", func(b []byte) []byte { return nil }, "too short"},
		{"truncated header", func(b []byte) []byte { return b[:40] }, "too short"},
		{"bad magic", func(b []byte) []byte { b[1] = 'X'; return b }, "not an ELF"},
		{"32-bit", func(b []byte) []byte { b[4] = 1; return b }, "class"},
		{"big-endian", func(b []byte) []byte { b[5] = 2; return b }, "encoding"},
		{"bad version", func(b []byte) []byte { b[6] = 0; return b }, "version"},
		{"relocatable", func(b []byte) []byte { le.PutUint16(b[16:], 1); return b }, "type"},
		{"core file", func(b []byte) []byte { le.PutUint16(b[16:], 4); return b }, "type"},
		{"other machine", func(b []byte) []byte { le.PutUint16(b[18:], 40); return b }, "machine"},
		{"bad phentsize", func(b []byte) []byte { le.PutUint16(b[54:], 32); return b }, "header size"},
		{"no phdrs", func(b []byte) []byte { le.PutUint16(b[56:], 0); return b }, "program headers"},
		{"too many phdrs", func(b []byte) []byte { le.PutUint16(b[56:], 0xffff); return b }, "program headers"},
		{"phdrs past end", func(b []byte) []byte { le.PutUint16(b[56:], 80); return b }, "past the end"},
		{"phoff huge", func(b []byte) []byte { le.PutUint64(b[32:], 1<<63); return b }, "past the end"},
		{"phoff wraps", func(b []byte) []byte { le.PutUint64(b[32:], ^uint64(0)-10); return b }, "past the end"},
		{"filesz above memsz", func(b []byte) []byte { le.PutUint64(b[phOff(0, 40):], 1); return b }, "above memory size"},
		{"segment past end", func(b []byte) []byte { le.PutUint64(b[phOff(0, 8):], pageSize); return b }, "past the end"},
		{"segment offset wraps", func(b []byte) []byte { le.PutUint64(b[phOff(0, 8):], ^uint64(0)); return b }, "past the end"},
		{"misaligned", func(b []byte) []byte { le.PutUint64(b[phOff(0, 16):], 0x400010); return b }, "modulo"},
		{"memsz wraps", func(b []byte) []byte { le.PutUint64(b[phOff(0, 40):], ^uint64(0)); return b }, "beyond"},
		{"kernel address", func(b []byte) []byte { le.PutUint64(b[phOff(0, 16):], 0xffff800000000000); return b }, "beyond"},
		{"overlapping loads", func(b []byte) []byte {
			copy(b[phOff(1, 0):phOff(2, 0)], b[phOff(0, 0):phOff(1, 0)])
			return b
		}, "overlapping"},
		{"no PT_LOAD", func(b []byte) []byte { le.PutUint32(b[phOff(0, 0):], 0); return b }, "no PT_LOAD"},
		{"entry outside", func(b []byte) []byte { le.PutUint64(b[24:], 0x1000); return b }, "entry point"},
		{"interp not terminated", func(b []byte) []byte { return withInterp(b, "/lib/ld.so", false) }, "NUL"},
		{"interp past end", func(b []byte) []byte {
			b = withInterp(b, "/lib/ld.so", true)
			le.PutUint64(b[phOff(1, 32):], pageSize)
			return b
		}, "PT_INTERP"},
		{"interp empty", func(b []byte) []byte { return withInterp(b, "", true) }, "PT_INTERP"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.corrupt(minimalELF(2))
			_, err := parseELF(bytes.NewReader(b), int64(len(b)), "bad")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("parseELF = %v, want an error containing %q", err, tc.want)
			}
			if !errors.Is(err, unix.ENOEXEC) {
				t.Errorf("error %v is not ENOEXEC", err)
			}
		})
	}
}

// withInterp turns program header 1 into a PT_INTERP naming path.
func withInterp(b []byte, path string, nul bool) []byte {
	le := binary.LittleEndian
	const off = 0x400
	s := path
	if nul {
		s += "\x00"
	}
	copy(b[off:], s)
	le.PutUint32(b[phOff(1, 0):], ptInterp)
	le.PutUint64(b[phOff(1, 8):], off)
	le.PutUint64(b[phOff(1, 32):], uint64(len(s)))
	return b
}

func TestParseInterp(t *testing.T) {
	b := withInterp(minimalELF(2), "/lib64/ld-linux-x86-64.so.2", true)
	info, err := parseELF(bytes.NewReader(b), int64(len(b)), "dyn")
	if err != nil {
		t.Fatal(err)
	}
	if info.interp != "/lib64/ld-linux-x86-64.so.2" {
		t.Errorf("interp %q", info.interp)
	}
}

func FuzzParseELF(f *testing.F) {
	f.Add(minimalELF(1))
	f.Add(minimalELF(3))
	f.Add(withInterp(minimalELF(2), "/lib/ld.so", true))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := parseELF(bytes.NewReader(b), int64(len(b)), "fuzz")
		if err != nil {
			return
		}
		// What parses must be safe to plan a load from.
		if len(info.loads) == 0 {
			t.Fatal("accepted without PT_LOAD")
		}
		lo, hi := info.span()
		if lo > hi {
			t.Fatalf("span %#x-%#x", lo, hi)
		}
	})
}

func TestLoadMinimal(t *testing.T) {
	le := binary.LittleEndian
	b := minimalELF(2)
	// Only 0x900 bytes come from the file: the rest of the read-only
	// page must read as zero, though the file has bytes there.
	le.PutUint64(b[phOff(0, 32):], 0x900)
	for i := 0x900; i < len(b); i++ {
		b[i] = 0xff
	}
	// Program header 1: PT_GNU_STACK asking for an executable stack.
	le.PutUint32(b[phOff(1, 0):], ptGNUStack)
	le.PutUint32(b[phOff(1, 4):], pfR|pfW|pfX)
	path := filepath.Join(t.TempDir(), "min")
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	m, as := newMM(0)
	res, err := Load(m, openFile(t, path), LoadArgs{Filename: "min", Argv: []string{"min"}, NoRandomize: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Entry != 0x400800 || res.Bias != 0 {
		t.Errorf("entry %#x bias %#x", res.Entry, res.Bias)
	}
	tail := make([]byte, 2*pageSize-0x900)
	if _, err := m.CopyIn(0x400900, tail); err != nil {
		t.Fatal(err)
	}
	if bytes.IndexFunc(tail, func(r rune) bool { return r != 0 }) >= 0 {
		t.Error("bss of a read-only segment not zeroed")
	}
	for _, pg := range []uintptr{0x400000, 0x401000} {
		if prot, ok := as.Prot(pg); !ok || prot != unix.PROT_READ|unix.PROT_EXEC {
			t.Errorf("page %#x prot %d (mapped %v), want r-x", pg, prot, ok)
		}
	}
	if _, err := m.CopyOut(0x400900, []byte{1}); !errors.Is(err, unix.EFAULT) {
		t.Errorf("text writable after loading: %v", err)
	}
	if res.BrkStart != 0x402000 {
		t.Errorf("brk start %#x, want 0x402000 without randomisation", res.BrkStart)
	}
	var stack string
	for _, e := range m.Maps() {
		if e.Name == "[stack]" {
			stack = e.Perms
		}
	}
	if stack != "rwxp" {
		t.Errorf("stack perms %q, want rwxp from PT_GNU_STACK", stack)
	}
}
