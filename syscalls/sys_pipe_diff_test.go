package syscalls_test

import (
	"strings"
	"testing"

	"moat/sentry/kernel"
)

// identityRoot compiles pipes.c, creds.c and fifo.c into a root with
// /secret (root, 0600), /public (root, 0644) and an empty /tmp, and
// returns it with a read-only view of it for the native runs (moat
// serves the root read-only).
func identityRoot(t *testing.T) (root, readOnly string) {
	t.Helper()
	needDiffHost(t)
	root = tree{
		progs: []string{"pipes", "creds", "fifo"},
		dirs:  []string{"tmp"},
		files: map[string]file{"secret": {"secret\n", 0o600}, "public": {"public\n", 0o644}},
	}.make(t)
	return root, readOnlyView(t, root)
}

// TestPipesAndCredsDifferential runs pipes.c and creds.c natively and in
// moat and compares their outputs.
func TestPipesAndCredsDifferential(t *testing.T) {
	root, ro := identityRoot(t)
	for _, name := range []string{"pipes", "creds"} {
		t.Run(name, func(t *testing.T) {
			diffRun(t, ro, root, []string{name})
		})
	}
}

// TestFIFODifferential runs fifo.c with a tmpfs on /tmp, natively and
// in moat, and compares the outputs.
func TestFIFODifferential(t *testing.T) {
	root, ro := identityRoot(t)
	tmp := tmpfsMount("/tmp", "mode=1777")
	mountNative(t, ro, tmp)
	diffRun(t, ro, root, []string{"fifo"}, withMounts(tmp))
}

// TestProcessUser checks that process.user reaches the init: its ids,
// groups and umask, and the permission checks that follow from them.
func TestProcessUser(t *testing.T) {
	root, _ := identityRoot(t)
	umask := uint32(0o077)
	out, st := boot(t, root, []string{"creds"}, nil, asUser(1000, 1000, 5, 7), func(c *kernel.Config) { c.Umask = &umask })
	for _, want := range []string{
		"start: uid 1000 1000 1000 gid 1000 1000 1000 fsuid 1000 fsgid 1000\n",
		"root: setuid eff=0 perm=0 dac eff=0 perm=0\n",
		"setgroups = -1 EPERM\n",
		"getgroups=2: 5 7\n",
		"root secret = -1 EACCES\n",
		"  public read: ok\n",
		"sethostname too long = -1 EPERM\n",
		"umask = 63\n", // 077
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q (status %+v):\n%s", want, st, out)
		}
	}
}
