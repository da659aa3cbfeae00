package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestJoinNetworkNamespace: a network namespace given by path (a
// Kubernetes pod's, `docker run --network container:X`) is the one the
// container's sockets live in: the address the test put on that
// namespace's loopback shows inside, and the host's interfaces do not.
func TestJoinNetworkNamespace(t *testing.T) {
	e := needEnv(t)
	holder := exec.Command("unshare", "--net", "sleep", "1000")
	if err := holder.Start(); err != nil {
		t.Fatalf("unshare --net: %v", err)
	}
	defer func() {
		holder.Process.Kill()
		holder.Wait()
	}()
	nsPath := fmt.Sprintf("/proc/%d/ns/net", holder.Process.Pid)
	// unshare may not have switched namespaces yet: wait until it has.
	self, _ := os.Readlink("/proc/self/ns/net")
	for i := 0; i < 500; i++ {
		if ns, err := os.Readlink(nsPath); err == nil && ns != self {
			break
		}
		if i == 499 {
			t.Fatal("the namespace holder never entered a network namespace of its own")
		}
		exec.Command("sleep", "0.01").Run()
	}
	for _, args := range [][]string{
		{"ip", "addr", "add", "10.213.7.5/8", "dev", "lo"},
		{"ip", "link", "set", "lo", "up"},
	} {
		cmd := exec.Command("nsenter", append([]string{"--net=" + nsPath}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("nsenter %v: %v: %s", args, err, out)
		}
	}
	b := busyboxBundle(t)
	if err := os.Symlink("busybox", filepath.Join(b.Rootfs, "bin", "ip")); err != nil {
		t.Fatal(err)
	}
	b.writeConfig(t, []string{"ip", "-o", "addr"}, func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: nsPath})
	})
	r := e.run(newRoot(t), "run", "--bundle", b.Dir, "join-netns")
	if r.Exit != 0 || !strings.Contains(r.Stdout, "10.213.7.5") {
		t.Fatalf("want the joined namespace's address 10.213.7.5, got %v", r)
	}
	if strings.Contains(r.Stdout, "eth0") {
		t.Errorf("the host's interfaces show in the joined namespace: %v", r)
	}
}
