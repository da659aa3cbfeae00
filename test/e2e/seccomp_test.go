package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// mkdirProbe compiles testdata/seccomp/mkdirprobe.c statically into the
// bundle's /bin.
func mkdirProbe(t *testing.T, b bundle) {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("gcc not installed (scripts/deps.sh installs it)")
		}
		t.Skip("gcc not installed")
	}
	out := filepath.Join(b.Rootfs, "bin", "mkdirprobe")
	if o, err := exec.Command("gcc", "-static", "-O1", "-o", out, "testdata/seccomp/mkdirprobe.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, o)
	}
}

// TestSpecSeccomp runs a bundle whose linux.seccomp denies mkdir and
// mkdirat with EPERM (the shape Docker's profile has: default allow
// here, rules with errnoRet) and noNewPrivileges: mkdir fails with EPERM
// although the root is writable, the rest runs, and the process sees
// seccomp filter mode and the no_new_privs bit. Without the profile the
// same mkdir succeeds.
func TestSpecSeccomp(t *testing.T) {
	e := needEnv(t)
	eperm := uint(1)
	for _, c := range []struct {
		name    string
		profile *specs.LinuxSeccomp
		want    string
	}{
		{"profile", &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
			Syscalls: []specs.LinuxSyscall{
				{Names: []string{"mkdir", "mkdirat", "no_such_syscall"}, Action: specs.ActErrno, ErrnoRet: &eperm},
				{Names: []string{"getpid"}, Action: specs.ActAllow},
			},
		}, "mkdir EPERM\ngetpid 1\nseccomp mode 2 nnp 1\n"},
		{"none", nil, "mkdir ok\ngetpid 1\nseccomp mode 0 nnp 1\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := e.newRootfs(t)
			mkdirProbe(t, b)
			b.writeConfig(t, []string{"/bin/mkdirprobe"}, func(s *specs.Spec) {
				s.Root.Readonly = false
				s.Process.NoNewPrivileges = true
				s.Linux.Seccomp = c.profile
			})
			r := e.run(newRoot(t), "run", "--bundle", b.Dir, "seccomp-"+c.name)
			if r.Exit != 0 || r.Stdout != c.want {
				t.Errorf("exit %d, stdout %q, want %q (stderr %q)", r.Exit, r.Stdout, c.want, r.Stderr)
			}
		})
	}
}

// TestSpecSeccompRefused checks create refuses a profile it cannot
// honour, naming the field, rather than run the container unfiltered.
func TestSpecSeccompRefused(t *testing.T) {
	e := needEnv(t)
	b := e.newRootfs(t)
	b.writeConfig(t, []string{"/bin/hello"}, func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActNotify}
	})
	r := e.run(newRoot(t), "create", "--bundle", b.Dir, "bad-seccomp")
	if r.Exit == 0 || !strings.Contains(r.Stderr, "linux.seccomp") {
		t.Errorf("create exit %d, stderr %q: want a failure naming linux.seccomp", r.Exit, r.Stderr)
	}
}

// TestSpecSeccompExec checks a `moat exec` process runs under the
// container's linux.seccomp too, with its own noNewPrivileges
// (--no-new-privs).
func TestSpecSeccompExec(t *testing.T) {
	e := needEnv(t)
	eperm := uint(1)
	b := e.newRootfs(t)
	mkdirProbe(t, b)
	b.writeConfig(t, []string{"/bin/sleeper", "60"}, func(s *specs.Spec) {
		s.Root.Readonly = false
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{
				{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: &eperm},
			},
		}
	})
	root := newRoot(t)
	id := "seccomp-exec"
	if r := e.run(root, "create", "--bundle", b.Dir, id); r.Exit != 0 {
		t.Fatalf("create: %v", r)
	}
	defer e.run(root, "delete", "--force", id)
	if r := e.run(root, "start", id); r.Exit != 0 {
		t.Fatalf("start: %v", r)
	}
	r := e.run(root, "exec", id, "/bin/mkdirprobe")
	if !strings.HasPrefix(r.Stdout, "mkdir EPERM\n") || !strings.Contains(r.Stdout, "seccomp mode 2 nnp 0\n") {
		t.Errorf("exec mkdirprobe: %v, want mkdir EPERM under the filter, no no_new_privs", r)
	}
	r = e.run(root, "exec", "--no-new-privs", id, "/bin/mkdirprobe")
	if !strings.HasPrefix(r.Stdout, "mkdir EPERM\n") || !strings.Contains(r.Stdout, "seccomp mode 2 nnp 1\n") {
		t.Errorf("exec --no-new-privs mkdirprobe: %v, want mkdir EPERM under the filter with no_new_privs", r)
	}
}
