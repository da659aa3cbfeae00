package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"moat/test/rootfs"
)

// busyboxBundle is a bundle whose rootfs holds a static busybox with
// the applets the mount tests use, and two files in /etc.
func busyboxBundle(t *testing.T) bundle {
	t.Helper()
	bb := busybox(t)
	b := bundle{Dir: t.TempDir()}
	b.Rootfs = filepath.Join(b.Dir, "rootfs")
	for _, d := range []string{"bin", "etc/sub", "usr/share/doc/pkg"} {
		mustMkdir(t, filepath.Join(b.Rootfs, d))
	}
	copyFile(t, bb, filepath.Join(b.Rootfs, "bin", "busybox"), 0o755)
	for _, applet := range []string{"sh", "ls", "cat", "echo", "mkdir", "rm", "mv", "ln", "chmod", "stat", "touch", "sort", "find", "true", "mkfifo", "truncate"} {
		if err := os.Symlink("busybox", filepath.Join(b.Rootfs, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(b.Rootfs, "etc", "greeting"), "hello\n", 0o644)
	writeFile(t, filepath.Join(b.Rootfs, "etc", "secret"), "s\n", 0o600)
	writeFile(t, filepath.Join(b.Rootfs, "usr/share/doc/pkg/README"), "readme\n", 0o644)
	return b
}

// overlayWrites changes the root every way the overlay supports and
// prints what the container sees afterwards.
const overlayWrites = `set -e
echo changed > /etc/greeting
echo new > /etc/new
mv /etc/new /etc/renamed
rm /etc/secret
mkdir -p /a/b
ln -s /etc/renamed /a/link
ln /etc/greeting /a/hard
chmod 600 /etc/greeting
mv /usr/share/doc/pkg /pkg
rm -r /usr/share/doc
mkfifo /a/fifo
truncate -s 5000 /a/sparse
find / -path /proc -prune -o -path /dev -prune -o -print | sort
cat /etc/greeting /a/link /pkg/README
stat -c '%n %a %h %s' /etc/greeting /a/hard /a/sparse
echo done`

const overlayWant = `/
/a
/a/b
/a/fifo
/a/hard
/a/link
/a/sparse
/bin
/bin/busybox
/bin/cat
/bin/chmod
/bin/echo
/bin/find
/bin/ln
/bin/ls
/bin/mkdir
/bin/mkfifo
/bin/mv
/bin/rm
/bin/sh
/bin/sort
/bin/stat
/bin/touch
/bin/true
/bin/truncate
/etc
/etc/greeting
/etc/renamed
/etc/sub
/pkg
/pkg/README
/usr
/usr/share
changed
new
readme
/etc/greeting 600 2 8
/a/hard 600 2 8
/a/sparse 644 1 5000
done
`

// TestOverlayMemory runs writes in a root kept in memory
// (dev.moat.overlay=memory): the container sees its changes, the host's
// rootfs does not change at all.
func TestOverlayMemory(t *testing.T) {
	e := needEnv(t)
	b := busyboxBundle(t)
	strict := rootfs.DigestOpts{Times: true, Identity: true}
	before, err := rootfs.Digest(b.Rootfs, strict)
	if err != nil {
		t.Fatal(err)
	}
	b.writeConfig(t, []string{"sh", "-c", overlayWrites}, func(s *specs.Spec) {
		s.Root.Readonly = false
		s.Annotations = map[string]string{"dev.moat.overlay": "memory"}
	})
	r := e.run(newRoot(t), "run", "--bundle", b.Dir, "overlay-mem")
	if r.Exit != 0 || r.Stdout != overlayWant {
		t.Errorf("want exit 0 and\n%s\ngot %v", overlayWant, r)
	}
	after, err := rootfs.Digest(b.Rootfs, strict)
	if err != nil {
		t.Fatal(err)
	}
	if d := rootfs.Diff(before, after, 20); d != "" {
		t.Errorf("the host rootfs changed under the in-memory overlay:\n%s", d)
	}
}

// TestTmpfsAndReadOnlyBind mounts a size-limited tmpfs at /tmp, a
// read-only bind at /data and a tmpfs /dev over a read-only root.
func TestTmpfsAndReadOnlyBind(t *testing.T) {
	e := needEnv(t)
	b := busyboxBundle(t)
	data := t.TempDir()
	writeFile(t, filepath.Join(data, "bound.txt"), "bound\n", 0o644)
	script := `echo x > /tmp/t && stat -c '%a %s' /tmp /tmp/t
stat -f -c %T /tmp
cat /data/bound.txt
echo no > /data/new 2>/dev/null || echo data-ro
echo no > /etc/new 2>/dev/null || echo root-ro
ls /dev | sort | tr '\n' ' '; echo
echo 0123456789 2>/dev/null > /tmp/a || echo full
true`
	b.writeConfig(t, []string{"sh", "-c", script}, func(s *specs.Spec) {
		s.Mounts = []specs.Mount{
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777", "size=4k"}},
			{Destination: "/data", Type: "bind", Source: data, Options: []string{"rbind", "ro"}},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=755"}},
		}
	})
	// tr is not in the applet list: add it.
	if err := os.Symlink("busybox", filepath.Join(b.Rootfs, "bin", "tr")); err != nil {
		t.Fatal(err)
	}
	// The read-only root has no /tmp, /data or /dev: runc would fail
	// to make them, so make them here.
	for _, d := range []string{"tmp", "data", "dev"} {
		mustMkdir(t, filepath.Join(b.Rootfs, d))
	}
	r := e.run(newRoot(t), "run", "--bundle", b.Dir, "tmpfs-bind")
	want := []string{
		"1777 60", "644 2", // tmpfs sizes: a directory counts 20 per entry
		"tmpfs", "bound", "data-ro", "root-ro",
		"fd full null ptmx pts random shm stderr stdin stdout tty urandom zero ",
		"full", // size=4k is one page, /tmp/t holds it: ENOSPC
	}
	got := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
	if r.Exit != 0 || len(got) != len(want) {
		t.Fatalf("want %q, got %v", want, r)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: want %q, got %q", i, want[i], got[i])
		}
	}
	if _, err := os.Stat(filepath.Join(data, "new")); err == nil {
		t.Error("a write reached the read-only bind's source")
	}
}

// TestFileBindsAndKernelMounts bind-mounts single files as Docker does
// (/etc/hosts missing in the image, /etc/greeting present), with /proc,
// /sys, /dev/pts and a tmpfs /dev, over a root kept in memory.
func TestFileBindsAndKernelMounts(t *testing.T) {
	e := needEnv(t)
	b := busyboxBundle(t)
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "hosts"), "127.0.0.1 localhost\n", 0o644)
	writeFile(t, filepath.Join(src, "greeting"), "bound greeting\n", 0o644)
	script := `cat /etc/hosts /etc/greeting
echo more >> /etc/greeting && cat /etc/greeting
echo no 2>/dev/null > /etc/hosts || echo hosts-ro
rm /etc/greeting 2>/dev/null || echo busy
echo renamed > /proc/$$/comm && cat /proc/$$/comm
cat /sys/devices/system/cpu/online >/dev/null && echo sys
ls /dev/pts | wc -l
head -c 4 /dev/zero | wc -c
while read id parent dev root point rest; do [ "$point" = /etc/greeting ] && echo "$root"; done < /proc/self/mountinfo`
	b.writeConfig(t, []string{"sh", "-c", script}, func(s *specs.Spec) {
		s.Root.Readonly = false
		s.Annotations = map[string]string{"dev.moat.overlay": "memory"}
		s.Mounts = []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=755"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/etc/hosts", Type: "bind", Source: filepath.Join(src, "hosts"), Options: []string{"rbind", "ro"}},
			{Destination: "/etc/greeting", Type: "bind", Source: filepath.Join(src, "greeting"), Options: []string{"rbind", "rw"}},
		}
	})
	for _, applet := range []string{"head", "wc"} {
		if err := os.Symlink("busybox", filepath.Join(b.Rootfs, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
	r := e.run(newRoot(t), "run", "--bundle", b.Dir, "file-binds")
	// devpts holds ptmx, as on Linux.
	// mountinfo's root of a bind is its source path, as Linux shows a
	// bind of a directory on the host's root file system.
	want := "127.0.0.1 localhost\nbound greeting\nbound greeting\nmore\nhosts-ro\nbusy\nrenamed\nsys\n1\n4\n" + filepath.Join(src, "greeting") + "\n"
	if r.Exit != 0 || r.Stdout != want {
		t.Errorf("want exit 0 and\n%s\ngot %v", want, r)
	}
	if got, _ := os.ReadFile(filepath.Join(src, "greeting")); string(got) != "bound greeting\nmore\n" {
		t.Errorf("the writable file bind's source holds %q", got)
	}
	if _, err := os.Stat(filepath.Join(b.Rootfs, "etc", "hosts")); err == nil {
		t.Error("the mount point /etc/hosts reached the host rootfs through the overlay")
	}
}

// TestReadOnlyRootMountPoints runs a read-only root whose image lacks the
// mount points its config names, as `moat spec` plus a bare busybox tree
// gives: moat makes them in the rootfs first, as runc does, and never
// outside it: a symlink in the image that points out resolves inside the
// rootfs, where its target is missing, so that mount fails instead.
func TestReadOnlyRootMountPoints(t *testing.T) {
	e := needEnv(t)
	b := busyboxBundle(t)
	outside := t.TempDir()
	hostsSrc := filepath.Join(t.TempDir(), "hosts")
	writeFile(t, hostsSrc, "127.0.0.1 box\n", 0o644)
	if err := os.Symlink(outside, filepath.Join(b.Rootfs, "escape")); err != nil {
		t.Fatal(err)
	}
	mounts := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/deep/er/dir", Type: "tmpfs", Source: "tmpfs"},
		{Destination: "/etc/hosts", Type: "bind", Source: hostsSrc, Options: []string{"rbind", "ro"}},
	}
	escaping := append(mounts, specs.Mount{Destination: "/escape/mnt", Type: "tmpfs", Source: "tmpfs"})
	b.writeConfig(t, []string{"true"}, func(s *specs.Spec) { s.Mounts = escaping })
	r := e.run(newRoot(t), "run", "--bundle", b.Dir, "escaping")
	if r.Exit == 0 || !strings.Contains(r.Stderr, "/escape/mnt") {
		t.Errorf("a mount point through a symlink out of the rootfs: want an error naming /escape/mnt, got %v", r)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("a mount point was made outside the rootfs: %v", entries)
	}

	script := `cat /etc/hosts; ls -d /proc/self /deep/er/dir; stat -f -c %T /deep/er/dir`
	b.writeConfig(t, []string{"sh", "-c", script}, func(s *specs.Spec) { s.Mounts = mounts })
	r = e.run(newRoot(t), "run", "--bundle", b.Dir, "mountpoints")
	want := "127.0.0.1 box\n/deep/er/dir\n/proc/self\ntmpfs\n"
	if r.Exit != 0 || r.Stdout != want {
		t.Fatalf("want exit 0 and %q, got %v", want, r)
	}
	if fi, err := os.Stat(filepath.Join(b.Rootfs, "etc", "hosts")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("file mount point /etc/hosts: %v, %v", fi, err)
	}
}

// TestLinuxDevices: config.json's linux.devices appear in the tmpfs /dev
// with their type, numbers, mode and owner (a nested path gets its
// directory); one the sentry has a driver for opens, the others exist but
// open with ENXIO, as a node without a driver does on Linux.
func TestLinuxDevices(t *testing.T) {
	e := needEnv(t)
	b := busyboxBundle(t)
	script := `stat -c '%n %F %t:%T %a %u:%g' /dev/mynull /dev/net/tun /dev/myblk /dev/mypipe
echo hi > /dev/mynull && echo null-works
cat /dev/net/tun 2>/dev/null || echo tun-enxio`
	mode := func(m os.FileMode) *os.FileMode { return &m }
	id := func(v uint32) *uint32 { return &v }
	b.writeConfig(t, []string{"sh", "-c", script}, func(s *specs.Spec) {
		s.Mounts = []specs.Mount{
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=755"}},
		}
		s.Linux.Devices = []specs.LinuxDevice{
			{Path: "/dev/mynull", Type: "c", Major: 1, Minor: 3, FileMode: mode(0o600), UID: id(1), GID: id(2)},
			{Path: "/dev/net/tun", Type: "c", Major: 10, Minor: 200},
			{Path: "/dev/myblk", Type: "b", Major: 7, Minor: 0, FileMode: mode(0o640)},
			{Path: "/dev/mypipe", Type: "p"},
		}
	})
	r := e.run(newRoot(t), "run", "--bundle", b.Dir, "linux-devices")
	want := "/dev/mynull character special file 1:3 600 1:2\n" +
		"/dev/net/tun character special file a:c8 666 0:0\n" +
		"/dev/myblk block special file 7:0 640 0:0\n" +
		"/dev/mypipe fifo 0:0 666 0:0\n" +
		"null-works\ntun-enxio\n"
	if r.Exit != 0 || r.Stdout != want {
		t.Errorf("want exit 0 and\n%s\ngot %v", want, r)
	}
}

// TestMaskedAndReadonlyPaths: linux.maskedPaths hides a directory (an
// empty read-only tmpfs) and a file (a /dev/null), linux.readonlyPaths
// makes a writable directory read-only, a missing path is skipped, and
// the Docker-style /proc paths behave as under runc.
func TestMaskedAndReadonlyPaths(t *testing.T) {
	e := needEnv(t)
	b := busyboxBundle(t)
	for _, d := range []string{"secret-dir", "ro-dir"} {
		if err := os.MkdirAll(filepath.Join(b.Rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(b.Rootfs, "secret-dir", "key"), "dir secret\n", 0o644)
	writeFile(t, filepath.Join(b.Rootfs, "secret-file"), "file secret\n", 0o644)
	script := `ls -A /secret-dir; echo listed
cat /secret-file; echo read
stat -c '%F %t:%T' /secret-file
touch /secret-dir/x 2>/dev/null || echo masked-dir-ro
touch /ro-dir/x 2>/dev/null || echo ro-dir-ro
touch /elsewhere && echo rw-elsewhere
echo 1 > /proc/sys/kernel/hostname 2>/dev/null || echo proc-sys-ro`
	b.writeConfig(t, []string{"sh", "-c", script}, func(s *specs.Spec) {
		s.Root.Readonly = false
		s.Annotations = map[string]string{"dev.moat.overlay": "memory"}
		s.Mounts = []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=755"}},
		}
		s.Linux.MaskedPaths = []string{"/secret-dir", "/secret-file", "/does-not-exist"}
		s.Linux.ReadonlyPaths = []string{"/ro-dir", "/proc/sys", "/not-there-either"}
	})
	r := e.run(newRoot(t), "run", "--bundle", b.Dir, "masked-paths")
	want := "listed\nread\ncharacter special file 1:3\nmasked-dir-ro\nro-dir-ro\nrw-elsewhere\nproc-sys-ro\n"
	if r.Exit != 0 || r.Stdout != want {
		t.Errorf("want exit 0 and\n%s\ngot %v", want, r)
	}

	// A relative masked path is an error, as the runtime spec requires.
	b.writeConfig(t, []string{"true"}, func(s *specs.Spec) {
		s.Linux.MaskedPaths = []string{"relative"}
	})
	r = e.run(newRoot(t), "run", "--bundle", b.Dir, "masked-relative")
	if r.Exit == 0 || !strings.Contains(r.Stderr, "linux.maskedPaths") {
		t.Errorf("a relative masked path: want an error naming linux.maskedPaths, got %v", r)
	}
}
