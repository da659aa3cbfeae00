package syscalls_test

import (
	"testing"

	"moat/sentry/kernel"
)

// controlRoot compiles the ctl_*.c programs into a root with /secret
// (root, 0600) and an empty /tmp, and returns it with a read-only view of
// it for the native runs.
func controlRoot(t *testing.T) (root, readOnly string) {
	t.Helper()
	needDiffHost(t)
	root = tree{
		progs: []string{"ctl_prctl", "ctl_seccomp", "ctl_caps", "ctl_vsyscall"},
		dirs:  []string{"tmp"},
		files: map[string]file{"secret": {"secret\n", 0o600}},
	}.make(t)
	return root, readOnlyView(t, root)
}

// TestControlDifferential runs the prctl, seccomp and capability
// programs natively and in moat and compares their outputs.
func TestControlDifferential(t *testing.T) {
	root, ro := controlRoot(t)
	for _, name := range []string{"ctl_prctl", "ctl_seccomp", "ctl_caps", "ctl_vsyscall"} {
		t.Run(name, func(t *testing.T) {
			if name == "ctl_caps" {
				tmp := tmpfsMount("/tmp", "mode=1777")
				mountNative(t, ro, tmp)
				diffRun(t, ro, root, []string{name}, withMounts(tmp))
				return
			}
			diffRun(t, ro, root, []string{name})
		})
	}
}

// TestInt80 checks an int 0x80 from 64-bit code is not run as a 64-bit
// call: moat answers as a kernel without IA32 emulation, with SIGSEGV
// (SI_KERNEL, no address) on the instruction. Not differential: Linux's
// answer depends on the host's IA32 emulation.
func TestInt80(t *testing.T) {
	root, _ := controlRoot(t)
	out, st := boot(t, root, []string{"ctl_vsyscall", "int80"}, nil)
	if want := "signal 11 code 128 addr (nil)\n"; out != want || st != (kernel.ExitStatus{}) {
		t.Errorf("output %q status %+v, want %q and exit 0", out, st, want)
	}
}
