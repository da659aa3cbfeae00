package syscalls_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// spliceTree makes root/splice (the program), root/w (writable, empty),
// root/ro (a mount point) and ro-src under top.
func spliceTree(t *testing.T, top, bin string) (root, roSrc string) {
	t.Helper()
	root = filepath.Join(top, "root")
	roSrc = filepath.Join(top, "ro-src")
	for _, d := range []string{filepath.Join(root, "w"), filepath.Join(root, "ro"), roSrc} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "splice"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	return root, roSrc
}

// TestSpliceDifferential runs splice.c (splice, tee, vmsplice and FIFOs
// on the gofer root) natively and in moat over a writable gofer root, and
// compares the outputs.
func TestSpliceDifferential(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the ptrace platform runs on amd64 only")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (chroot and a PID namespace for the native run)")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatal("gcc not installed (scripts/deps.sh installs it)")
	}
	bin := filepath.Join(t.TempDir(), "splice")
	if out, err := exec.Command("gcc", "-static", "-O1", "-o", bin, filepath.Join("testdata", "splice.c")).CombinedOutput(); err != nil {
		t.Fatalf("gcc -static failed: %v\n%s", err, out)
	}
	base := t.TempDir()
	nroot, _ := spliceTree(t, filepath.Join(base, "native"), bin)
	mroot, mro := spliceTree(t, filepath.Join(base, "moat"), bin)
	args := []string{"splice"}
	want, wantSt := runNativeAs(t, nroot, args, 0)
	var trace strings.Builder
	got, gotSt := bootWritable(t, mroot, mro, args, 0, &trace)
	if testing.Verbose() {
		t.Logf("linux:\n%s", want)
	}
	if got != want || gotSt != wantSt {
		t.Errorf("moat and Linux differ\n--- linux (status %+v)\n--- moat (status %+v)\n%s",
			wantSt, gotSt, diffLines(want, got))
		if testing.Verbose() {
			t.Logf("strace:\n%s", trace.String())
		}
	}
}
