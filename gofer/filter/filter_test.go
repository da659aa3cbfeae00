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
			f, err := build(arch, 1234)
			if err != nil {
				t.Fatal(err)
			}
			f.Release()
		})
	}
	if _, err := build("mips", 1); err == nil {
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
}
