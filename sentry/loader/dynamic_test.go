package loader

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// namedFile is a File over a host file with the sandbox name it was
// opened by; it counts Close calls so tests see the loader release what
// it opened.
type namedFile struct {
	*os.File
	name   string
	size   int64
	closed *int
}

func (f namedFile) HostFD() int  { return int(f.Fd()) }
func (f namedFile) Size() int64  { return f.size }
func (f namedFile) Name() string { return f.name }
func (f namedFile) Close() error {
	*f.closed++
	return f.File.Close()
}

// opener returns an Open function that maps sandbox paths to host files
// through files (a path not in the map is opened as is on the host), and
// a counter of opens minus closes.
func opener(t *testing.T, files map[string]string) (func(string) (File, error), *int) {
	t.Helper()
	live := new(int)
	closed := new(int)
	open := func(p string) (File, error) {
		host, ok := files[p]
		if !ok {
			host = p
		}
		f, err := os.Open(host)
		if err != nil {
			return nil, err.(*os.PathError).Err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		*live++
		t.Cleanup(func() { f.Close() })
		return namedFile{File: f, name: p, size: st.Size(), closed: closed}, nil
	}
	t.Cleanup(func() {
		if *live != *closed {
			t.Errorf("loader opened %d files and closed %d", *live, *closed)
		}
	})
	return open, live
}

// interpOf returns the PT_INTERP path of the ELF file at path.
func interpOf(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := parseELF(bytes.NewReader(raw), int64(len(raw)), path)
	if err != nil {
		t.Fatal(err)
	}
	return info.interp
}

func TestLoadDynamic(t *testing.T) {
	path := buildProgram(t, "dynamic")
	interp := interpOf(t, path)
	if interp == "" {
		t.Fatal("gcc built a program without PT_INTERP")
	}
	raw, _ := os.ReadFile(path)
	info, _ := parseELF(bytes.NewReader(raw), int64(len(raw)), path)
	rawInterp, err := os.ReadFile(interp)
	if err != nil {
		t.Skipf("host interpreter %s: %v", interp, err)
	}
	interpInfo, err := parseELF(bytes.NewReader(rawInterp), int64(len(rawInterp)), interp)
	if err != nil {
		t.Fatalf("host interpreter: %v", err)
	}
	open, _ := opener(t, nil)
	m, _ := newMM(0)
	res, err := Load(m, openFile(t, path), LoadArgs{Filename: "./prog", Argv: []string{"prog"}, Open: open})
	if err != nil {
		t.Fatal(err)
	}
	if res.Interp != interp || res.InterpBias == 0 || res.InterpBias%pageSize != 0 {
		t.Errorf("interpreter %q at %#x", res.Interp, res.InterpBias)
	}
	if want := uintptr(interpInfo.entry) + res.InterpBias; res.Entry != want {
		t.Errorf("entry %#x, want the interpreter's %#x", res.Entry, want)
	}
	if res.Bias < etDynBase(m.MaxAddr()) {
		t.Errorf("PIE bias %#x below ELF_ET_DYN_BASE %#x", res.Bias, etDynBase(m.MaxAddr()))
	}
	if res.InterpBias >= m.Layout().MmapBase {
		t.Errorf("interpreter at %#x, above the mmap base %#x", res.InterpBias, m.Layout().MmapBase)
	}
	st := readStack(t, m, res.SP)
	want := map[uint64]uint64{
		atBase:   uint64(res.InterpBias),
		atEntry:  uint64(res.Bias) + info.entry,
		atPhdr:   uint64(res.Bias) + info.phdrVaddr,
		atSecure: 0,
	}
	for k, v := range want {
		if got, ok := st.auxv[k]; !ok || got != v {
			t.Errorf("auxv[%d] = %#x (present %v), want %#x", k, got, ok, v)
		}
	}
	if s, _ := m.CopyInString(uintptr(st.auxv[atExecFn]), 4096); s != "./prog" {
		t.Errorf("AT_EXECFN %q", s)
	}
	// The interpreter's first page holds its ELF header.
	hdr := make([]byte, 4)
	if _, err := m.CopyIn(res.InterpBias, hdr); err != nil || string(hdr) != "\x7fELF" {
		t.Errorf("interpreter header at %#x: %q, %v", res.InterpBias, hdr, err)
	}
	// Past each segment's file part, the rest of its last page reads as
	// zero, as Linux's padzero leaves it (ld.so's start-up allocator
	// relies on it).
	for i, ph := range interpInfo.loads {
		if ph.memsz == ph.filesz {
			continue
		}
		from := res.InterpBias + uintptr(ph.vaddr+ph.filesz)
		to := (from + pageSize - 1) &^ (pageSize - 1)
		tail := make([]byte, to-from)
		if _, err := m.CopyIn(from, tail); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(tail, make([]byte, len(tail))) {
			t.Errorf("interpreter segment %d: bytes past p_filesz up to the page end are not zero", i)
		}
	}
	names := map[string]bool{}
	for _, e := range m.Maps() {
		names[e.Name] = true
	}
	if !names[interp] || !names["/bin/prog"] {
		t.Errorf("maps lack the program or %s: %v", interp, m.Maps())
	}
}

func TestLoadInterpreterErrors(t *testing.T) {
	path := buildProgram(t, "dynamic")
	static := buildProgram(t, "static", "-static", "-no-pie")
	dir := t.TempDir()
	text := filepath.Join(dir, "text")
	os.WriteFile(text, []byte("not an ELF file at all, but long enough to hold a header........"), 0o755)
	interp := interpOf(t, path)
	tests := []struct {
		name  string
		files map[string]string
		open  bool
		want  error
	}{
		{"missing", map[string]string{interp: filepath.Join(dir, "nothing")}, true, unix.ENOENT},
		{"not ELF", map[string]string{interp: text}, true, unix.ELIBBAD},
		{"interpreter with its own interpreter", map[string]string{interp: path}, true, unix.ELIBBAD},
		{"static interpreter works", map[string]string{interp: static}, true, nil},
		{"no opener", nil, false, unix.ENOEXEC},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := LoadArgs{Filename: "p", Argv: []string{"p"}}
			if tc.open {
				args.Open, _ = opener(t, tc.files)
			}
			m, _ := newMM(0)
			_, err := Load(m, openFile(t, path), args)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Load = %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Load = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseScript(t *testing.T) {
	long := "#!/bin/" + strings.Repeat("x", 300)
	longArg := "#!/bin/sh " + strings.Repeat("a", 300)
	tests := []struct {
		line        string
		interp, arg string
		hasArg      bool
		want        error
	}{
		{"#!/bin/sh\n", "/bin/sh", "", false, nil},
		{"#! /bin/sh\n", "/bin/sh", "", false, nil},
		{"#!\t/bin/sh  \t\necho hi\n", "/bin/sh", "", false, nil},
		{"#!/bin/sh -e\n", "/bin/sh", "-e", true, nil},
		{"#!/usr/bin/env python3 -u  \n", "/usr/bin/env", "python3 -u", true, nil},
		{"#!/bin/sh\t-x\t-v\n", "/bin/sh", "-x\t-v", true, nil},
		{"#!/bin/sh", "/bin/sh", "", false, nil},
		{"#!/bin/sh -e", "/bin/sh", "-e", true, nil},
		{"#!rel/interp\n", "rel/interp", "", false, nil},
		{"#!\n", "", "", false, unix.ENOEXEC},
		{"#!   \n", "", "", false, unix.ENOEXEC},
		// No newline: the name ends at the NUL padding, empty.
		{"#!", "", "", false, nil},
		{"#!   ", "", "", false, nil},
		{long, "", "", false, unix.ENOEXEC},
		// The argument is cut at the buffer's end, its last byte lost.
		{longArg, "/bin/sh", strings.Repeat("a", binprmBufSize-len("#!/bin/sh ")-1), true, nil},
		{"\x7fELF", "", "", false, errNotScript},
		{"#/bin/sh\n", "", "", false, errNotScript},
	}
	for _, tc := range tests {
		var head [binprmBufSize]byte
		copy(head[:], tc.line)
		interp, arg, hasArg, err := parseScript(head)
		if tc.want != nil {
			if !errors.Is(err, tc.want) {
				t.Errorf("parseScript(%.40q) = %v, want %v", tc.line, err, tc.want)
			}
			continue
		}
		if err != nil || interp != tc.interp || arg != tc.arg || hasArg != tc.hasArg {
			t.Errorf("parseScript(%.40q) = %q, %q, %v, %v; want %q, %q, %v", tc.line, interp, arg, hasArg, err, tc.interp, tc.arg, tc.hasArg)
		}
	}
}

func TestLoadScript(t *testing.T) {
	static := buildProgram(t, "static", "-static", "-no-pie")
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// s0 runs the static program; sN runs s(N-1) with argument aN.
	files := map[string]string{"/bin/prog": static}
	files["/s0"] = write("s0", "#!/bin/prog\n")
	for i := 1; i <= 6; i++ {
		files["/s"+string(rune('0'+i))] = write("s"+string(rune('0'+i)), "#! /s"+string(rune('0'+i-1))+" a"+string(rune('0'+i))+"  \n")
	}
	files["/unknown"] = write("unknown", "MZ this is no known format")
	files["/badinterp"] = write("badinterp", "#!/unknown\n")
	files["/missing"] = write("missing", "#!/nowhere x\n")
	files["/empty"] = write("empty", "#!")
	tests := []struct {
		exe, filename string
		argv          []string
		want          []string
		err           error
	}{
		{"/s0", "/s0", []string{"s0", "x"}, []string{"/bin/prog", "/s0", "x"}, nil},
		{"/s1", "./s1", []string{"whatever", "x", "y"}, []string{"/bin/prog", "/s0", "a1", "./s1", "x", "y"}, nil},
		{"/s4", "/s4", []string{"s4"}, []string{"/bin/prog", "/s0", "a1", "/s1", "a2", "/s2", "a3", "/s3", "a4", "/s4"}, nil},
		{"/s1", "/s1", nil, []string{"/bin/prog", "/s0", "a1", "/s1"}, nil},
		{"/s5", "/s5", []string{"s5"}, nil, unix.ELOOP},
		{"/s6", "/s6", []string{"s6"}, nil, unix.ELOOP},
		{"/unknown", "/unknown", []string{"u"}, nil, unix.ENOEXEC},
		{"/badinterp", "/badinterp", []string{"b"}, nil, unix.ENOEXEC},
		{"/missing", "/missing", []string{"m"}, nil, unix.ENOENT},
		{"/empty", "/empty", []string{"e"}, nil, unix.EACCES},
	}
	for _, tc := range tests {
		t.Run(tc.exe, func(t *testing.T) {
			open, _ := opener(t, files)
			exe, err := open(tc.exe)
			if err != nil {
				t.Fatal(err)
			}
			defer exe.(namedFile).Close()
			m, _ := newMM(0)
			res, err := Load(m, exe, LoadArgs{Filename: tc.filename, Argv: tc.argv, Open: open})
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Load = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			st := readStack(t, m, res.SP)
			if !equal(st.argv, tc.want) {
				t.Errorf("argv %q, want %q", st.argv, tc.want)
			}
			if s, _ := m.CopyInString(uintptr(st.auxv[atExecFn]), 4096); s != tc.filename {
				t.Errorf("AT_EXECFN %q, want %q", s, tc.filename)
			}
			if res.Path != "/bin/prog" {
				t.Errorf("Path %q, want the ELF file /bin/prog", res.Path)
			}
		})
	}
}
