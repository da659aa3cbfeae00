package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"moat/test/harness"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSpec(t *testing.T) {
	e := needEnv(t)
	dir := t.TempDir()
	r := e.runOpts(harness.Opts{Dir: dir}, newRoot(t), "spec")
	if r.Exit != 0 {
		t.Fatalf("spec: %v", r)
	}
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatalf("spec wrote no config.json in the working directory: %v", err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("config.json is not valid JSON: %v", err)
	}
	if s.Version == "" || s.Process == nil || len(s.Process.Args) == 0 || s.Root == nil || s.Root.Path != "rootfs" {
		t.Errorf("config.json lacks ociVersion, process.args or root.path \"rootfs\": %s", data)
	}
	if s.Linux == nil || len(s.Linux.Namespaces) == 0 {
		t.Errorf("config.json has no linux namespaces: %s", data)
	}

	// Never overwrite a bundle's config.
	oneLine(t, e.runOpts(harness.Opts{Dir: dir}, newRoot(t), "spec"), "config.json")

	other := t.TempDir()
	if r := e.run(newRoot(t), "spec", "--bundle", other); r.Exit != 0 {
		t.Fatalf("spec --bundle: %v", r)
	}
	if _, err := os.Stat(filepath.Join(other, "config.json")); err != nil {
		t.Errorf("spec --bundle %s: %v", other, err)
	}
}

func TestSyscallsList(t *testing.T) {
	e := needEnv(t)
	r := e.run(newRoot(t), "syscalls")
	if r.Exit != 0 {
		t.Fatalf("syscalls: %v", r)
	}
	// Whatever the layout, the line of each call must carry its number on
	// amd64 and on arm64.
	for _, c := range []struct {
		name         string
		amd64, arm64 string
	}{
		{"read", "0", "63"},
		{"write", "1", "64"},
		{"openat", "257", "56"},
		{"exit_group", "231", "94"},
	} {
		found := false
		for _, l := range strings.Split(r.Stdout, "\n") {
			f := strings.Fields(strings.NewReplacer(",", " ", "|", " ").Replace(l))
			if len(f) == 0 || f[0] != c.name {
				continue
			}
			found = true
			if !hasField(f, c.amd64) || !hasField(f, c.arm64) {
				t.Errorf("%s: want numbers %s (amd64) and %s (arm64) on %q", c.name, c.amd64, c.arm64, l)
			}
		}
		if !found {
			t.Errorf("moat syscalls does not list %s:\n%s", c.name, r.Stdout)
		}
	}
}

func hasField(f []string, s string) bool {
	for _, x := range f {
		if x == s {
			return true
		}
	}
	return false
}
