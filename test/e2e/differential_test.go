package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"moat/test/harness"

	"golang.org/x/sys/unix"
)

// A diffCase is one program run natively, under `moat do` and in a bundle
// with `moat run`; stdout and exit status must be the same in all three.
// In args, "@ROOT" stands for the directory the data files are under (the
// rootfs on the host, "/" in the bundle) and "@SELF" for the program's own
// path.
type diffCase struct {
	name, prog string
	args       []string
	exit       int // the native exit status, checked too so a broken program can't pass
}

var diffCases = []diffCase{
	{"hello", "hello", nil, 0},
	{"hello-pie", "hello-pie", nil, 0},
	{"exit-3", "exitcode", []string{"3"}, 3},
	{"exit-255", "exitcode", []string{"255"}, 255},
	{"exit-0", "exitcode", []string{"0"}, 0},
	{"exit-pie-3", "exitcode-pie", []string{"3"}, 3},
	// The program is the sandbox's init, and natively PID 1 of a PID
	// namespace: it ignores its own SIGKILL and SIGABRT (no handler), so
	// raise(SIGKILL) returns and abort() ends in a SIGSEGV, as under runc.
	{"sigkill", "exitcode", []string{"kill"}, 0},
	{"abort", "exitcode", []string{"abort"}, 128 + 11},
	// In a child (not init) they kill, without a core (RLIMIT_CORE 0).
	{"child-sigkill", "exitcode", []string{"child-kill"}, 128 + 9},
	{"child-abort", "exitcode", []string{"child-abort"}, 128 + 6},
	{"segv", "exitcode", []string{"segv"}, 128 + 11},
	{"args", "args", []string{"one", "two words", "", "--flag=x"}, 0},
	{"args-pie", "args-pie", []string{"a"}, 0},
	{"fileread", "fileread", []string{"@ROOT"}, 0},
	{"dirlist", "dirlist", []string{"@ROOT"}, 0},
	{"cwd", "cwd", []string{"@ROOT"}, 0},
	{"time", "timeprog", nil, 0},
	{"random", "random", nil, 0},
	{"mem", "mem", []string{"ok", "@SELF"}, 0},
	{"mem-segv", "mem", []string{"segv", "@SELF"}, 128 + 11},
}

// subst replaces the @ROOT and @SELF placeholders.
func subst(args []string, root, self string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.NewReplacer("@ROOT", root, "@SELF", self).Replace(a)
	}
	return out
}

func TestDifferential(t *testing.T) {
	e := needEnv(t)
	b := e.newRootfs(t)
	for _, c := range diffCases {
		t.Run(c.name, func(t *testing.T) {
			hostProg := filepath.Join(b.Rootfs, "bin", c.prog)
			hostArgs := subst(c.args, b.Rootfs, hostProg)
			// Natively too the program is PID 1 of its PID namespace.
			native := harness.Run(harness.Opts{Env: testEnv, PIDNamespace: true}, hostProg, hostArgs...)
			if native.Exit != c.exit {
				t.Fatalf("native run: want exit %d, got %v", c.exit, native)
			}
			t.Run("do", func(t *testing.T) {
				got := e.runOpts(harness.Opts{Env: testEnv}, newRoot(t), append([]string{"do", "--", hostProg}, hostArgs...)...)
				compare(t, native, got)
			})
			t.Run("run", func(t *testing.T) {
				bb := cloneBundle(t, b)
				inArgs := subst(c.args, "/", "/bin/"+c.prog)
				bb.writeConfig(t, append([]string{"/bin/" + c.prog}, inArgs...))
				root := newRoot(t)
				got := e.run(root, "run", "--bundle", bb.Dir, "diff-"+c.name)
				compare(t, native, got)
				if left := listTree(t, root); len(left) != 0 {
					t.Errorf("run left %v in --root", left)
				}
			})
		})
	}
}

// cloneBundle gives a subtest its own bundle directory (config.json is per
// container) sharing the rootfs, which is read-only to the sandbox.
func cloneBundle(t *testing.T, b bundle) bundle {
	t.Helper()
	dir := t.TempDir()
	link := filepath.Join(dir, "rootfs")
	if err := os.Symlink(b.Rootfs, link); err != nil {
		t.Fatal(err)
	}
	return bundle{Dir: dir, Rootfs: link}
}

// compare checks a sandboxed run against the native one.
func compare(t *testing.T, native, got harness.Result) {
	t.Helper()
	if got.TimedOut || got.Exit != native.Exit || got.Stdout != native.Stdout {
		t.Errorf("differs from the native run\n=== native: %v\n=== moat: %v", native, got)
	}
}

