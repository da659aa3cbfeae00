//go:build docker

package docker

import (
	"os"
	"strings"
	"testing"
	"time"

	"moat/test/harness"
)

// TestDockerExec: docker exec through containerd's shim, which runs
// `moat exec --process F --detach --pid-file P ID` and waits for the
// exec proxy as a subreaper: output, exit codes (a signal's as 128+N),
// a missing command, pause/unpause, and stats.
func TestDockerExec(t *testing.T) {
	e := needEnv(t)
	r := e.docker("run", "-d", "--runtime=moat", "--network", "none", image, "sleep", "1000")
	if r.Exit != 0 {
		t.Fatalf("docker run -d: %v", r)
	}
	id := strings.TrimSpace(r.Stdout)
	defer e.docker("rm", "-f", id)
	for _, c := range []struct {
		name   string
		args   []string
		stdout string
		exit   int
	}{
		{"echo", []string{"echo", "hi"}, "hi\n", 0},
		{"exit code", []string{"sh", "-c", "exit 5"}, "", 5},
		{"signal", []string{"sh", "-c", "kill -KILL $$"}, "", 137},
		{"env and cwd", []string{"-e", "FOO=bar", "-w", "/tmp", id, "sh", "-c", "echo $FOO $(pwd)"}, "bar /tmp\n", 0},
	} {
		args := append([]string{"exec"}, c.args...)
		if c.args[0] != "-e" {
			args = append([]string{"exec", id}, c.args...)
		}
		r := e.docker(args...)
		if r.Exit != c.exit || (c.stdout != "" && r.Stdout != c.stdout) {
			t.Errorf("%s: docker %s: want exit %d, stdout %q; got %v", c.name, strings.Join(args, " "), c.exit, c.stdout, r)
		}
	}
	if r := e.docker("exec", id, "/no-such-command"); r.Exit == 0 || !strings.Contains(r.Stdout+r.Stderr, "no-such-command") {
		t.Errorf("docker exec of a missing command: %v", r)
	}
	// The shim hands stdin over as a FIFO.
	if r := e.dockerOpts(harness.Opts{Stdin: "piped\n"}, "exec", "-i", id, "cat"); r.Exit != 0 || r.Stdout != "piped\n" {
		t.Errorf("docker exec -i cat: %v", r)
	}
	// docker exec -t: moat makes a pty and sends its master to the
	// shim's console socket.
	env := append(os.Environ(), "DOCKER_HOST=unix://"+dockerSock, "DOCKER_CONFIG="+e.workDir)
	if out, code := withPty(t, env, 60*time.Second, e.dockerBin, "exec", "-t", id, "sh", "-c", "echo term-exec > /dev/tty; exit 6"); code != 6 || !strings.Contains(out, "term-exec") {
		// /dev/tty opens only for a process with a controlling
		// terminal: the exec'd shell must have the pty as its own.
		t.Errorf("docker exec -t: want term-exec through /dev/tty and exit 6, got exit %d, output %q", code, out)
	}
	if r := e.docker("pause", id); r.Exit != 0 {
		t.Fatalf("docker pause: %v", r)
	}
	if r := e.docker("inspect", "-f", "{{.State.Status}}", id); strings.TrimSpace(r.Stdout) != "paused" {
		t.Errorf("inspect after pause: want paused, got %v", r)
	}
	if r := e.docker("unpause", id); r.Exit != 0 {
		t.Fatalf("docker unpause: %v", r)
	}
	if r := e.docker("exec", id, "echo", "after"); r.Exit != 0 || r.Stdout != "after\n" {
		t.Errorf("docker exec after unpause: %v", r)
	}
}
