package rootfs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"moat/test/harness"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// seedTree makes a small tree with every kind of entry Digest describes.
func seedTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "a", "f"), []byte("data\n"), 0o644))
	must(t, os.Symlink("a/f", filepath.Join(dir, "link")))
	must(t, os.Link(filepath.Join(dir, "a", "f"), filepath.Join(dir, "a", "b", "hard")))
	old := time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, p := range []string{"a/f", "a/b", "a"} {
		must(t, os.Chtimes(filepath.Join(dir, p), old, old))
	}
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDigestSeesChanges(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(dir string) error
		opts   DigestOpts
		differ bool
	}{
		{"nothing", func(string) error { return nil }, DigestOpts{Times: true, Identity: true}, false},
		{"read", func(d string) error { _, err := os.ReadFile(filepath.Join(d, "a/f")); return err }, DigestOpts{Times: true, Identity: true}, false},
		{"content", func(d string) error { return os.WriteFile(filepath.Join(d, "a/f"), []byte("other\n"), 0o644) }, DigestOpts{}, true},
		{"mode", func(d string) error { return os.Chmod(filepath.Join(d, "a/f"), 0o600) }, DigestOpts{}, true},
		{"new file", func(d string) error { return os.WriteFile(filepath.Join(d, "a/b/new"), nil, 0o644) }, DigestOpts{}, true},
		{"link target", func(d string) error {
			if err := os.Remove(filepath.Join(d, "link")); err != nil {
				return err
			}
			return os.Symlink("a/b", filepath.Join(d, "link"))
		}, DigestOpts{}, true},
		{"hard link gone", func(d string) error { return os.Remove(filepath.Join(d, "a/b/hard")) }, DigestOpts{}, true},
		{"mtime without Times", func(d string) error { return os.Chtimes(filepath.Join(d, "a/f"), time.Now(), time.Now()) }, DigestOpts{}, false},
		{"mtime with Times", func(d string) error { return os.Chtimes(filepath.Join(d, "a/f"), time.Now(), time.Now()) }, DigestOpts{Times: true}, true},
		{"chmod undone without Identity", func(d string) error {
			if err := os.Chmod(filepath.Join(d, "a/f"), 0o600); err != nil {
				return err
			}
			return os.Chmod(filepath.Join(d, "a/f"), 0o644)
		}, DigestOpts{Times: true}, false},
		{"chmod undone with Identity", func(d string) error {
			time.Sleep(10 * time.Millisecond) // let ctime move on coarse clocks
			if err := os.Chmod(filepath.Join(d, "a/f"), 0o600); err != nil {
				return err
			}
			return os.Chmod(filepath.Join(d, "a/f"), 0o644)
		}, DigestOpts{Identity: true}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := seedTree(t)
			before, err := Digest(dir, c.opts)
			must(t, err)
			must(t, c.change(dir))
			after, err := Digest(dir, c.opts)
			must(t, err)
			d := Diff(before, after, 10)
			if (d != "") != c.differ {
				t.Errorf("want differ=%v, diff:\n%s\nbefore:\n%s", c.differ, d, strings.Join(before, "\n"))
			}
		})
	}
}

func TestDigestLines(t *testing.T) {
	dir := seedTree(t)
	got, err := Digest(dir, DigestOpts{Times: true})
	must(t, err)
	const sum = "6667b2d1aab6a00caa5aee5af8ad9f1465e567abf1c209d15727d57b3e8f6e5f" // sha256("data\n")
	wantHas := []string{
		"a/f file 0644 0:0 nlink=2 size=5 sha256=" + sum + " mtime=1577934245.000000006",
		"a/b/hard file 0644 0:0 nlink=2 size=5 sha256=" + sum + " mtime=1577934245.000000006",
		`link symlink 0777 0:0 nlink=1 -> "a/f"`,
	}
	all := strings.Join(got, "\n")
	if os.Geteuid() != 0 {
		t.Skip("owners are 0:0 only when the test runs as root")
	}
	for _, w := range wantHas {
		if !strings.Contains(all, w) {
			t.Errorf("digest lacks %q:\n%s", w, all)
		}
	}
	if !strings.HasPrefix(got[0], ". dir 0") || strings.Contains(got[0], "mtime=") {
		t.Errorf("the top directory's line %q should come first and carry no mtime", got[0])
	}
}

func TestDiff(t *testing.T) {
	for _, c := range []struct {
		want, got []string
		diff      string
	}{
		{nil, nil, ""},
		{[]string{"a", "b"}, []string{"a", "b"}, ""},
		{[]string{"a", "b"}, []string{"a"}, "only in want (1):\n  b\n"},
		{[]string{"a"}, []string{"a", "c"}, "only in got (1):\n  c\n"},
		{[]string{"a", "b", "c"}, nil, "only in want (3):\n  a\n  b\n  … 1 more\n"},
	} {
		if d := Diff(c.want, c.got, 2); d != c.diff {
			t.Errorf("Diff(%q, %q) = %q, want %q", c.want, c.got, d, c.diff)
		}
	}
}

func chrootPath(t *testing.T) string {
	p, err := exec.LookPath("chroot")
	must(t, err)
	return p
}

