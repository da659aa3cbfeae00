package syscalls_test

import (
	"testing"

	"moat/sentry/kernel"
)

// sockTree is a root with the AF_UNIX test programs and the mount points
// they use: /tmp (a tmpfs) and /w (a directory of the root itself, for
// sockets on the gofer or the overlay).
func sockTree(t *testing.T) string {
	t.Helper()
	return tree{progs: []string{"sock_unix", "sock_unix_msg"}, dirs: []string{"tmp", "w", "proc"}}.make(t)
}

// TestSocketUnixDifferential runs sock_unix.c (pathname sockets on a
// tmpfs, with proc for the fd links) and sock_unix_msg.c natively and in
// moat and compares the outputs.
func TestSocketUnixDifferential(t *testing.T) {
	needDiffHost(t)
	root := sockTree(t)
	ro := readOnlyView(t, root)
	tmp := tmpfsMount("/tmp", "mode=1777")
	mountNative(t, ro, tmp, procMount)
	t.Run("tmpfs", func(t *testing.T) {
		diffRun(t, ro, root, []string{"sock_unix", "/tmp", "proc"}, withMounts(tmp, procMount))
	})
	t.Run("msg", func(t *testing.T) {
		diffRun(t, ro, root, []string{"sock_unix_msg"}, withMounts(tmp))
	})
}

// TestSocketUnixPathsDifferential binds pathname sockets on a writable
// gofer root and on the in-memory overlay of a read-only one: connect
// must find the endpoint through the node the VFS made, whatever the
// file system.
func TestSocketUnixPathsDifferential(t *testing.T) {
	needDiffHost(t)
	native := sockTree(t)
	t.Run("gofer", func(t *testing.T) {
		diffRun(t, native, sockTree(t), []string{"sock_unix", "/w"}, writableRoot)
	})
	t.Run("overlay", func(t *testing.T) {
		diffRun(t, native, sockTree(t), []string{"sock_unix", "/w"}, func(c *kernel.Config) {
			c.RootOverlay, c.RootReadonly = true, false
		})
	})
}
