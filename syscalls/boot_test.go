package syscalls_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"moat/gofer"
	"moat/platform/ptrace"
	"moat/sentry/kernel"
	"moat/syscalls"

	"golang.org/x/sys/unix"
)

// bootProgram compiles testdata/NAME.c statically into a fresh root
// directory and returns the directory.
func bootProgram(t *testing.T, name string) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed")
	}
	root := t.TempDir()
	out, err := exec.Command("gcc", "-static", "-O1", "-o", filepath.Join(root, name), filepath.Join("testdata", name+".c")).CombinedOutput()
	if err != nil {
		t.Skipf("gcc -static failed (static libc missing?): %v\n%s", err, out)
	}
	return root
}

// boot runs /NAME with args in a sandbox over root and returns its
// standard output and exit status; opts adjust the kernel's config
// (credentials, say) before it starts.
func boot(t *testing.T, root string, args []string, strace io.Writer, opts ...func(*kernel.Config)) (string, kernel.ExitStatus) {
	t.Helper()
	p, err := ptrace.New()
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.ENOSYS) {
			t.Skipf("ptrace platform unavailable: %v", err)
		}
		t.Fatal(err)
	}
	defer p.Close()

	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	srv, cli := os.NewFile(uintptr(fds[0]), "gofer"), os.NewFile(uintptr(fds[1]), "sentry")
	served := make(chan error, 1)
	go func() { served <- gofer.Serve(root, srv, nil); srv.Close() }()
	client, err := gofer.NewClient(cli)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { client.Close(); <-served }()

	stdin, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	cfg := kernel.Config{
		Platform: p,
		Root:     client,
		Stdio:    [3]int{int(stdin.Fd()), int(w.Fd()), int(w.Fd())},
		Args:     args,
		Env:      []string{"PATH=/", "HOME=/"},
		Cwd:      "/",
		// gofer.Serve serves read-only: tell the VFS so, or it answers
		// access(W_OK) with 0 where the kernel says EROFS.
		RootReadonly: true,
		Table:        syscalls.Table(),
		Strace:       strace,
	}
	for _, o := range opts {
		o(&cfg)
	}
	k, err := kernel.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Start(); err != nil {
		w.Close()
		t.Fatalf("Start: %v", err)
	}
	w.Close()
	out, _ := io.ReadAll(r)
	return string(out), k.Wait()
}

func TestBootStaticProgram(t *testing.T) {
	root := bootProgram(t, "boot")
	var trace bytes.Buffer
	out, st := boot(t, root, []string{"boot", "hello"}, &trace)
	if st.Code != 42 || st.Signal != 0 {
		t.Errorf("exit status %+v, want code 42\noutput:\n%s\nstrace:\n%s", st, out, trace.String())
	}
	for _, want := range []string{
		"argv1=hello\n",
		"pid=1 ppid=0\n",
		"uname=Linux 6.1.0-moat x86_64\n",
		"nofile=1024/4096\n",
		"malloc=ok\n",
		"nanosleep=0\n",
		"mount=-1 errno=1\n",
		"unknown=-1 errno=38\n",
		"sigaction_kill=-1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s\nstrace:\n%s", want, out, trace.String())
		}
	}
	tr := trace.String()
	for _, want := range []string{"[1:1] exit_group(42) = ?", "[1:1] mount(", "= -1 EPERM (Operation not permitted)", "[1:1] syscall_1000() = -1 ENOSYS"} {
		if !strings.Contains(tr, want) {
			t.Errorf("strace lacks %q:\n%s", want, tr)
		}
	}
}

func TestBootMissingProgram(t *testing.T) {
	root := t.TempDir()
	p, err := ptrace.New()
	if err != nil {
		t.Skipf("ptrace platform unavailable: %v", err)
	}
	defer p.Close()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	srv, cli := os.NewFile(uintptr(fds[0]), "gofer"), os.NewFile(uintptr(fds[1]), "sentry")
	go func() { gofer.Serve(root, srv, nil); srv.Close() }()
	client, _ := gofer.NewClient(cli)
	defer client.Close()
	k, err := kernel.New(kernel.Config{Platform: p, Root: client, Args: []string{"nope"}, Table: syscalls.Table()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = k.ResolveExecutable()
	if err == nil || !strings.Contains(err.Error(), `exec: "nope": executable file not found in $PATH`) {
		t.Errorf("ResolveExecutable error = %v", err)
	}
}
