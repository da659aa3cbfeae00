package syscalls_test

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"moat/sentry/kernel"
)

// TestDifferentialExecOnlyUser runs proc_execfmt as an unprivileged user,
// natively and in moat, starting from its execute-only copy /xonly (mode
// 0111): neither the init's exec nor its children's execve of /xonly
// may need read permission.
func TestDifferentialExecOnlyUser(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the ptrace platform runs on amd64 only")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (chroot, a PID namespace and a change of user for the native run)")
	}
	const uid, gid = 65534, 65534
	root := diffRoot(t)
	args := []string{"xonly"}

	cmd := exec.Command("/xonly")
	cmd.Args = args
	cmd.Env = []string{"PATH=/", "HOME=/"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Cloneflags: syscall.CLONE_NEWPID, Setsid: true,
		Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Skipf("cannot run natively as uid %d in a chroot and PID namespace: %v", uid, err)
	}
	want := out.String()
	wantSt := kernel.ExitStatus{Code: cmd.ProcessState.ExitCode()}
	if !strings.Contains(want, "execute-only file: exit 7") {
		t.Fatalf("native run did not exec /xonly:\n%s", want)
	}

	var trace strings.Builder
	got, gotSt := boot(t, root, args, &trace, func(c *kernel.Config) { c.UID, c.GID = uid, gid })
	if got != want || gotSt != wantSt {
		t.Errorf("moat and Linux differ\n--- linux (status %+v)\n%s--- moat (status %+v)\n%s%s",
			wantSt, want, gotSt, got, diffLines(want, got))
	}
}
