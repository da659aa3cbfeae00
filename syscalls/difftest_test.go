package syscalls_test

// The differential-test harness: compile testdata programs into a tree,
// run a program natively (chrooted, in a new PID namespace and session,
// so it is PID 1 leading session 1 as in moat) and in moat, and compare
// the outputs and exit statuses. A test states only its tree, its mounts
// and the identity it runs as; the kernel options (func(*kernel.Config))
// configure both runs.

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	"moat/gofer"
	"moat/platform/ptrace"
	"moat/sentry/fs/proc"
	"moat/sentry/kernel"
	"moat/sentry/vfs"
	"moat/syscalls"

	"golang.org/x/sys/unix"
)

// needDiffHost skips t unless differential runs are possible here: the
// ptrace platform runs on amd64 only, and the native run needs root
// (chroot, a PID namespace, mounts, a change of user).
func needDiffHost(t *testing.T) {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skip("the ptrace platform runs on amd64 only")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (chroot, a PID namespace, mounts and uid changes for the native run)")
	}
}

// skipOrFail skips t for a missing prerequisite, or fails it when
// CI=true (`make test` and .ci/run set it): there a missing prerequisite
// must show, not hide the comparison behind a skip.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("prerequisite missing, and CI=true makes that a failure: "+format, args...)
	}
	t.Skipf(format, args...)
}

// gccBuild compiles testdata/NAME.c with flags into dir and returns the
// executable's path. A missing gcc or a program that does not compile
// fails the test: CI installs gcc and static glibc (scripts/deps.sh), and
// a skip there would hide the whole comparison.
func gccBuild(t *testing.T, dir, name string, flags ...string) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatal("gcc not installed (scripts/deps.sh installs it)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	args := append([]string{"-O1", "-o", out, filepath.Join("testdata", name+".c")}, flags...)
	if b, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s %v failed: %v\n%s", name, flags, err, b)
	}
	return out
}

// bootProgram compiles testdata/NAME.c statically into a fresh root
// directory and returns the directory.
func bootProgram(t *testing.T, name string) string {
	t.Helper()
	root := t.TempDir()
	gccBuild(t, root, name, "-static")
	return root
}

// file is one regular file of a tree; a zero mode means 0644.
type file struct {
	data string
	mode os.FileMode
}

// tree is what a test root holds. Paths are relative to the root and may
// climb out of it ("../outside") to place files next to it, which no
// resolution in the sandbox may reach, or a bind mount's source.
type tree struct {
	// progs are compiled statically from testdata into the root, with
	// cflags.
	progs  []string
	cflags []string
	dirs   []string
	files  map[string]file
	links  map[string]string // link → target
}