func TestChrootScript(t *testing.T) {
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "usr", "lib"), 0o755))
	must(t, os.Symlink("usr/lib", filepath.Join(root, "lib")))
	src := t.TempDir()
	base := func(m ...specs.Mount) *specs.Spec {
		return &specs.Spec{
			Root:     &specs.Root{Path: root, Readonly: true},
			Process:  &specs.Process{Args: []string{"/bin/echo", "it's"}, Env: []string{"A=b c"}, Cwd: "/"},
			Hostname: "box",
			Mounts:   m,
		}
	}
	for _, c := range []struct {
		name    string
		spec    *specs.Spec
		has     []string
		errText string
	}{
		{"plain", base(), []string{
			"mount --bind '" + root + "' '" + root + "'",
			"mount -o remount,bind,ro '" + root + "'",
			"printf %s 'box' > /proc/sys/kernel/hostname",
			"umask 0022",
			`exec env -i 'A=b c' '` + chrootPath(t) + `' '` + root + `' "$@"`,
		}, ""},
		{"mounts", base(
			specs.Mount{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec"}},
			specs.Mount{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=755"}},
			specs.Mount{Destination: "/mnt/w", Type: "bind", Source: src, Options: []string{"rbind", "ro"}},
		), []string{
			"mount -t proc -o 'nosuid,noexec' 'proc' '" + root + "/proc'",
			"mount -t tmpfs -o 'nosuid,mode=755' 'tmpfs' '" + root + "/dev'",
			"mknod -m 0666 '" + root + "/dev/null' c 1 3",
			"ln -s '/proc/self/fd' '" + root + "/dev/fd'",
			"mount --rbind '" + src + "' '" + root + "/mnt/w'",
			"mount -o 'remount,bind,ro' '" + root + "/mnt/w'",
		}, ""},
		{"through a symlink", base(specs.Mount{Destination: "/lib/x", Type: "tmpfs"}), nil, "passes through the symlink"},
		{"unknown type", base(specs.Mount{Destination: "/x", Type: "nfs"}), nil, `mount type "nfs"`},
		{"relative bind", base(specs.Mount{Destination: "/x", Type: "bind", Source: "rel", Options: []string{"bind"}}), nil, "not an absolute path"},
		{"non-root user", func() *specs.Spec { s := base(); s.Process.User.UID = 1000; return s }(), nil, "root only"},
	} {
		t.Run(c.name, func(t *testing.T) {
			script, args, err := chrootScript(c.spec)
			if c.errText != "" {
				if err == nil || !strings.Contains(err.Error(), c.errText) {
					t.Fatalf("want an error naming %q, got %v", c.errText, err)
				}
				return
			}
			must(t, err)
			for _, h := range c.has {
				if !strings.Contains(script, h+"\n") {
					t.Errorf("script lacks the line %q:\n%s", h, script)
				}
			}
			if strings.Join(args, "|") != "/bin/echo|it's" {
				t.Errorf("args = %q", args)
			}
		})
	}
}

// TestChroot runs the oracle for real in a one-binary busybox rootfs: the
// command is PID 1, sees the hostname, the mounts and a read-only root.
func TestChroot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: Chroot needs root (namespaces, mounts)")
	}
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("skipping: no busybox (apt-get install busybox-static)")
	}
	if out, err := exec.Command("ldd", bb).CombinedOutput(); err == nil && !strings.Contains(string(out), "not a dynamic") {
		t.Skipf("skipping: %s is not static", bb)
	}
	root := t.TempDir()
	for _, d := range []string{"bin", "proc", "tmp", "mnt", "dev"} {
		must(t, os.Mkdir(filepath.Join(root, d), 0o755))
	}
	data, err := os.ReadFile(bb)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(root, "bin", "busybox"), data, 0o755))
	work := t.TempDir()
	s := &specs.Spec{
		Root:     &specs.Root{Path: root, Readonly: true},
		Hostname: "oracle-box",
		Process: &specs.Process{
			Args: []string{"/bin/busybox", "sh", "-c", `echo pid=$$ host=$(busybox hostname) env=$(busybox tr '\0' , </proc/1/environ)
busybox touch /rootfile 2>/dev/null && echo root-writable || echo root-readonly
echo w > /mnt/made && echo t > /tmp/t && busybox cat /tmp/t
busybox ls /proc/self/ >/dev/null && echo proc-ok
busybox ls /dev/`},
			Env: []string{"PATH=/bin", "X=1"},
			Cwd: "/",
		},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"mode=755"}},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"},
			{Destination: "/mnt", Type: "bind", Source: work, Options: []string{"rbind", "rw"}},
		},
	}
	r := Chroot(s, harness.Opts{})
	want := "pid=1 host=oracle-box env=PATH=/bin,X=1,\nroot-readonly\nt\nproc-ok\n" +
		"fd\nfull\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty\nurandom\nzero\n"
	if r.Exit != 0 || r.Stdout != want {
		t.Fatalf("want exit 0 and stdout\n%s\ngot %v", want, r)
	}
	if got, err := os.ReadFile(filepath.Join(work, "made")); err != nil || string(got) != "w\n" {
		t.Errorf("the bind-mounted directory did not receive the write: %q, %v", got, err)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, "dev")); len(ents) != 0 {
		t.Errorf("the tmpfs at /dev leaked into the host's view: %d entries", len(ents))
	}
}
