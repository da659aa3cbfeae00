package e2e

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// receiveConsole accepts one connection on the console socket and
// returns the pty master passed with SCM_RIGHTS, as containerd's shim
// does for runc.
func receiveConsole(l *net.UnixListener) (*os.File, error) {
	c, err := l.AcceptUnix()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	buf, oob := make([]byte, 256), make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, errors.New("console socket: no control message")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, errors.New("console socket: no descriptor")
	}
	// Non-blocking, so the runtime's poller serves it and read
	// deadlines work.
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		return nil, err
	}
	return os.NewFile(uintptr(fds[0]), "console-master"), nil
}

// startConsole creates a process.terminal container running args in b
// (with /dev and a devpts of its own), receives its console master,
// gives it size 33x77 and starts the container.
func startConsole(t *testing.T, e *env, b bundle, args []string) *os.File {
	t.Helper()
	mustMkdir(t, filepath.Join(b.Rootfs, "dev"))
	b.writeConfig(t, args, func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=755"}},
			specs.Mount{Destination: "/dev/pts", Type: "devpts", Source: "devpts",
				Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}})
	})
	sock := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type result struct {
		f   *os.File
		err error
	}
	got := make(chan result, 1)
	go func() {
		f, err := receiveConsole(l)
		got <- result{f, err}
	}()
	root := newRoot(t)
	id := "tty-" + strconv.Itoa(os.Getpid()) + "-" + t.Name()
	t.Cleanup(func() { e.run(root, "delete", "--force", id) })
	if r := e.run(root, "create", "--bundle", b.Dir, "--console-socket", sock, id); r.Exit != 0 {
		t.Fatalf("create: %v", r)
	}
	var master *os.File
	select {
	case res := <-got:
		if res.err != nil {
			t.Fatal(res.err)
		}
		master = res.f
	case <-time.After(20 * time.Second):
		t.Fatal("no console master came through the console socket")
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 33, Col: 77}); err != nil {
		t.Fatal(err)
	}
	if r := e.run(root, "start", id); r.Exit != 0 {
		t.Fatalf("start: %v", r)
	}
	return master
}

// readUntil reads the console master until its output holds marker,
// the container is gone (EIO) or 30 s pass, and returns the output with
// the terminal's CRLFs made newlines.
func readUntil(master *os.File, marker string) string {
	var out strings.Builder
	_ = master.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 4096)
	for !strings.Contains(out.String(), marker) {
		n, err := master.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return strings.ReplaceAll(out.String(), "\r\n", "\n")
}

// TestTerminalConsole checks what a process.terminal container sees:
// its stdio are terminals with the console's size and settings, and a
// devpts of its own makes pseudo-terminals.
func TestTerminalConsole(t *testing.T) {
	e := needEnv(t)
	b := busyboxBundle(t)
	for _, applet := range []string{"stty", "test", "grep", "head"} {
		if err := os.Symlink("busybox", filepath.Join(b.Rootfs, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
	script := `test -t 0 && echo stdin-tty; test -t 1 && echo stdout-tty; ` +
		`stty size; stty -a | grep -o 'icanon' | head -1; ls /dev/pts; echo done`
	master := startConsole(t, e, b, []string{"/bin/sh", "-c", script})
	text := readUntil(master, "done\n")
	for _, want := range []string{"stdin-tty\n", "stdout-tty\n", "33 77\n", "icanon\n", "ptmx"} {
		if !strings.Contains(text, want) {
			t.Errorf("console output lacks %q:\n%s", want, text)
		}
	}
}

// TestTerminalInterrupt types ^C at the console: the host terminal
// signals the sentry, which passes SIGINT to the app's foreground group.
func TestTerminalInterrupt(t *testing.T) {
	e := needEnv(t)
	b := busyboxBundle(t)
	for _, applet := range []string{"sleep"} {
		if err := os.Symlink("busybox", filepath.Join(b.Rootfs, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
	script := `trap 'echo got-int; exit 3' INT; echo ready; while true; do sleep 1; done`
	master := startConsole(t, e, b, []string{"/bin/sh", "-c", script})
	if text := readUntil(master, "ready\n"); !strings.Contains(text, "ready\n") {
		t.Fatalf("the container did not start:\n%s", text)
	}
	if _, err := master.Write([]byte{3}); err != nil {
		t.Fatal(err)
	}
	if text := readUntil(master, "got-int"); !strings.Contains(text, "got-int") {
		t.Errorf("^C did not reach the shell's trap:\n%s", text)
	}
}
