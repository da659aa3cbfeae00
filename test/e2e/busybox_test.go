package e2e

import (
	"debug/elf"
	"os"
	"path/filepath"
	"testing"

	"moat/test/harness"
)

// busybox returns the path of a static busybox (an ELF without an
// interpreter, since the sandbox has no ld.so); CI installs busybox-static
// (.ci/run), elsewhere its absence skips the test.
func busybox(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		static := true
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				static = false
			}
		}
		f.Close()
		if static {
			return p
		}
	}
	msg := "no static busybox at /bin/busybox (apt-get install busybox-static)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func TestBusybox(t *testing.T) {
	e := needEnv(t)
	bb := busybox(t)
	b := bundle{Dir: t.TempDir()}
	b.Rootfs = filepath.Join(b.Dir, "rootfs")
	mustMkdir(t, filepath.Join(b.Rootfs, "bin"))
	mustMkdir(t, filepath.Join(b.Rootfs, "etc"))
	copyFile(t, bb, filepath.Join(b.Rootfs, "bin", "busybox"), 0o755)
	for _, applet := range []string{"echo", "ls", "cat", "sh", "true"} {
		if err := os.Symlink("busybox", filepath.Join(b.Rootfs, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(b.Rootfs, "etc", "file"), "line one\nline two\n", 0o644)

	for _, c := range []struct {
		name   string
		args   []string
		stdout string
		exit   int
	}{
		{"echo", []string{"/bin/echo", "hi"}, "hi\n", 0},
		{"echo-via-busybox", []string{"/bin/busybox", "echo", "-n", "a", "b"}, "a b", 0},
		{"ls", []string{"/bin/ls", "/"}, "bin\netc\n", 0},
		{"ls-bin", []string{"/bin/ls", "/bin"}, "busybox\ncat\necho\nls\nsh\ntrue\n", 0},
		{"cat", []string{"/bin/cat", "/etc/file"}, "line one\nline two\n", 0},
		{"cat-missing", []string{"/bin/cat", "/etc/nope"}, "", 1},
		{"path-lookup", []string{"echo", "found", "in", "PATH"}, "found in PATH\n", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			bc := cloneBundle(t, b)
			bc.writeConfig(t, c.args)
			root := newRoot(t)
			r := e.run(root, "run", "--bundle", bc.Dir, "bb-"+c.name)
			if r.Exit != c.exit || r.Stdout != c.stdout {
				t.Errorf("want exit %d, stdout %q; got %v", c.exit, c.stdout, r)
			}
			if ents := listTree(t, root); len(ents) != 0 {
				t.Errorf("--root still holds %v", ents)
			}
		})
	}

	t.Run("do", func(t *testing.T) {
		r := e.runOpts(harness.Opts{Env: testEnv}, newRoot(t), "do", "--", bb, "echo", "hi", "from", "do")
		if r.Exit != 0 || r.Stdout != "hi from do\n" {
			t.Errorf("moat do busybox echo: %v", r)
		}
		r = e.runOpts(harness.Opts{Env: testEnv}, newRoot(t), "do", bb, "cat", filepath.Join(b.Rootfs, "etc", "file"))
		if r.Exit != 0 || r.Stdout != "line one\nline two\n" {
			t.Errorf("moat do busybox cat (no --): %v", r)
		}
	})
}
