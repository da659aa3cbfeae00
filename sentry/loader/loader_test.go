package loader

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"moat/platform"
	"moat/platform/arch"
	"moat/sentry/mm"
	"moat/sentry/mm/mmtest"

	"golang.org/x/sys/unix"
)

// testProgram has initialised data, a large bss and a read-only string,
// so every kind of segment content is there to check.
const testProgram = `
#include <stdio.h>
int data = 42;
char bss[100000];
const char *msg = "hello from moat";
int main(int argc, char **argv) { bss[99999] = data; puts(msg); return argc; }
`

var (
	buildOnce sync.Once
	builtDir  string
	buildErr  error
)

// buildProgram compiles testProgram with gcc and extra flags (once per
// flag set per test binary run) and returns the executable's path.
func buildProgram(t *testing.T, name string, flags ...string) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed: cannot build test executables")
	}
	buildOnce.Do(func() {
		builtDir, buildErr = os.MkdirTemp("", "moat-loader-test")
		if buildErr == nil {
			buildErr = os.WriteFile(filepath.Join(builtDir, "prog.c"), []byte(testProgram), 0o644)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	out := filepath.Join(builtDir, name)
	if _, err := os.Stat(out); err == nil {
		return out
	}
	args := append([]string{"-O1", "-o", out, filepath.Join(builtDir, "prog.c")}, flags...)
	if b, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		if strings.Contains(string(b), "cannot find -lc") {
			t.Skipf("gcc %v: static libc missing: %s", flags, b)
		}
		t.Fatalf("gcc %v: %v\n%s", flags, err, b)
	}
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

// osFile is a File over a host file.
type osFile struct {
	*os.File
	size int64
}

func (f osFile) HostFD() int  { return int(f.Fd()) }
func (f osFile) Size() int64  { return f.size }
func (f osFile) Name() string { return "/bin/prog" }

func openFile(t *testing.T, path string) osFile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return osFile{File: f, size: st.Size()}
}

func newMM(vdso uintptr) (*mm.MemoryManager, *mmtest.AddressSpace) {
	p := mmtest.NewPlatform(platform.Range{Start: 0x7fffff000000, End: 0x7fffff002000, Name: "[vdso]"})
	p.VDSOAddr = vdso
	as, _ := p.NewAddressSpace()
	return mm.New(p, as), as.(*mmtest.AddressSpace)
}

// initialStack is the initial stack read back from memory.
type initialStack struct {
	argv, envv []string
	auxv       map[uint64]uint64
}

func readWord(t *testing.T, m *mm.MemoryManager, addr uintptr) uint64 {
	t.Helper()
	var b [8]byte
	if _, err := m.CopyIn(addr, b[:]); err != nil {
		t.Fatalf("read stack word at %#x: %v", addr, err)
	}
	return binary.LittleEndian.Uint64(b[:])
}

func readStack(t *testing.T, m *mm.MemoryManager, sp uintptr) initialStack {
	t.Helper()
	var s initialStack
	argc := readWord(t, m, sp)
	p := sp + 8
	for range argc {
		str, err := m.CopyInString(uintptr(readWord(t, m, p)), 1<<17)
		if err != nil {
			t.Fatalf("argv string: %v", err)
		}
		s.argv = append(s.argv, str)
		p += 8
	}
	if readWord(t, m, p) != 0 {
		t.Fatal("argv not NULL-terminated")
	}
	for p += 8; readWord(t, m, p) != 0; p += 8 {
		str, err := m.CopyInString(uintptr(readWord(t, m, p)), 1<<17)
		if err != nil {
			t.Fatalf("envp string: %v", err)
		}
		s.envv = append(s.envv, str)
	}
	s.auxv = map[uint64]uint64{}
	for p += 8; ; p += 16 {
		k, v := readWord(t, m, p), readWord(t, m, p+8)
		if k == atNull {
			break
		}
		if _, dup := s.auxv[k]; dup {
			t.Fatalf("auxv key %d twice", k)
		}
		s.auxv[k] = v
	}
	return s
}

func TestLoadStatic(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		pie   bool
	}{
		{"static", []string{"-static", "-no-pie"}, false},
		{"static-pie", []string{"-static-pie"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := buildProgram(t, tc.name, tc.flags...)
			f := openFile(t, path)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			info, err := parseELF(bytes.NewReader(raw), int64(len(raw)), path)
			if err != nil {
				t.Fatal(err)
			}
			if got := info.typ == etDyn; got != tc.pie {
				t.Fatalf("ET_DYN = %v, want %v", got, tc.pie)
			}
			const vdso = 0x7fffff000000
			m, as := newMM(vdso)
			rnd := bytes.Repeat([]byte{0xa5}, 16)
			args := LoadArgs{
				Filename: "/bin/prog",
				Argv:     []string{"prog", "one", ""},
				Envv:     []string{"PATH=/bin", "EMPTY="},
				UID:      1, EUID: 2, GID: 3, EGID: 4,
				Rand: bytes.NewReader(rnd),
			}
			res, err := Load(m, f, args)
			if err != nil {
				t.Fatal(err)
			}
			if tc.pie {
				if res.Bias == 0 || res.Bias%pageSize != 0 {
					t.Errorf("static-pie bias %#x", res.Bias)
				}
			} else if res.Bias != 0 {
				t.Errorf("ET_EXEC bias %#x", res.Bias)
			}
			if res.Entry != uintptr(info.entry)+res.Bias {
				t.Errorf("entry %#x, want %#x", res.Entry, uintptr(info.entry)+res.Bias)
			}

			// Segments: file bytes in place, bss zero, protections right.
			for i, ph := range info.loads {
				va := uintptr(ph.vaddr) + res.Bias
				got := make([]byte, ph.filesz)
				if _, err := m.CopyIn(va, got); err != nil && ph.flags&pfR != 0 {
					t.Fatalf("segment %d: read: %v", i, err)
				}
				if ph.flags&pfR != 0 && !bytes.Equal(got, raw[ph.off:ph.off+ph.filesz]) {
					t.Errorf("segment %d: memory differs from the file", i)
				}
				for pg := va &^ (pageSize - 1); pg < va+uintptr(ph.memsz); pg += pageSize {
					prot, ok := as.Prot(pg)
					if !ok || prot != segProt(ph.flags) {
						t.Errorf("segment %d page %#x: mapped %v prot %d, want %d", i, pg, ok, prot, segProt(ph.flags))
						break
					}
				}
				if ph.memsz > ph.filesz {
					bss := make([]byte, ph.memsz-ph.filesz)
					if _, err := m.CopyIn(va+uintptr(ph.filesz), bss); err != nil {
						t.Fatalf("segment %d: read bss: %v", i, err)
					}
					if i := bytes.IndexFunc(bss, func(r rune) bool { return r != 0 }); i >= 0 {
						t.Errorf("bss byte %d not zero", i)
					}
				}
			}
			lo, hi := info.span()
			if res.BrkStart < uintptr(hi)+res.Bias {
				t.Errorf("brk start %#x below the image end %#x", res.BrkStart, uintptr(hi)+res.Bias)
			}
			if s, _ := m.BrkRange(); s != res.BrkStart {
				t.Errorf("mm brk start %#x, want %#x", s, res.BrkStart)
			}
			_ = lo

			// The stack.
			if res.SP%16 != 0 {
				t.Errorf("sp %#x not 16-byte aligned", res.SP)
			}
			st := readStack(t, m, res.SP)
			if !equal(st.argv, args.Argv) || !equal(st.envv, args.Envv) {
				t.Errorf("argv %q envp %q", st.argv, st.envv)
			}
			want := map[uint64]uint64{
				atPagesz: pageSize, atPhent: progHdrSize, atPhnum: uint64(info.phnum),
				atBase: 0, atFlags: 0, atEntry: uint64(res.Entry), atUID: 1, atEUID: 2,
				atGID: 3, atEGID: 4, atSecure: 0, atClktck: 100, atSysinfoEHdr: vdso,
				atHWCap: hostAux.hwcap, atHWCap2: hostAux.hwcap2,
			}
			for k, v := range want {
				if got, ok := st.auxv[k]; !ok || got != v {
					t.Errorf("auxv[%d] = %#x (present %v), want %#x", k, got, ok, v)
				}
			}
			for _, k := range []uint64{atMinSigStkSz, atPhdr, atRandom, atExecFn, atPlatform} {
				if _, ok := st.auxv[k]; !ok {
					t.Errorf("auxv[%d] missing", k)
				}
			}
			ph := make([]byte, info.phnum*progHdrSize)
			if _, err := m.CopyIn(uintptr(st.auxv[atPhdr]), ph); err != nil || !bytes.Equal(ph, raw[info.phoff:info.phoff+uint64(len(ph))]) {
				t.Errorf("AT_PHDR %#x does not point at the program headers (%v)", st.auxv[atPhdr], err)
			}
			r := make([]byte, 16)
			if _, err := m.CopyIn(uintptr(st.auxv[atRandom]), r); err != nil || !bytes.Equal(r, rnd) {
				t.Errorf("AT_RANDOM bytes %x, %v", r, err)
			}
			for k, want := range map[uint64]string{atExecFn: "/bin/prog", atPlatform: arch.Name} {
				if s, err := m.CopyInString(uintptr(st.auxv[k]), 4096); err != nil || s != want {
					t.Errorf("auxv[%d] string %q, %v; want %q", k, s, err, want)
				}
			}
			// /proc/self/cmdline and environ ranges.
			cmd := make([]byte, res.ArgvEnd-res.ArgvStart)
			m.CopyIn(res.ArgvStart, cmd)
			if string(cmd) != "prog\x00one\x00\x00" {
				t.Errorf("argv area %q", cmd)
			}
			env := make([]byte, res.EnvvEnd-res.EnvvStart)
			m.CopyIn(res.EnvvStart, env)
			if string(env) != "PATH=/bin\x00EMPTY=\x00" {
				t.Errorf("envp area %q", env)
			}
			// The stack mapping itself.
			var stack *mm.MapEntry
			for _, e := range m.Maps() {
				if e.Name == "[stack]" {
					stack = &e
				}
			}
			if stack == nil || stack.End != res.StackTop || stack.End-stack.Start != StackSize(0) || stack.Perms != "rw-p" {
				t.Errorf("stack mapping %+v, top %#x", stack, res.StackTop)
			}
			if res.SP < stack.Start || res.SP >= stack.End {
				t.Errorf("sp %#x outside the stack", res.SP)
			}
		})
	}
}

