package syscalls_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"moat/sentry/kernel"
)

// diffPrograms are the testdata programs of the differential tests, each
// compiled statically (with pthreads) into one root directory.
var diffPrograms = []string{"proc_wait", "proc_exec", "proc_threads", "proc_signals", "proc_execfmt", "proc_fp"}

// diffRoot compiles the differential programs into a fresh root directory
// and adds the files the exec tests use.
func diffRoot(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed")
	}
	root := t.TempDir()
	for _, name := range diffPrograms {
		out, err := exec.Command("gcc", "-static", "-O1", "-pthread", "-o", filepath.Join(root, name),
			filepath.Join("testdata", name+".c"), "-lm").CombinedOutput()
		if err != nil {
			t.Skipf("gcc -static %s failed (static libc missing?): %v\n%s", name, err, out)
		}
	}
	files := []struct {
		name, data string
		mode       os.FileMode
	}{
		{"notexec", "\x7fELF not really", 0o644},
		{"garbage", "this is no program\n", 0o755},
		{"script", "#!/proc_exec  scriptarg \n", 0o755},
		{"loop1", "#!/loop2\n", 0o755},
		{"loop2", "#!/loop1\n", 0o755},
		// proc_execfmt's scripts: sc1 runs it, scN runs sc(N-1).
		{"sc1", "#!/proc_execfmt\n", 0o755},
		{"sc2", "#!/sc1\n", 0o755},
		{"sc3", "#!/sc2\n", 0o755},
		{"sc4", "#!/sc3\n", 0o755},
		{"sc5", "#!/sc4\n", 0o755},
		{"sc6", "#!/sc5\n", 0o755},
		{"emptyinterp", "#!", 0o755},
		{"blankinterp", "#! \t \n", 0o755},
		{"longarg", "#!/proc_execfmt " + strings.Repeat("a", 300) + "\n", 0o755},
		{"longname", "#!/" + strings.Repeat("x", 300) + "\n", 0o755},
		{"relscript", "#!proc_execfmt rel\n", 0o755},
	}
	if err := os.Mkdir(filepath.Join(root, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	// xonly is proc_execfmt with only execute bits: exec needs no read
	// permission.
	exe, err := os.ReadFile(filepath.Join(root, "proc_execfmt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "xonly"), exe, 0o111); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(root, f.name), []byte(f.data), f.mode); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// runNative runs /NAME in root natively: chrooted, in a new PID namespace
// and session (so it is PID 1 leading session 1, as in moat), with the
// sandbox's environment.
func runNative(t *testing.T, root string, args []string) (string, kernel.ExitStatus) {
	t.Helper()
	cmd := exec.Command("/" + args[0])
	cmd.Args = args
	cmd.Env = []string{"PATH=/", "HOME=/"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Cloneflags: syscall.CLONE_NEWPID, Setsid: true}
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Skipf("cannot run natively in a chroot and PID namespace: %v", err)
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return out.String(), kernel.ExitStatus{Signal: ws.Signal()}
	}
	return out.String(), kernel.ExitStatus{Code: ws.ExitStatus()}
}

// TestDifferential runs each program natively and in moat and compares
// the outputs and exit statuses line by line.
func TestDifferential(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the ptrace platform runs on amd64 only")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (chroot and a PID namespace for the native run)")
	}
	root := diffRoot(t)
	for _, name := range diffPrograms {
		t.Run(name, func(t *testing.T) {
			args := []string{name}
			want, wantSt := runNative(t, root, args)
			var trace strings.Builder
			got, gotSt := boot(t, root, args, &trace)
			if got != want || gotSt != wantSt {
				t.Errorf("moat and Linux differ\n--- linux (status %+v)\n%s--- moat (status %+v)\n%s%s",
					wantSt, want, gotSt, got, diffLines(want, got))
				if testing.Verbose() {
					t.Logf("strace:\n%s", trace.String())
				}
			}
		})
	}
}

// diffLines lists the first lines that differ.
func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var sb strings.Builder
	sb.WriteString("--- first differences (linux | moat)\n")
	n := 0
	for i := 0; i < max(len(al), len(bl)) && n < 10; i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			sb.WriteString(x + " | " + y + "\n")
			n++
		}
	}
	return sb.String()
}
