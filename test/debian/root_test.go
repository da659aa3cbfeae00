//go:build debian

package debian

import (
	"path/filepath"
	"strings"
	"testing"

	"moat/test/rootfs"
)

// OverlayAnnotation is the config.json annotation asking moat to keep the
// root's writes in memory (issue 3's overlay, on for `moat do`), with
// root.readonly false. The name is this test's assumption until the
// feature lands; the lead decides the final one.
const (
	OverlayAnnotation = "dev.moat.overlay"
	OverlayMemory     = "memory"
)

// rootWrites changes the root in every way the file calls allow, then
// prints what it sees, so that both the writes and their visibility are
// compared.
const rootWrites = `set -e
mkdir -p /srv/new/a/b
cp /etc/os-release /srv/new/a/
mv /etc/debian_version /srv/new/
mv /usr/share/doc/python3-minimal /srv/new/doc
rm -r /usr/share/doc/libc6
rm /usr/bin/yes
ln -s /srv/new /opt/new
ln /etc/passwd /srv/new/passwd-hard
echo new > /etc/motd
printf 'x%.0s' $(seq 1 100000) > /srv/new/big
chmod 600 /etc/motd
chown 1:2 /srv/new/a
touch -d @1600000000 /srv/new/a/os-release
mkfifo /srv/new/fifo
truncate -s 12345 /srv/new/sparse
: > /etc/hostname
find /srv /opt -printf '%p %y %m %U:%G %s %n %l\n' | sort
ls /usr/share/doc | head -3
cat /opt/new/debian_version /etc/motd
stat -c '%n %Y' /srv/new/a/os-release
ls /usr/bin/yes 2>&1 || true
echo done`

// TestWritableRoot runs rootWrites in a writable copy of the tree, once
// under chroot and once in moat, and compares the output and the trees.
func TestWritableRoot(t *testing.T) {
	e := needEnv(t)
	host, sandbox := filepath.Join(t.TempDir(), "root"), filepath.Join(t.TempDir(), "root")
	for _, d := range []string{host, sandbox} {
		if err := rootfs.Copy(e.debian, d); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"sh", "-c", rootWrites}
	l := layout{dev: true, tmp: true}
	want := chroot(e.spec(host, false, args, l, ""))
	if want.Exit != 0 || !strings.HasSuffix(want.Stdout, "done\n") {
		t.Fatalf("oracle (chroot): %s", short(want))
	}
	got := e.moatRun(t, e.spec(sandbox, false, args, l, ""), "deb-writable-root")
	compare(t, want, got, false)
	sameTree(t, "writable root", host, sandbox, rootfs.DigestOpts{})
}

// TestOverlayMemoryKeepsRootUnchanged runs rootWrites in moat with the
// root's writes kept in memory: the output must be what chroot gives on a
// writable copy (writes visible to the container), and the tree on the
// host must not change at all, times and inode numbers included. The tree
// is a writable copy, so a moat that wrote through would be caught.
func TestOverlayMemoryKeepsRootUnchanged(t *testing.T) {
	e := needEnv(t)
	// The oracle: chroot on a writable copy. (A host overlayfs would be
	// the closer model, but it reports one link for merged directories and
	// its own directory sizes, which a correct moat would not copy.)
	host := filepath.Join(t.TempDir(), "root")
	if err := rootfs.Copy(e.debian, host); err != nil {
		t.Fatal(err)
	}
	args := []string{"sh", "-c", rootWrites}
	l := layout{dev: true, tmp: true}
	want := chroot(e.spec(host, false, args, l, ""))
	if want.Exit != 0 || !strings.HasSuffix(want.Stdout, "done\n") {
		t.Fatalf("oracle (chroot): %s", short(want))
	}

	root := filepath.Join(t.TempDir(), "root")
	if err := rootfs.Copy(e.debian, root); err != nil {
		t.Fatal(err)
	}
	strict := rootfs.DigestOpts{Times: true, Identity: true}
	before, err := rootfs.Digest(root, strict)
	if err != nil {
		t.Fatal(err)
	}
	s := e.spec(root, false, args, l, "")
	s.Annotations = map[string]string{OverlayAnnotation: OverlayMemory}
	got := e.moatRun(t, s, "deb-overlay")
	compare(t, want, got, false)
	after, err := rootfs.Digest(root, strict)
	if err != nil {
		t.Fatal(err)
	}
	if d := rootfs.Diff(before, after, 30); d != "" {
		t.Errorf("the root tree changed on the host during a run with %s=%s:\n%s", OverlayAnnotation, OverlayMemory, d)
	}
}
