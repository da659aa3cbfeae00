package syscalls_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// fileDataRoot builds the root file_data.c runs on (the program and
// /data/hello) and a read-only bind mount of it for the native run.
func fileDataRoot(t *testing.T) (root, readOnly string) {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed")
	}
	top := t.TempDir()
	root = filepath.Join(top, "root")
	if err := os.MkdirAll(filepath.Join(root, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("gcc", "-static", "-O1", "-o", filepath.Join(root, "file_data"),
		filepath.Join("testdata", "file_data.c")).CombinedOutput()
	if err != nil {
		t.Skipf("gcc -static failed (static libc missing?): %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(root, "data/hello"), []byte("hello, world\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	readOnly = filepath.Join(top, "ro")
	if err := os.Mkdir(readOnly, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(root, readOnly, "", unix.MS_BIND, ""); err != nil {
		t.Skipf("cannot bind-mount the native root: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(readOnly, unix.MNT_DETACH) })
	if err := unix.Mount("", readOnly, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot make the native root read-only: %v", err)
	}
	return root, readOnly
}

// TestFileDataDifferential runs file_data natively on a read-only root
// and in moat, and compares outputs and exit statuses.
func TestFileDataDifferential(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the ptrace platform runs on amd64 only")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (bind mount, chroot and a PID namespace for the native run)")
	}
	root, ro := fileDataRoot(t)
	args := []string{"file_data"}
	want, wantSt := runNative(t, ro, args)
	var trace strings.Builder
	got, gotSt := boot(t, root, args, &trace)
	if testing.Verbose() {
		t.Logf("linux:\n%s", want)
	}
	if got != want || gotSt != wantSt {
		t.Errorf("moat and Linux differ\n--- linux (status %+v)\n%s--- moat (status %+v)\n%s%s",
			wantSt, want, gotSt, got, diffLines(want, got))
		if testing.Verbose() {
			t.Logf("strace:\n%s", trace.String())
		}
	}
}