// make builds tr in a fresh directory and returns the root (DIR/root).
func (tr tree) make(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "root")
	for _, d := range append([]string{"."}, tr.dirs...) {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range tr.progs {
		gccBuild(t, root, p, append([]string{"-static"}, tr.cflags...)...)
	}
	for name, f := range tr.files {
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		p := filepath.Join(root, name)
		if err := os.WriteFile(p, []byte(f.data), mode); err != nil {
			t.Fatal(err)
		}
		// WriteFile's mode passes through the umask; be exact.
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range tr.links {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// copyFile copies src to dst with exactly mode.
func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
}

// readOnlyView bind-mounts root read-only on a directory beside it and
// returns that directory: the native run then sees the read-only root
// moat's default (read-only) gofer serves.
func readOnlyView(t *testing.T, root string) string {
	t.Helper()
	ro := filepath.Join(filepath.Dir(root), "ro")
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	mountNative(t, ro, kernel.MountSpec{Destination: "/", Type: "bind", Source: root, Options: []string{"ro"}})
	return ro
}

// bindRO is a read-only bind mount of src on dest, as config.json says it.
func bindRO(dest, src string) kernel.MountSpec {
	return kernel.MountSpec{Destination: dest, Type: "bind", Source: src, Options: []string{"rbind", "ro"}}
}

// procMount is proc on /proc.
var procMount = kernel.MountSpec{Destination: "/proc", Type: "proc", Source: "proc"}

// tmpfsMount is a tmpfs on dest with options.
func tmpfsMount(dest string, options ...string) kernel.MountSpec {
	return kernel.MountSpec{Destination: dest, Type: "tmpfs", Source: "tmpfs", Options: options}
}

// isBind says whether m is a bind mount, as the kernel reads it.
func isBind(m kernel.MountSpec) bool {
	return m.Type == "bind" || slices.Contains(m.Options, "bind") || slices.Contains(m.Options, "rbind")
}

// mountNative makes mounts under the native root as moat's kernel makes
// them in the sandbox: binds (read-only with "ro"), proc and tmpfs (the
// options that are no flags pass as data). Each is unmounted when the
// test ends; a failure skips the test.
func mountNative(t *testing.T, root string, mounts ...kernel.MountSpec) {
	t.Helper()
	for _, m := range mounts {
		target := filepath.Join(root, m.Destination)
		flags := uintptr(0)
		var data []string
		for _, o := range m.Options {
			switch o {
			case "ro":
				flags |= unix.MS_RDONLY
			case "nosuid":
				flags |= unix.MS_NOSUID
			case "nodev":
				flags |= unix.MS_NODEV
			case "noexec":
				flags |= unix.MS_NOEXEC
			case "bind", "rbind":
			default:
				data = append(data, o)
			}
		}
		if isBind(m) {
			if err := unix.Mount(m.Source, target, "", unix.MS_BIND, ""); err != nil {
				skipOrFail(t, "bind mount %s on %s: %v", m.Source, target, err)
			}
			t.Cleanup(func() { _ = unix.Unmount(target, unix.MNT_DETACH) })
			// A bind mount takes its flags only from a remount.
			if flags == 0 {
				continue
			}
			if err := unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|flags, ""); err != nil {
				skipOrFail(t, "remount %s with its flags: %v", target, err)
			}
			continue
		}
		if err := unix.Mount(m.Source, target, m.Type, flags, strings.Join(data, ",")); err != nil {
			skipOrFail(t, "%s mount on %s: %v", m.Type, target, err)
		}
		t.Cleanup(func() { _ = unix.Unmount(target, unix.MNT_DETACH) })
	}
}

// writableRoot serves the root read-write (config.json's root.readonly
// false); the default is read-only.
func writableRoot(c *kernel.Config) { c.RootReadonly = false }

// asUser sets the init's identity as process.user would.
func asUser(uid, gid uint32, groups ...uint32) func(*kernel.Config) {
	return func(c *kernel.Config) { c.UID, c.GID, c.AdditionalGIDs = uid, gid, groups }
}

// withMounts appends config.json's mounts.
func withMounts(ms ...kernel.MountSpec) func(*kernel.Config) {
	return func(c *kernel.Config) { c.Mounts = append(c.Mounts, ms...) }
}

// runNative runs /args[0] natively, chrooted in root, in new PID and
// IPC namespaces (a sandbox is its own) and session, with the sandbox's
// environment and the identity and umask opts give moat's init.
func runNative(t *testing.T, root string, args []string, opts ...func(*kernel.Config)) (string, kernel.ExitStatus) {
	t.Helper()
	var cfg kernel.Config
	for _, o := range opts {
		o(&cfg)
	}
	cmd := exec.Command("/" + args[0])
	cmd.Args = args
	cmd.Env = []string{"PATH=/", "HOME=/"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC, Setsid: true}
	if cfg.UID != 0 || cfg.GID != 0 || len(cfg.AdditionalGIDs) > 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: cfg.UID, Gid: cfg.GID, Groups: cfg.AdditionalGIDs}
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	// The child inherits the process's umask, which the in-process gofer
	// changes; moat's init starts with the config's (022 by default).
	umask := uint32(0o022)
	if cfg.Umask != nil {
		umask = *cfg.Umask
	}
	old := unix.Umask(int(umask))
	err := cmd.Run()
	unix.Umask(old)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		skipOrFail(t, "cannot run %s natively in a chroot and PID namespace: %v", args[0], err)
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return out.String(), kernel.ExitStatus{Signal: ws.Signal()}
	}
	return out.String(), kernel.ExitStatus{Code: ws.ExitStatus()}
}

// serveGofer serves t on a socket pair from a goroutine, as the gofer
// process does, and returns the sentry's client and a function that
// closes it and waits for the server.
func serveGofer(t *testing.T, tr gofer.Tree) (*gofer.Client, func()) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	srv, cli := os.NewFile(uintptr(fds[0]), "gofer"), os.NewFile(uintptr(fds[1]), "sentry")
	served := make(chan error, 1)
	go func() { served <- gofer.ServeTree(tr, srv, nil); srv.Close() }()
	client, err := gofer.NewClient(cli)
	if err != nil {
		t.Fatal(err)
	}
	return client, func() { client.Close(); <-served }
}

