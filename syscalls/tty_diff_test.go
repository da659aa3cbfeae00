package syscalls_test

import (
	"os"
	"path/filepath"
	"testing"

	"moat/sentry/fs/dev"
	"moat/sentry/kernel"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// devptsMount is devpts on /dev/pts as Docker mounts it: a new
// instance, ptmx usable by all, slaves 0620 in group tty (5).
var devptsMount = kernel.MountSpec{Destination: "/dev/pts", Type: "devpts", Source: "devpts",
	Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}

// withDevpts gives moat's kernel the devpts file system and the device
// drivers (/dev/tty).
func withDevpts(c *kernel.Config) {
	if c.FSTypes == nil {
		// The native run's config: nothing to add.
		return
	}
	c.FSTypes["devpts"] = func(_ *kernel.Kernel, m kernel.MountSpec) (vfs.FilesystemImpl, error) {
		return dev.NewPts(m.Options)
	}
	c.Devices = dev.Drivers{}
}

// TestTTYDifferential runs tty.c and tty_jobs.c natively and in moat: a root with
// /dev/tty, /dev/ptmx → pts/ptmx and a devpts instance on /dev/pts.
func TestTTYDifferential(t *testing.T) {
	needDiffHost(t)
	root := tree{
		progs: []string{"tty", "tty_jobs"},
		dirs:  []string{"dev/pts"},
		links: map[string]string{"dev/ptmx": "pts/ptmx"},
	}.make(t)
	ttyNode := filepath.Join(root, "dev", "tty")
	if err := unix.Mknod(ttyNode, unix.S_IFCHR|0o666, int(unix.Mkdev(5, 0))); err != nil {
		t.Skipf("mknod /dev/tty: %v", err)
	}
	if err := os.Chmod(ttyNode, 0o666); err != nil {
		t.Fatal(err)
	}
	mountNative(t, root, devptsMount)
	for _, prog := range []string{"tty", "tty_jobs"} {
		t.Run(prog, func(t *testing.T) {
			out := diffRun(t, root, root, []string{prog}, withMounts(devptsMount), withDevpts)
			if testing.Verbose() {
				t.Log(out)
			}
		})
	}
}
