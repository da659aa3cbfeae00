package syscalls_test

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"moat/gofer"
	"moat/platform/ptrace"
	"moat/sentry/kernel"
	"moat/syscalls"

	"golang.org/x/sys/unix"
)

// identityRoot compiles pipes.c, creds.c and fifo.c into a root with
// /secret (root, 0600), /public (root, 0644) and an empty /tmp, and
// returns it with a read-only bind mount of it for the native runs (moat
// serves the root read-only).
func identityRoot(t *testing.T) (root, readOnly string) {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skip("the ptrace platform runs on amd64 only")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (chroot, bind mounts and uid changes in the native run)")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed")
	}
	top := t.TempDir()
	root = filepath.Join(top, "root")
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"pipes", "creds", "fifo"} {
		out, err := exec.Command("gcc", "-static", "-O1", "-o", filepath.Join(root, name),
			filepath.Join("testdata", name+".c")).CombinedOutput()
		if err != nil {
			t.Skipf("gcc -static %s failed (static libc missing?): %v\n%s", name, err, out)
		}
	}
	for name, mode := range map[string]os.FileMode{"secret": 0o600, "public": 0o644} {
		p := filepath.Join(root, name)
		if err := os.WriteFile(p, []byte(name+"\n"), mode); err != nil {
			t.Fatal(err)
		}
		// WriteFile's mode passes through the umask; be exact.
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	readOnly = filepath.Join(top, "ro")
	if err := os.Mkdir(readOnly, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(root, readOnly, "", unix.MS_BIND, ""); err != nil {
		t.Skipf("cannot bind-mount the native root: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(readOnly, unix.MNT_DETACH) })
	if err := unix.Mount("", readOnly, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot make the native root read-only: %v", err)
	}
	return root, readOnly
}

// TestPipesAndCredsDifferential runs pipes.c and creds.c natively and in
// moat and compares their outputs.
func TestPipesAndCredsDifferential(t *testing.T) {
	root, ro := identityRoot(t)
	for _, name := range []string{"pipes", "creds"} {
		t.Run(name, func(t *testing.T) {
			// The native run inherits the process's umask, which the
			// in-process gofer changes; moat's init starts with 022.
			old := unix.Umask(0o022)
			want, wantSt := runNative(t, ro, []string{name})
			unix.Umask(old)
			var trace strings.Builder
			got, gotSt := boot(t, root, []string{name}, &trace)
			if got != want || gotSt != wantSt {
				t.Errorf("moat and Linux differ\n--- linux (status %+v)\n%s--- moat (status %+v)\n%s%s",
					wantSt, want, gotSt, got, diffLines(want, got))
				if testing.Verbose() {
					t.Logf("strace:\n%s", trace.String())
				}
			}
		})
	}
}

// bootAs is boot with the init's identity set as process.user would:
// uid, gid, additional gids and umask.
func bootAs(t *testing.T, root string, args []string, uid, gid uint32, groups []uint32, umask uint32) (string, kernel.ExitStatus) {
	t.Helper()
	return bootConfig(t, root, args, func(c *kernel.Config) {
		c.UID, c.GID, c.AdditionalGIDs, c.Umask = uid, gid, groups, &umask
	})
}

// bootConfig is boot with a Config that change adjusts.
func bootConfig(t *testing.T, root string, args []string, change func(*kernel.Config)) (string, kernel.ExitStatus) {
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
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cfg := kernel.Config{
		Platform: p, Root: client,
		Stdio: [3]int{int(w.Fd()), int(w.Fd()), int(w.Fd())},
		Args:  args, Env: []string{"PATH=/"}, Cwd: "/",
		Table: syscalls.Table(),
	}
	change(&cfg)
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

// TestFIFODifferential runs fifo.c with a tmpfs on /tmp, natively and
// in moat, and compares the outputs.
func TestFIFODifferential(t *testing.T) {
	root, ro := identityRoot(t)
	if err := unix.Mount("tmpfs", filepath.Join(ro, "tmp"), "tmpfs", 0, "mode=1777"); err != nil {
		t.Skipf("cannot mount a tmpfs for the native run: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(filepath.Join(ro, "tmp"), unix.MNT_DETACH) })
	old := unix.Umask(0o022)
	want, wantSt := runNative(t, ro, []string{"fifo"})
	unix.Umask(old)
	got, gotSt := bootConfig(t, root, []string{"fifo"}, func(c *kernel.Config) {
		c.Mounts = []kernel.MountSpec{{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"mode=1777"}}}
	})
	if got != want || gotSt != wantSt {
		t.Errorf("moat and Linux differ\n--- linux (status %+v)\n%s--- moat (status %+v)\n%s%s",
			wantSt, want, gotSt, got, diffLines(want, got))
	}
}

// TestProcessUser checks that process.user reaches the init: its ids,
// groups and umask, and the permission checks that follow from them.
func TestProcessUser(t *testing.T) {
	root, _ := identityRoot(t)
	out, st := bootAs(t, root, []string{"creds"}, 1000, 1000, []uint32{5, 7}, 0o077)
	for _, want := range []string{
		"start: uid 1000 1000 1000 gid 1000 1000 1000 fsuid 1000 fsgid 1000\n",
		"root: setuid eff=0 perm=0 dac eff=0 perm=0\n",
		"setgroups = -1 EPERM\n",
		"getgroups=2: 5 7\n",
		"root secret = -1 EACCES\n",
		"  public read: ok\n",
		"sethostname too long = -1 EPERM\n",
		"umask = 63\n", // 077
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q (status %+v):\n%s", want, st, out)
		}
	}
}
