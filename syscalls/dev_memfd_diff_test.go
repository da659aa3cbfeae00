package syscalls_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"moat/sentry/fs/dev"
	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

// devRoot compiles dev_memfd.c into a root whose /dev holds real device
// nodes (null, zero, full, random, urandom), as a bundle rootfs may.
func devRoot(t *testing.T) string {
	t.Helper()
	needDiffHost(t)
	root := bootProgram(t, "dev_memfd")
	d := filepath.Join(root, "dev")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range dev.Nodes {
		if n.Name == "tty" {
			continue
		}
		if err := unix.Mknod(filepath.Join(d, n.Name), unix.S_IFCHR|0o666, int(unix.Mkdev(n.Major, n.Minor))); err != nil {
			skipOrFail(t, "mknod /dev/%s: %v", n.Name, err)
		}
		// mknod's mode passes through the umask; be exact.
		if err := os.Chmod(filepath.Join(d, n.Name), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestDevMemfdDifferential runs dev_memfd.c natively and in moat twice:
// once opening the root's own device nodes (served by the gofer, opened
// by the sentry's drivers) and once with a tmpfs /dev populated as runc
// does. Outputs and statuses must match Linux's.
func TestDevMemfdDifferential(t *testing.T) {
	root := devRoot(t)
	args := []string{"dev_memfd"}
	// A file system that refuses device nodes makes every comparison moot.
	if want, _ := runNative(t, root, args); strings.Contains(want, "open null = -1") {
		t.Skipf("the temporary directory's file system refuses device nodes natively:\n%s", want)
	}
	withDevices := func(c *kernel.Config) { c.Devices = dev.Drivers{} }
	tmpfsDev := withMounts(tmpfsMount("/dev", "nosuid", "mode=755"))
	for _, tc := range []struct {
		name string
		opts []func(*kernel.Config)
	}{
		{"root device nodes", []func(*kernel.Config){withDevices}},
		{"tmpfs /dev", []func(*kernel.Config){withDevices, tmpfsDev}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			diffRun(t, root, root, args, tc.opts...)
		})
	}
	// File seals (F_ADD_SEALS, F_GET_SEALS) and what they forbid.
	t.Run("seals", func(t *testing.T) {
		diffRun(t, root, root, []string{"dev_memfd", "seals"})
	})
	// Without drivers the root's device nodes are nodev: EACCES.
	got, _ := boot(t, root, args, nil)
	if !strings.Contains(got, "open null = -1 EACCES") {
		t.Errorf("device nodes opened without drivers:\n%s", got)
	}
}
