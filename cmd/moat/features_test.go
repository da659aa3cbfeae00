package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

// TestFeatures checks the document round-trips through JSON as containerd
// reads it and says what moat knows.
func TestFeatures(t *testing.T) {
	data, err := json.Marshal(moatFeatures())
	if err != nil {
		t.Fatal(err)
	}
	var f features.Features
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if f.OCIVersionMin != "1.0.0" || f.OCIVersionMax != specs.Version {
		t.Errorf("versions %q..%q, want 1.0.0..%s", f.OCIVersionMin, f.OCIVersionMax, specs.Version)
	}
	if f.Linux == nil || !slices.Contains(f.Linux.Namespaces, "pid") || !slices.Contains(f.Linux.Namespaces, "network") {
		t.Fatalf("linux.namespaces missing pid or network: %s", data)
	}
	for name, enabled := range map[string]*bool{
		"cgroup.v2": f.Linux.Cgroup.V2,
		"apparmor":  f.Linux.Apparmor.Enabled, "selinux": f.Linux.Selinux.Enabled,
	} {
		if enabled == nil || *enabled {
			t.Errorf("%s: want an explicit false, got %v", name, enabled)
		}
	}
	if sc := f.Linux.Seccomp; sc.Enabled == nil || !*sc.Enabled || !slices.Contains(sc.Actions, "SCMP_ACT_ERRNO") ||
		!slices.Contains(sc.Operators, "SCMP_CMP_MASKED_EQ") || slices.Contains(sc.Actions, "SCMP_ACT_NOTIFY") {
		t.Errorf("seccomp: want enabled with SCMP_ACT_ERRNO and SCMP_CMP_MASKED_EQ, without SCMP_ACT_NOTIFY: %+v", sc)
	}
	if !slices.Contains(f.Hooks, "poststop") || slices.Contains(f.Hooks, "startContainer") {
		t.Errorf("hooks %v: want poststop and no startContainer", f.Hooks)
	}
}

// TestHostProcessTree starts a shell with a child and finds both under
// it, and nothing else.
func TestHostProcessTree(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "sleep 30 & wait")
	if err := cmd.Start(); err != nil {
		t.Skip("no /bin/sh:", err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	var pids []int
	for range 100 {
		if pids = hostProcessTree(cmd.Process.Pid); len(pids) == 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(pids) != 2 || pids[0] != cmd.Process.Pid {
		t.Fatalf("hostProcessTree(%d) = %v, want the shell and its sleep", cmd.Process.Pid, pids)
	}
	child := pids[1]
	defer func() {
		if p, err := os.FindProcess(child); err == nil {
			p.Kill()
		}
	}()
	if got := hostProcessTree(1 << 30); !slices.Equal(got, []int{1 << 30}) {
		t.Errorf("hostProcessTree of a missing PID = %v, want just it", got)
	}
}
