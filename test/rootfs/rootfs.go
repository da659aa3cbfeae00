// Package rootfs gives tests a real root file system to run programs in:
// a Debian bookworm tree (debootstrap minbase + python3-minimal) built once
// per machine by scripts/debian-rootfs.sh and cached, a way to run a
// command in such a tree under chroot on the host with the same mounts a
// config.json asks moat for (the oracle the sandbox is compared with), and
// a digest of a directory tree so the trees two runs leave behind can be
// compared.
package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"moat/test/harness"
)

// BuildTimeout bounds the first build of the Debian tree (about a minute
// on a machine with a good network; the mirror may be slow).
const BuildTimeout = 20 * time.Minute

var (
	debianOnce sync.Once
	debianPath string
	debianErr  error
)

// Debian returns the path of the cached Debian bookworm tree, building it
// first if this machine has none (which needs root and the network). The
// script is run once per process; later calls return its answer.
//
// The tree is shared by every test on the machine: callers must never
// write to it. Tests that need a writable root take a Copy.
func Debian() (string, error) {
	debianOnce.Do(func() { debianPath, debianErr = buildDebian() })
	return debianPath, debianErr
}

func buildDebian() (string, error) {
	if os.Geteuid() != 0 {
		return "", errors.New("the Debian root file system needs root to build (debootstrap)")
	}
	root, err := harness.RepoRoot()
	if err != nil {
		return "", err
	}
	script := filepath.Join(root, "scripts", "debian-rootfs.sh")
	// Through harness.Run, whose children the e2e reaper leaves alone.
	r := harness.Run(harness.Opts{Timeout: BuildTimeout}, script)
	if r.Exit != 0 || r.Err != nil {
		return "", fmt.Errorf("%s: exit %d (%v)\n%s", script, r.Exit, r.Err, tail(r.Stderr, 40))
	}
	path := strings.TrimSpace(r.Stdout)
	if fi, err := os.Stat(filepath.Join(path, "usr", "bin", "python3")); err != nil || fi.IsDir() {
		return "", fmt.Errorf("%s printed %q, which holds no usr/bin/python3", script, path)
	}
	return path, nil
}

// NeedDebian returns the Debian tree for a test that needs it. When the
// tree cannot be had the test is skipped with the reason, except with
// CI=true, where the Debian tests must run: there it fails.
func NeedDebian(t testing.TB) string {
	t.Helper()
	path, err := Debian()
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("this test needs the Debian root file system, and CI=true makes its absence a failure: %v", err)
	}
	t.Skipf("skipping: this test needs the Debian root file system: %v", err)
	return ""
}

// Copy copies the tree at src to a new directory dst (which must not
// exist) with `cp -a`, keeping owners, modes, times, hard links and
// special files, for tests that need a root they may write to.
func Copy(src, dst string) error {
	r := harness.Run(harness.Opts{Timeout: 5 * time.Minute}, "cp", "-a", "--", src, dst)
	if r.Exit != 0 || r.Err != nil {
		return fmt.Errorf("cp -a %s %s: exit %d (%v): %s", src, dst, r.Exit, r.Err, r.Stderr)
	}
	return nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