// boot runs /NAME with args in a sandbox over root and returns its
// standard output and exit status. By default the root is read-only,
// stdin is /dev/null and proc can be mounted; opts adjust the kernel's
// config (identity, writable root, mounts ...) before it starts, and the
// gofer serves the bind mounts they list.
func boot(t *testing.T, root string, args []string, strace io.Writer, opts ...func(*kernel.Config)) (string, kernel.ExitStatus) {
	t.Helper()
	p, err := ptrace.New()
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.ENOSYS) {
			skipOrFail(t, "ptrace platform unavailable: %v", err)
		}
		t.Fatal(err)
	}
	defer p.Close()
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
		Stdio:    [3]int{int(stdin.Fd()), int(w.Fd()), int(w.Fd())},
		Args:     args,
		Env:      []string{"PATH=/", "HOME=/"},
		Cwd:      "/",
		// A read-only gofer must be mounted read-only, or the VFS
		// answers access(W_OK) with 0 where the kernel says EROFS.
		RootReadonly: true,
		FSTypes: map[string]kernel.FSFactory{
			"proc": func(k *kernel.Kernel, _ kernel.MountSpec) (vfs.FilesystemImpl, error) { return proc.New(k), nil },
		},
		Table:  syscalls.Table(),
		Strace: strace,
	}
	for _, o := range opts {
		o(&cfg)
	}
	gt := gofer.Tree{Root: root, ReadOnly: cfg.RootReadonly}
	for _, m := range cfg.Mounts {
		if !isBind(m) {
			continue
		}
		b, err := gofer.OpenBindMount(m.Destination, m.Source, slices.Contains(m.Options, "ro"))
		if err != nil {
			w.Close()
			t.Fatal(err)
		}
		gt.Mounts = append(gt.Mounts, b)
	}
	client, stop := serveGofer(t, gt)
	defer stop()
	cfg.Root = client
	k, err := kernel.New(cfg)
	if err != nil {
		w.Close()
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

// diffRun runs args natively on nativeRoot and in moat on moatRoot, both
// as opts configure, and fails t where the outputs or exit statuses
// differ. It returns the native output for the test's own checks.
func diffRun(t *testing.T, nativeRoot, moatRoot string, args []string, opts ...func(*kernel.Config)) string {
	t.Helper()
	want, wantSt := runNative(t, nativeRoot, args, opts...)
	var trace strings.Builder
	got, gotSt := boot(t, moatRoot, args, &trace, opts...)
	if got == want && gotSt == wantSt {
		return want
	}
	t.Errorf("moat and Linux differ\n--- linux (status %+v)\n%s--- moat (status %+v)\n%s%s",
		wantSt, want, gotSt, got, diffLines(want, got))
	if testing.Verbose() {
		t.Logf("strace:\n%s", trace.String())
	}
	return want
}

// diffLines lists the first lines that differ.
func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var sb strings.Builder
	sb.WriteString("--- first differences (linux | moat)\n")
	n := 0
	for i := 0; i < max(len(al), len(bl)) && n < 10; i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			sb.WriteString(x + " | " + y + "\n")
			n++
		}
	}
	return sb.String()
}

// runNativeAs is runNative as uid:uid.
//
// Deprecated: use runNative with asUser, or diffRun; kept while
// sys_splice_diff_test.go (written against the old harness) calls it.
func runNativeAs(t *testing.T, root string, args []string, uid uint32) (string, kernel.ExitStatus) {
	t.Helper()
	return runNative(t, root, args, asUser(uid, uid))
}

// bootWritable is boot as uid:uid on a writable root with roSrc
// bind-mounted read-only on /ro.
//
// Deprecated: use boot with writableRoot, withMounts and asUser, or
// diffRun; kept while sys_splice_diff_test.go calls it.
func bootWritable(t *testing.T, root, roSrc string, args []string, uid uint32, strace io.Writer) (string, kernel.ExitStatus) {
	t.Helper()
	return boot(t, root, args, strace, writableRoot, withMounts(bindRO("/ro", roSrc)), asUser(uid, uid))
}
