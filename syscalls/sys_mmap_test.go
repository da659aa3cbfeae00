package syscalls_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// native runs path with args natively and returns its output and exit
// code.
func native(t *testing.T, path string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = []string{"PATH=/", "HOME=/"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("native %s: %v", path, err)
	}
	return out.String(), 0
}

// TestBootDynamicHello runs a plain `gcc hello.c` program (PT_INTERP,
// ld.so, the host's libc mapped by ld.so through mmap) in a sandbox whose
// root is the host's /, and compares it with the native run.
func TestBootDynamicHello(t *testing.T) {
	dir, err := os.MkdirTemp("", "moat-dyn")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	dyn := gccBuild(t, dir, "hello_dyn")
	static := filepath.Join(dir, "hello_static")
	if b, err := exec.Command("gcc", "-O1", "-static", "-o", static, "testdata/hello_dyn.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc -static: %v\n%s", err, b)
	}
	want, wantCode := native(t, dyn, "moat")
	for _, prog := range []string{dyn, static} {
		var trace bytes.Buffer
		start := time.Now()
		got, st := boot(t, "/", []string{prog, "moat"}, &trace)
		elapsed := time.Since(start)
		if got != want || st.Code != wantCode || st.Signal != 0 {
			t.Errorf("%s: sandbox wrote %q, status %+v; native wrote %q, exit %d\nstrace:\n%s", filepath.Base(prog), got, st, want, wantCode, mmTail(trace.String(), 60))
			continue
		}
		t.Logf("%s: sandbox run (boot to exit, platform start included) %v", filepath.Base(prog), elapsed)
		if prog == dyn {
			tr := trace.String()
			for _, call := range []string{"mmap(", "mprotect(", "mremap("} {
				if !strings.Contains(tr, call) {
					t.Errorf("the dynamic run made no %s call", call)
				}
			}
		}
	}
}

// TestBootMmapCalls compares mm_calls (mremap, madvise, msync, mincore,
// mlock, private and shared file mappings) in a sandbox with Linux.
func TestBootMmapCalls(t *testing.T) {
	root := t.TempDir()
	prog := gccBuild(t, root, "mm_calls", "-static")
	var data []byte
	for i := range 3 {
		data = append(data, bytes.Repeat([]byte{'a' + byte(i)}, 4096)...)
	}
	if err := os.WriteFile(filepath.Join(root, "data"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	want, wantCode := native(t, prog, filepath.Join(root, "data"))
	var trace bytes.Buffer
	got, st := boot(t, root, []string{"/mm_calls", "/data"}, &trace)
	if st.Code != wantCode || st.Signal != 0 {
		t.Errorf("status %+v, native exit %d", st, wantCode)
	}
	if got != want {
		t.Errorf("sandbox and native differ:\n%s\nstrace:\n%s", diffLines(want, got), mmTail(trace.String(), 40))
	}
}

// mmTail returns the last n lines of s.
func mmTail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
