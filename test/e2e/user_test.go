package e2e

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestProcessUser runs a bundle whose process.user is 1000:1000 with
// additional groups and a umask: the ids reach the container's init, and
// the permission checks follow them (root's 0600 file cannot be read,
// root's 0644 file cannot be written, uid 0 cannot be regained).
func TestProcessUser(t *testing.T) {
	e := needEnv(t)
	b := e.newRootfs(t)
	umask := uint32(0o027)
	b.writeConfig(t, []string{"/bin/identity"}, func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{20, 10}, Umask: &umask}
	})
	r := e.run(newRoot(t), "run", "--bundle", b.Dir, "user")
	if r.Exit != 0 {
		t.Fatalf("identity failed: %v", r)
	}
	want := strings.Join([]string{
		"uid=1000,1000,1000 gid=1000,1000,1000",
		"groups=10,20",
		"umask=027",
		"open /data/hello.txt r: OK",
		"open /data/sub/inner.txt r: EACCES",
		"open /etc/file w: EACCES",
		"setuid(0): EPERM",
		"sethostname: EPERM",
		"hostname=e2e-box",
	}, "\n") + "\n"
	if r.Stdout != want {
		t.Errorf("output differs\n--- want\n%s--- got\n%s", want, r.Stdout)
	}
}

// TestRootIdentity runs the same program as root: everything is allowed,
// and sethostname renames the sandbox's own UTS namespace only.
func TestRootIdentity(t *testing.T) {
	e := needEnv(t)
	b := e.newRootfs(t)
	b.writeConfig(t, []string{"/bin/identity"})
	hostBefore, _ := os.Hostname()
	r := e.run(newRoot(t), "run", "--bundle", b.Dir, "root")
	if r.Exit != 0 {
		t.Fatalf("identity failed: %v", r)
	}
	for _, want := range []string{
		"uid=0,0,0 gid=0,0,0\n", "umask=022\n", "open /data/sub/inner.txt r: OK\n",
		"setuid(0): OK\n", "sethostname: OK\n", "hostname=renamed\n",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.Stdout)
		}
	}
	if hostAfter, _ := os.Hostname(); hostAfter != hostBefore {
		t.Errorf("the host's name changed from %q to %q", hostBefore, hostAfter)
	}
}
