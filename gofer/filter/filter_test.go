//go:build cgo

package filter

import (
	"slices"
	"testing"
)

// TestBuild checks every name resolves and every rule is accepted, for
// both architectures, without loading anything.
func TestBuild(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			for _, writable := range []bool{false, true} {
				f, err := build(arch, 1234, writable)
				if err != nil {
					t.Fatalf("writable %v: %v", writable, err)
				}
				f.Release()
			}
		})
	}
	if _, err := build("mips", 1, false); err == nil {
		t.Error("build for an unknown architecture succeeded")
	}
}

// TestNoDangerousCalls guards the list against additions that would
// reopen a wall.
func TestNoDangerousCalls(t *testing.T) {
	bad := []string{"open", "openat", "execve", "execveat", "mount", "umount2", "pivot_root",
		"chroot", "ptrace", "unshare", "setns", "clone", "clone3", "kill", "tgkill", "socket",
		"connect", "bind", "ioctl", "capset", "prctl", "bpf", "mknodat", "unlinkat", "renameat2",
		"mkdirat", "symlinkat", "linkat", "open_by_handle_at", "name_to_handle_at", "process_vm_writev"}
	for _, arch := range []string{"amd64", "arm64"} {
		for _, name := range Syscalls(arch) {
			if slices.Contains(bad, name) {
				t.Errorf("%s: %s is allowed without conditions", arch, name)
			}
		}
	}
	// A writable gofer may create and remove, but never follow a link,
	// make a device, or change a mode through a path that follows links.
	writeBad := []string{"mknodat", "linkat", "fchownat", "utimensat", "fchmodat", "chmod", "chown",
		"lchown", "truncate", "open", "openat", "mount", "setxattr", "lsetxattr", "getxattr"}
	for _, name := range WriteSyscalls {
		creation := slices.Contains([]string{"mkdirat", "symlinkat", "unlinkat", "renameat2"}, name)
		if slices.Contains(writeBad, name) || slices.Contains(bad, name) && !creation {
			t.Errorf("%s is allowed without conditions in a writable gofer", name)
		}
	}
}
