package syscalls_test

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"moat/gofer"
	"moat/platform/ptrace"
	"moat/sentry/fs/proc"
	"moat/sentry/kernel"
	"moat/sentry/vfs"
	"moat/syscalls"

	"golang.org/x/sys/unix"
)

// openat2Tree makes under top the tree openat2.c describes: root/ (the
// program, /top, /d with its symlinks, /w, the mount points /ro and
// /proc), ro-src (mounted on /ro) and "outside", next to root, which no
// resolution may reach.
func openat2Tree(t *testing.T, top, bin string) (root, roSrc string) {
	t.Helper()
	root = filepath.Join(top, "root")
	roSrc = filepath.Join(top, "ro-src")
	for _, d := range []string{"d/sub", "w", "ro", "proc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(roSrc, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		filepath.Join(root, "openat2"): string(data),
		filepath.Join(root, "top"):     "top\n",
		filepath.Join(root, "d/f"):     "f\n",
		filepath.Join(root, "d/sub/g"): "g\n",
		filepath.Join(roSrc, "f"):      "ro f\n",
		filepath.Join(top, "outside"):  "host file\n",
	}
	for name, content := range files {
		if err := os.WriteFile(name, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"d/rel": "f", "d/up": "../d/f", "d/abs": "/d/f", "d/out": "../../..",
		"d/loop1": "loop2", "d/loop2": "loop1", "d/dangling": "nope",
		"d/tomnt": "../ro/f", "d/rootlink": "/", "w/dl": "/made",
	}
	for link, target := range links {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"back": "../d/f", "abs": "/top"} {
		if err := os.Symlink(target, filepath.Join(roSrc, link)); err != nil {
			t.Fatal(err)
		}
	}
	return root, roSrc
}

// bootOpenat2 runs /args[0] in moat over a writable gofer root with roSrc
// bind-mounted read-only on /ro and proc on /proc, both made by the
// kernel from its mount list as config.json's mounts are.
func bootOpenat2(t *testing.T, root, roSrc string, args []string, strace io.Writer) (string, kernel.ExitStatus) {
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
		Platform: p, Root: client,
		Mounts: []kernel.MountSpec{
			{Destination: "/ro", Type: "bind", Source: roSrc, Options: []string{"rbind", "ro"}},
			{Destination: "/proc", Type: "proc", Source: "proc"},
		},
		FSTypes: map[string]kernel.FSFactory{
			"proc": func(k *kernel.Kernel, _ kernel.MountSpec) (vfs.FilesystemImpl, error) { return proc.New(k), nil },
		},
		Stdio: [3]int{int(stdin.Fd()), int(w.Fd()), int(w.Fd())},
		Args:  args, Env: []string{"PATH=/", "HOME=/"}, Cwd: "/",
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

// TestOpenat2Differential runs openat2.c natively (chrooted, with a
// read-only bind mount on /ro and proc on /proc) and in moat, each on a
// fresh tree, and compares the outputs.
func TestOpenat2Differential(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the ptrace platform runs on amd64 only")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (bind mount, proc mount, chroot, PID namespace)")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed")
	}
	bin := filepath.Join(t.TempDir(), "openat2")
	if out, err := exec.Command("gcc", "-static", "-O1", "-o", bin, filepath.Join("testdata", "openat2.c")).CombinedOutput(); err != nil {
		t.Skipf("gcc -static failed: %v\n%s", err, out)
	}
	base := t.TempDir()
	nroot, nro := openat2Tree(t, filepath.Join(base, "native"), bin)
	mroot, mro := openat2Tree(t, filepath.Join(base, "moat"), bin)
	nroMnt := filepath.Join(nroot, "ro")
	if err := unix.Mount(nro, nroMnt, "", unix.MS_BIND, ""); err != nil {
		t.Skipf("bind mount: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(nroMnt, unix.MNT_DETACH) })
	if err := unix.Mount("", nroMnt, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Skipf("read-only remount: %v", err)
	}
	nproc := filepath.Join(nroot, "proc")
	if err := unix.Mount("proc", nproc, "proc", 0, ""); err != nil {
		t.Skipf("proc mount: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(nproc, unix.MNT_DETACH) })

	args := []string{"openat2"}
	want, wantSt := runNativeAs(t, nroot, args, 0)
	var trace strings.Builder
	got, gotSt := bootOpenat2(t, mroot, mro, args, &trace)
	if testing.Verbose() {
		t.Logf("linux:\n%s", want)
	}
	if !strings.Contains(want, "escaped 0\n") {
		t.Errorf("the native run did not finish cleanly:\n%s", want)
	}
	if got != want || gotSt != wantSt {
		t.Errorf("moat and Linux differ\n--- linux (status %+v)\n--- moat (status %+v)\n%s",
			wantSt, gotSt, diffLines(want, got))
		if testing.Verbose() {
			t.Logf("strace:\n%s", trace.String())
		}
	}
}
