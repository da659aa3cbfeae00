package syscalls_test

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"moat/gofer"
	"moat/platform/ptrace"
	"moat/sentry/fs/goferfs"
	"moat/sentry/kernel"
	"moat/sentry/vfs"
	"moat/syscalls"

	"golang.org/x/sys/unix"
)

// fsWriteTree makes a fresh tree for fs_write.c under top: root/fs_write
// (the program), root/w (writable, empty), root/ro (the mount point) and
// ro-src (f and d/, mounted read-only on /ro).
func fsWriteTree(t *testing.T, top, bin string) (root, roSrc string) {
	t.Helper()
	root = filepath.Join(top, "root")
	roSrc = filepath.Join(top, "ro-src")
	for _, d := range []string{filepath.Join(root, "w"), filepath.Join(root, "ro"), filepath.Join(roSrc, "d")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "fs_write"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(roSrc, "f"), []byte("ro\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, roSrc
}

// runNativeAs runs /args[0] chrooted in root as uid:gid in a new PID
// namespace.
func runNativeAs(t *testing.T, root string, args []string, uid uint32) (string, kernel.ExitStatus) {
	t.Helper()
	cmd := exec.Command("/" + args[0])
	cmd.Args = args
	cmd.Env = []string{"PATH=/", "HOME=/"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Cloneflags: syscall.CLONE_NEWPID, Setsid: true,
		Credential: &syscall.Credential{Uid: uid, Gid: uid, NoSetGroups: true}}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Skipf("cannot run natively in a chroot: %v", err)
	}
	return out.String(), kernel.ExitStatus{Code: cmd.ProcessState.ExitCode()}
}

// bootWritable runs /args[0] in moat over a writable gofer root with
// roSrc bind-mounted read-only on /ro through the gofer.
func bootWritable(t *testing.T, root, roSrc string, args []string, uid uint32, strace io.Writer) (string, kernel.ExitStatus) {
	t.Helper()
	p, err := ptrace.New()
	if err != nil {
		t.Skipf("ptrace platform unavailable: %v", err)
	}
	defer p.Close()
	bind, err := gofer.OpenBindMount("/ro", roSrc, true)
	if err != nil {
		t.Fatal(err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	srv, cli := os.NewFile(uintptr(fds[0]), "gofer"), os.NewFile(uintptr(fds[1]), "sentry")
	served := make(chan error, 1)
	go func() {
		served <- gofer.ServeTree(gofer.Tree{Root: root, Mounts: []*gofer.BindMount{bind}}, srv, nil)
		srv.Close()
	}()
	client, err := gofer.NewClient(cli)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { client.Close(); <-served }()
	v, err := vfs.New(goferfs.New(client), vfs.MountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := &vfs.Creds{}
	at, err := v.LookupAt(c, v.Root(), v.Root(), "/ro", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Mount(at, goferfs.NewBind(client, "/ro"), vfs.MountOptions{ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
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
	k, err := kernel.New(kernel.Config{
		Platform: p, Root: client, VFS: v,
		Stdio: [3]int{int(stdin.Fd()), int(w.Fd()), int(w.Fd())},
		Args:  args, Env: []string{"PATH=/", "HOME=/"}, Cwd: "/",
		UID: uid, GID: uid,
		Table: syscalls.Table(), Strace: strace,
	})
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

// TestFsWriteDifferential runs fs_write.c as root and then as uid 1000
// natively (with a read-only bind mount on /ro) and in moat (a writable
// gofer root with a read-only gofer bind mount on /ro), each on a fresh
// tree, and compares the outputs.
func TestFsWriteDifferential(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the ptrace platform runs on amd64 only")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (bind mount, chroot, PID namespace, chown)")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed")
	}
	bin := filepath.Join(t.TempDir(), "fs_write")
	if out, err := exec.Command("gcc", "-static", "-O1", "-o", bin, filepath.Join("testdata", "fs_write.c")).CombinedOutput(); err != nil {
		t.Skipf("gcc -static failed: %v\n%s", err, out)
	}
	// The native tree and moat's live on the same host file system, so
	// statfs and xattr support agree.
	base := t.TempDir()
	nroot, nro := fsWriteTree(t, filepath.Join(base, "native"), bin)
	mroot, mro := fsWriteTree(t, filepath.Join(base, "moat"), bin)
	if err := unix.Mount(nro, filepath.Join(nroot, "ro"), "", unix.MS_BIND, ""); err != nil {
		t.Skipf("bind mount: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(filepath.Join(nroot, "ro"), unix.MNT_DETACH) })
	if err := unix.Mount("", filepath.Join(nroot, "ro"), "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Skipf("read-only remount: %v", err)
	}
	for _, run := range []struct {
		name string
		args []string
		uid  uint32
	}{
		{"root", []string{"fs_write"}, 0},
		{"user", []string{"fs_write", "user"}, 1000},
	} {
		want, wantSt := runNativeAs(t, nroot, run.args, run.uid)
		var trace strings.Builder
		got, gotSt := bootWritable(t, mroot, mro, run.args, run.uid, &trace)
		if testing.Verbose() {
			t.Logf("%s, linux:\n%s", run.name, want)
		}
		if got != want || gotSt != wantSt {
			t.Errorf("%s: moat and Linux differ\n--- linux (status %+v)\n--- moat (status %+v)\n%s",
				run.name, wantSt, gotSt, diffLines(want, got))
			if testing.Verbose() {
				t.Logf("strace:\n%s", trace.String())
			}
		}
	}
}
