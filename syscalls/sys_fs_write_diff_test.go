package syscalls_test

import (
	"path/filepath"
	"testing"

	"moat/sentry/kernel"
)

// fsWriteTree makes a fresh tree for fs_write.c: root/fs_write (the
// program), root/w (writable, empty), root/ro (the mount point) and
// ro-src beside the root (f and d/, mounted read-only on /ro). It returns
// the root and the mounts.
func fsWriteTree(t *testing.T) (string, []kernel.MountSpec) {
	t.Helper()
	root := tree{
		progs: []string{"fs_write"},
		dirs:  []string{"w", "ro", "../ro-src/d"},
		files: map[string]file{"../ro-src/f": {data: "ro\n"}},
	}.make(t)
	return root, []kernel.MountSpec{bindRO("/ro", filepath.Join(root, "../ro-src"))}
}

// TestFsWriteDifferential runs fs_write.c as root and then as uid 1000
// natively and in moat, on a writable root with a read-only bind mount
// on /ro, each on a fresh tree, and compares the outputs. The two trees
// live on the same host file system, so statfs and xattr support agree.
func TestFsWriteDifferential(t *testing.T) {
	needDiffHost(t)
	nroot, nmounts := fsWriteTree(t)
	mountNative(t, nroot, nmounts...)
	mroot, mmounts := fsWriteTree(t)
	for _, run := range []struct {
		name string
		args []string
		uid  uint32
	}{
		{"root", []string{"fs_write"}, 0},
		{"user", []string{"fs_write", "user"}, 1000},
	} {
		t.Run(run.name, func(t *testing.T) {
			diffRun(t, nroot, mroot, run.args, writableRoot, withMounts(mmounts...), asUser(run.uid, run.uid))
		})
	}
}
