package syscalls_test

import (
	"path/filepath"
	"strings"
	"testing"

	"moat/sentry/kernel"
)

// openat2Tree makes the tree openat2.c describes: root/ (the program,
// /top, /d with its symlinks, /w, the mount points /ro and /proc), ro-src
// (mounted on /ro) and "outside", next to root, which no resolution may
// reach. It returns the root and its mounts: ro-src read-only on /ro and
// proc on /proc.
func openat2Tree(t *testing.T) (string, []kernel.MountSpec) {
	t.Helper()
	exe := func(data string) file { return file{data, 0o755} }
	root := tree{
		progs: []string{"openat2"},
		dirs:  []string{"d/sub", "w", "ro", "proc", "../ro-src/d"},
		files: map[string]file{
			"top":         exe("top\n"),
			"d/f":         exe("f\n"),
			"d/sub/g":     exe("g\n"),
			"../ro-src/f": exe("ro f\n"),
			"../outside":  exe("host file\n"),
		},
		links: map[string]string{
			"d/rel": "f", "d/up": "../d/f", "d/abs": "/d/f", "d/out": "../../..",
			"d/loop1": "loop2", "d/loop2": "loop1", "d/dangling": "nope",
			"d/tomnt": "../ro/f", "d/rootlink": "/", "w/dl": "/made",
			"../ro-src/back": "../d/f", "../ro-src/abs": "/top",
		},
	}.make(t)
	return root, []kernel.MountSpec{bindRO("/ro", filepath.Join(root, "../ro-src")), procMount}
}

// TestOpenat2Differential runs openat2.c natively and in moat, on a
// writable root with a read-only bind mount on /ro and proc on /proc,
// each on a fresh tree, and compares the outputs.
func TestOpenat2Differential(t *testing.T) {
	needDiffHost(t)
	nroot, nmounts := openat2Tree(t)
	mountNative(t, nroot, nmounts...)
	mroot, mmounts := openat2Tree(t)
	want := diffRun(t, nroot, mroot, []string{"openat2"}, writableRoot, withMounts(mmounts...))
	if !strings.Contains(want, "escaped 0\n") {
		t.Errorf("the native run did not finish cleanly:\n%s", want)
	}
}
