//go:build debian

package debian

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"moat/test/harness"
)

// nsEnv marks the test process as re-executed in its own mount namespace.
const nsEnv = "MOAT_DEBIAN_TEST_MOUNT_NS"

// workDir holds the moat binary, the compiled programs and the shared data
// files for the whole run; TestMain removes it.
var workDir string

func TestMain(m *testing.M) {
	// The oracle must not see descriptors this process inherited: moat
	// gives the container its three streams only.
	if err := harness.CloseInheritedFDs(); err != nil {
		fmt.Fprintln(os.Stderr, "debian:", err)
		os.Exit(1)
	}
	if os.Geteuid() == 0 && os.Getenv(nsEnv) == "" {
		reexecInMountNamespace()
	}
	dir, err := os.MkdirTemp("", "moat-debian-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "debian:", err)
		os.Exit(1)
	}
	workDir = dir
	// Stand where containerd's shim stands (see harness.StartReaper).
	if err := harness.StartReaper(); err != nil {
		fmt.Fprintln(os.Stderr, "debian:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// reexecInMountNamespace replaces the process with itself run under
// `unshare --mount --propagation private`: a Go process has many threads
// and cannot unshare its mount namespace itself. It returns only when
// unshare is missing; the tests then refuse to run (see needEnv).
func reexecInMountNamespace() {
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return
	}
	self, err := os.Executable()
	if err != nil {
		return
	}
	args := append([]string{"unshare", "--mount", "--propagation", "private", "--", self}, os.Args[1:]...)
	err = syscall.Exec(unshare, args, append(os.Environ(), nsEnv+"=1"))
	fmt.Fprintf(os.Stderr, "debian: re-executing under %s: %v\n", unshare, err)
	os.Exit(1)
}
