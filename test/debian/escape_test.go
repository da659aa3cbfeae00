//go:build debian

package debian

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"moat/test/harness"
	"moat/test/rootfs"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// escapeLayout is one run's host side of the escape test (see
// test/programs/escape_mounts.c for the container's view):
//
//	T/host-marker          outside everything the container has
//	T/mnt/                 bound at /mnt (rw); holds b/ and f, the mount points
//	T/outer/marker2        the marker: in the parent of the bound directory
//	T/outer/bound/         bound at /mnt/b (rw): inner, uplink, abslink
//	T/outer/filemount      a single file bound at /mnt/f
//	T/bin/escape_mounts    bound at /opt (ro)
type escapeLayout struct {
	top, mnt, outer, marker, hostMarker string
}

func newEscapeLayout(t *testing.T, prog string) escapeLayout {
	t.Helper()
	top := t.TempDir()
	l := escapeLayout{
		top:        top,
		mnt:        filepath.Join(top, "mnt"),
		outer:      filepath.Join(top, "outer"),
		marker:     filepath.Join(top, "outer", "marker2"),
		hostMarker: filepath.Join(top, "host-marker"),
	}
	for _, d := range []string{"mnt/b", "outer/bound", "bin"} {
		if err := os.MkdirAll(filepath.Join(top, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, data := range map[string]string{
		l.marker:                                 "host secret marker2\n",
		l.hostMarker:                             "host secret top\n",
		filepath.Join(l.mnt, "f"):                "",
		filepath.Join(l.outer, "filemount"):      "the bound file\n",
		filepath.Join(l.outer, "bound", "inner"): "inner\n",
	} {
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"uplink": "../marker2", "abslink": l.marker} {
		if err := os.Symlink(target, filepath.Join(l.outer, "bound", link)); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(top, "bin", "escape_mounts"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	return l
}

// spec is the container of the escape test: the Debian root read-only,
// proc, and the binds above.
func (l escapeLayout) spec(e *env) *specs.Spec {
	s := e.spec(e.debian, true, []string{"/opt/escape_mounts", l.marker}, layout{proc: true}, "")
	s.Mounts = append(s.Mounts,
		specs.Mount{Destination: "/opt", Type: "bind", Source: filepath.Join(l.top, "bin"), Options: []string{"rbind", "ro"}},
		specs.Mount{Destination: "/mnt", Type: "bind", Source: l.mnt, Options: []string{"rbind", "rw"}},
		specs.Mount{Destination: "/mnt/b", Type: "bind", Source: filepath.Join(l.outer, "bound"), Options: []string{"rbind", "rw"}},
		specs.Mount{Destination: "/mnt/f", Type: "bind", Source: filepath.Join(l.outer, "filemount"), Options: []string{"bind", "rw"}},
	)
	return s
}

// checkHost asserts, on the host, that nothing the run did reached the
// markers: each still has one link, and no file of the container's mounts
// is one of them.
func (l escapeLayout) checkHost(t *testing.T, who string) {
	t.Helper()
	markers := map[uint64]string{}
	for _, m := range []string{l.marker, l.hostMarker} {
		var st unix.Stat_t
		if err := unix.Stat(m, &st); err != nil {
			t.Fatalf("%s: marker %s: %v", who, m, err)
		}
		if st.Nlink != 1 {
			t.Errorf("%s: marker %s has %d links: the container linked it", who, m, st.Nlink)
		}
		markers[st.Ino] = m
	}
	for _, dir := range []string{l.mnt, filepath.Join(l.outer, "bound")} {
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			var st unix.Stat_t
			if err := unix.Lstat(p, &st); err != nil {
				return err
			}
			if m, ok := markers[st.Ino]; ok {
				t.Errorf("%s: %s is the marker %s", who, p, m)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestEscapeThroughMounts runs escape_mounts under chroot and in moat.
// Natively the program must see the marker (else it could not see an
// escape); contained, no attempt may read it, and moat must give the same
// answer as the host kernel to every attempt.
func TestEscapeThroughMounts(t *testing.T) {
	e := needEnv(t)
	prog := e.progs["escape_mounts"]
	native := harness.Run(harness.Opts{}, prog, newEscapeLayout(t, prog).marker)
	if !strings.Contains(native.Stdout, "absolute path: VISIBLE") {
		t.Fatalf("natively the program must see the marker, or it proves nothing: %s", short(native))
	}

	hostL := newEscapeLayout(t, prog)
	want := chroot(hostL.spec(e))
	if want.Exit != 0 || !strings.HasSuffix(want.Stdout, "verdict: contained\n") || strings.Contains(want.Stdout, "VISIBLE") {
		t.Fatalf("oracle (chroot): %s", short(want))
	}
	hostL.checkHost(t, "chroot")

	moatL := newEscapeLayout(t, prog)
	got := e.moatRun(t, moatL.spec(e), "deb-escape")
	moatL.checkHost(t, "moat")
	if strings.Contains(got.Stdout, "VISIBLE") || strings.Contains(got.Stdout, "ESCAPED") {
		t.Errorf("ESCAPE: the sandbox read a host marker:\n%s", got.Stdout)
	}
	// Report the differences from the host kernel only once containment
	// is established above; the marker path differs between the runs.
	got.Stdout = strings.ReplaceAll(got.Stdout, moatL.marker, hostL.marker)
	compare(t, want, got, false)
	for _, dir := range []string{"mnt", "outer/bound"} {
		want, err := rootfs.Digest(filepath.Join(hostL.top, dir), rootfs.DigestOpts{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := rootfs.Digest(filepath.Join(moatL.top, dir), rootfs.DigestOpts{})
		if err != nil {
			t.Fatal(err)
		}
		// abslink names its run's own marker.
		for i := range got {
			got[i] = strings.ReplaceAll(got[i], moatL.top, hostL.top)
		}
		if d := rootfs.Diff(want, got, 20); d != "" {
			t.Errorf("%s: the trees left by chroot (want) and moat (got) differ:\n%s", dir, d)
		}
	}
}