func TestUname(t *testing.T) {
	e := needEnv(t)
	var host unix.Utsname
	if err := unix.Uname(&host); err != nil {
		t.Fatal(err)
	}
	hostRelease := unix.ByteSliceToString(host.Release[:])
	hostMachine := unix.ByteSliceToString(host.Machine[:])
	b := e.newRootfs(t)
	b.writeConfig(t, []string{"/bin/uname"})
	for _, mode := range []string{"do", "run"} {
		t.Run(mode, func(t *testing.T) {
			root := newRoot(t)
			var r harness.Result
			if mode == "do" {
				r = e.run(root, "do", "--", e.progs["uname"])
			} else {
				r = e.run(root, "run", "--bundle", b.Dir, "uname")
			}
			if r.Exit != 0 {
				t.Fatalf("uname failed: %v", r)
			}
			f := fields(r.Stdout)
			if f["sysname"] != "Linux" {
				t.Errorf("sysname %q, want Linux", f["sysname"])
			}
			if f["release"] == "" || f["release"] == hostRelease {
				t.Errorf("release %q must be moat's own, not empty nor the host's %q", f["release"], hostRelease)
			}
			if f["machine"] != hostMachine {
				t.Errorf("machine %q, want %q", f["machine"], hostMachine)
			}
			if mode == "run" && (f["nodename"] != "e2e-box" || f["hostname"] != "e2e-box") {
				t.Errorf("nodename %q / hostname %q, want the spec's e2e-box", f["nodename"], f["hostname"])
			}
		})
	}
}

// fields parses "k=v" lines.
func fields(s string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

func TestEscape(t *testing.T) {
	e := needEnv(t)
	b := e.newRootfs(t)
	marker := filepath.Join(b.Dir, "host-marker")

	// Natively the program must find the marker: that is what shows it
	// can detect an escape at all.
	native := harness.Run(harness.Opts{}, e.progs["escape"], marker)
	if native.Exit != 0 || !strings.Contains(native.Stdout, "verdict: ESCAPED") {
		t.Fatalf("natively the escape program must see the marker (else it proves nothing): %v", native)
	}

	b.writeConfig(t, []string{"/bin/escape", marker})
	r := e.run(newRoot(t), "run", "--bundle", b.Dir, "escape")
	if r.Exit != 0 {
		t.Fatalf("escape program failed in the sandbox: %v", r)
	}
	if strings.Contains(r.Stdout, "VISIBLE") || !strings.Contains(r.Stdout, "verdict: contained") {
		t.Errorf("the sandbox let the program see a host file outside the rootfs:\n%s", r.Stdout)
	}
	for _, want := range []string{"cwd after 64 chdir(..): /", "/.. is /: yes"} {
		if !strings.Contains(r.Stdout, want+"\n") {
			t.Errorf("want %q in\n%s", want, r.Stdout)
		}
	}
}

func TestForbiddenSyscalls(t *testing.T) {
	e := needEnv(t)
	b := e.newRootfs(t)
	hostTarget := filepath.Join(b.Rootfs, "data", "sub")
	line := regexp.MustCompile(`^([a-z0-9_]+(?:\([A-Za-z ]+\))?): (\w+)$`)
	wantCalls := []string{"mount", "umount2", "ptrace(TRACEME)", "ptrace(ATTACH self)", "bpf",
		"kexec_load", "init_module", "finit_module", "pivot_root", "chroot", "unshare(NEWNS)"}
	b.writeConfig(t, []string{"/bin/forbidden", "/data/sub"})
	for _, mode := range []string{"do", "run"} {
		t.Run(mode, func(t *testing.T) {
			root := newRoot(t)
			var r harness.Result
			if mode == "do" {
				r = e.run(root, "do", "--", e.progs["forbidden"], hostTarget)
			} else {
				r = e.run(root, "run", "--bundle", b.Dir, "forbidden")
			}
			if r.Exit != 0 {
				t.Fatalf("forbidden program failed: %v", r)
			}
			lines := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n")
			if len(lines) != len(wantCalls) {
				t.Fatalf("want %d lines, got %v", len(wantCalls), r)
			}
			for i, l := range lines {
				m := line.FindStringSubmatch(l)
				if m == nil || m[1] != wantCalls[i] {
					t.Errorf("line %d: %q, want %q: ERRNO", i, l, wantCalls[i])
					continue
				}
				// A sandbox refuses these outright; EINVAL, EFAULT or
				// ENODEV would mean the call reached a kernel that
				// looked at the (deliberately bogus) arguments.
				switch m[2] {
				case "EPERM", "ENOSYS", "EACCES":
				default:
					t.Errorf("%s: got %s, want the sandbox to refuse it (EPERM, ENOSYS or EACCES)", m[1], m[2])
				}
			}
		})
	}
	// Only lines about the test's own directory are compared: other
	// packages' tests may legitimately mount things meanwhile.
	if mi := mountinfo(t); strings.Contains(mi, b.Dir) {
		t.Errorf("the host mount table now mentions %s:\n%s", b.Dir, mi)
	}
}

// mountinfo returns the test process's mount table (the host's).
func mountinfo(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