func equal(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00") && len(a) == len(b)
}

func TestLoadTwiceRandomises(t *testing.T) {
	path := buildProgram(t, "static-pie", "-static-pie")
	var bias, sp [2]uintptr
	for i := range 2 {
		m, _ := newMM(0)
		res, err := Load(m, openFile(t, path), LoadArgs{Filename: "p", Argv: []string{"p"}})
		if err != nil {
			t.Fatal(err)
		}
		bias[i], sp[i] = res.Bias, res.SP
	}
	if bias[0] == bias[1] || sp[0] == sp[1] {
		t.Errorf("two loads share bias %#x or sp %#x", bias, sp)
	}
	m, _ := newMM(0)
	res, err := Load(m, openFile(t, path), LoadArgs{Filename: "p", Argv: []string{"p"}, NoRandomize: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Bias != etDynBase(m.MaxAddr()) {
		t.Errorf("ADDR_NO_RANDOMIZE bias %#x, want %#x", res.Bias, etDynBase(m.MaxAddr()))
	}
}

func TestE2BIG(t *testing.T) {
	path := buildProgram(t, "static", "-static", "-no-pie")
	huge := strings.Repeat("x", maxArgStrLen)
	many := make([]string, 0, 20)
	for range 20 {
		many = append(many, strings.Repeat("y", maxArgStrLen-1))
	}
	tests := []struct {
		name string
		args LoadArgs
		want error
	}{
		{"one string too long", LoadArgs{Argv: []string{huge}}, unix.E2BIG},
		{"too much in total", LoadArgs{Argv: []string{"p"}, Envv: many}, unix.E2BIG},
		{"fits with a bigger stack limit", LoadArgs{Argv: []string{"p"}, Envv: many, StackLimit: 64 << 20}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newMM(0)
			_, err := Load(m, openFile(t, path), tc.args)
			if !errors.Is(err, tc.want) && err != tc.want {
				t.Fatalf("Load = %v, want %v", err, tc.want)
			}
		})
	}
}
