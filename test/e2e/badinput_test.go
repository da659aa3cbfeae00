package e2e

import (
	"path/filepath"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestBadInput: every mistake a user or a shim can make gets a non-zero
// exit, one line on stderr naming the thing at fault, and --root exactly as
// it was.
func TestBadInput(t *testing.T) {
	e := needEnv(t)
	for _, c := range []struct {
		name string
		// setup prepares a bundle (nil: none) and returns moat's
		// arguments after --root.
		setup func(t *testing.T, b bundle) []string
		want  []string // words stderr must hold
	}{
		{"missing bundle", func(t *testing.T, b bundle) []string {
			return []string{"create", "--bundle", "/nonexistent/bundle-x", "bad1"}
		}, []string{"/nonexistent/bundle-x"}},
		{"run missing bundle", func(t *testing.T, b bundle) []string {
			return []string{"run", "--bundle", "/nonexistent/bundle-y", "bad2"}
		}, []string{"/nonexistent/bundle-y"}},
		{"malformed config.json", func(t *testing.T, b bundle) []string {
			writeFile(t, filepath.Join(b.Dir, "config.json"), "{\"ociVersion\": \"1.0.2\",\n  \"process\": {", 0o644)
			return []string{"create", "--bundle", b.Dir, "bad3"}
		}, []string{"config.json"}},
		{"no config.json", func(t *testing.T, b bundle) []string {
			return []string{"create", "--bundle", b.Dir, "bad4"}
		}, []string{"config.json"}},
		{"empty args", func(t *testing.T, b bundle) []string {
			b.writeConfig(t, []string{})
			return []string{"create", "--bundle", b.Dir, "bad5"}
		}, []string{"args"}},
		{"missing rootfs", func(t *testing.T, b bundle) []string {
			b.writeConfig(t, []string{"/bin/hello"}, func(s *specs.Spec) { s.Root.Path = "no-such-rootfs" })
			return []string{"create", "--bundle", b.Dir, "bad6"}
		}, []string{"no-such-rootfs"}},
		{"command not found", func(t *testing.T, b bundle) []string {
			b.writeConfig(t, []string{"/bin/no-such-command"})
			return []string{"create", "--bundle", b.Dir, "bad7"}
		}, []string{"no-such-command"}},
		{"command not in PATH", func(t *testing.T, b bundle) []string {
			b.writeConfig(t, []string{"no-such-command-in-path"})
			return []string{"run", "--bundle", b.Dir, "bad8"}
		}, []string{"no-such-command-in-path"}},
		{"command is a directory", func(t *testing.T, b bundle) []string {
			b.writeConfig(t, []string{"/data"})
			return []string{"create", "--bundle", b.Dir, "bad9"}
		}, []string{"/data"}},
		{"invalid ID", func(t *testing.T, b bundle) []string {
			b.writeConfig(t, []string{"/bin/hello"})
			return []string{"create", "--bundle", b.Dir, "../escape"}
		}, []string{"../escape"}},
		{"do: command not found", func(t *testing.T, b bundle) []string {
			return []string{"do", "--", "/nonexistent/cmd-z"}
		}, []string{"cmd-z"}},
		{"state of unknown ID", func(t *testing.T, b bundle) []string { return []string{"state", "nosuch-1"} }, []string{"nosuch-1"}},
		{"start of unknown ID", func(t *testing.T, b bundle) []string { return []string{"start", "nosuch-2"} }, []string{"nosuch-2"}},
		{"kill of unknown ID", func(t *testing.T, b bundle) []string { return []string{"kill", "nosuch-3", "KILL"} }, []string{"nosuch-3"}},
		{"delete of unknown ID", func(t *testing.T, b bundle) []string { return []string{"delete", "nosuch-4"} }, []string{"nosuch-4"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := e.newRootfs(t)
			args := c.setup(t, b)
			root := newRoot(t)
			mustMkdir(t, root)
			before := listTree(t, root)
			r := e.run(root, args...)
			oneLine(t, r, c.want...)
			if after := listTree(t, root); !reflect.DeepEqual(before, after) {
				t.Errorf("--root changed: before %v, after %v", before, after)
			}
		})
	}
}

func TestIDInUse(t *testing.T) {
	e := needEnv(t)
	s := e.create(t, []string{"/bin/sleeper", "60"})
	before := listTree(t, s.root)
	b := e.newRootfs(t)
	b.writeConfig(t, []string{"/bin/hello"})
	r := e.run(s.root, "create", "--bundle", b.Dir, s.id)
	oneLine(t, r, s.id)
	if after := listTree(t, s.root); !reflect.DeepEqual(before, after) {
		t.Errorf("--root changed: before %v, after %v", before, after)
	}
	if st := e.state(t, s.root, s.id); st.Status != "created" || st.Pid != s.pid {
		t.Errorf("the first container was disturbed: %+v", st)
	}
	if r := e.run(s.root, "delete", "--force", s.id); r.Exit != 0 {
		t.Fatalf("delete --force: %v", r)
	}
	s.checkGone(t)
}
