package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestSpecCapsAndRlimits runs a bundle with a reduced capability set and
// an RLIMIT_NOFILE of 1024: the init sees exactly those sets in
// /proc/self/status, capget and prctl, and that limit in getrlimit.
func TestSpecCapsAndRlimits(t *testing.T) {
	e := needEnv(t)
	b := e.newRootfs(t)
	mustMkdir(t, filepath.Join(b.Rootfs, "proc"))
	b.writeConfig(t, []string{"/bin/capsrlimit"}, func(s *specs.Spec) {
		s.Process.Capabilities = &specs.LinuxCapabilities{
			Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			Effective:   []string{"CAP_CHOWN", "CAP_KILL"},
			Permitted:   []string{"CAP_CHOWN", "CAP_KILL"},
			Inheritable: []string{"CAP_KILL"},
			Ambient:     []string{"CAP_KILL"},
		}
		s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 1024}}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/proc", Type: "proc", Source: "proc"})
	})
	r := e.run(newRoot(t), "run", "--bundle", b.Dir, "caps")
	if r.Exit != 0 {
		t.Fatalf("capsrlimit failed: %v", r)
	}
	// CAP_CHOWN is bit 0, CAP_KILL bit 5, CAP_NET_BIND_SERVICE bit 10.
	want := strings.Join([]string{
		"CapInh:\t0000000000000020",
		"CapPrm:\t0000000000000021",
		"CapEff:\t0000000000000021",
		"CapBnd:\t0000000000000421",
		"CapAmb:\t0000000000000020",
		"capget eff=0000000000000021 prm=0000000000000021 inh=0000000000000020",
		"bset CAP_CHOWN=1 CAP_SYS_ADMIN=0",
		"ambient CAP_KILL=1",
		"nofile=1024/1024",
	}, "\n") + "\n"
	if r.Stdout != want {
		t.Errorf("output differs\n--- want\n%s--- got\n%s", want, r.Stdout)
	}
}

// TestSpecBadCapOrRlimit checks create refuses an unknown capability name
// or rlimit type, or a soft limit above the hard one, naming the field.
func TestSpecBadCapOrRlimit(t *testing.T) {
	e := needEnv(t)
	cases := []struct {
		name   string
		modify func(*specs.Spec)
		want   string
	}{
		{"unknown cap", func(s *specs.Spec) {
			s.Process.Capabilities = &specs.LinuxCapabilities{Effective: []string{"CAP_NOPE"}}
		}, "process.capabilities.effective"},
		{"unknown rlimit", func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOPE", Soft: 1, Hard: 1}}
		}, "RLIMIT_NOPE"},
		{"soft above hard", func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 2048, Hard: 1024}}
		}, "soft limit 2048 above hard limit 1024"},
	}
	for _, c := range cases {
		b := e.newRootfs(t)
		b.writeConfig(t, []string{"/bin/capsrlimit"}, c.modify)
		r := e.run(newRoot(t), "create", "--bundle", b.Dir, "bad")
		if r.Exit == 0 || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%s: create exit %d, stderr %q, want failure naming %q", c.name, r.Exit, r.Stderr, c.want)
		}
	}
}
