//go:build debian

package debian

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"moat/test/harness"
	"moat/test/rootfs"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// runTimeout bounds one command, under chroot or in moat; find over the
// whole tree is the slowest.
const runTimeout = 2 * time.Minute

// bigSize is the size of the generated file sha256sum reads.
const bigSize = 64 << 20

// env is what every test needs.
type env struct {
	moat   string            // the moat binary
	progs  map[string]string // compiled test/programs by name
	debian string            // the cached Debian tree, read-only in this process's mounts
	data   string            // host directory bound read-only at /srv: big.bin
	bigSum string            // hex SHA-256 of data/big.bin
}

var (
	envOnce sync.Once
	theEnv  *env
	envErr  error
)

// needEnv checks the machine can run sandboxes and has the Debian tree
// (skipping the test if not, failing it with CI=true), and sets up the
// shared pieces once.
func needEnv(t *testing.T) *env {
	t.Helper()
	if err := harness.Prereqs(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("prerequisite missing, and CI=true makes that a failure: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	if os.Getenv(nsEnv) != "1" {
		t.Fatal("the test process is not in a mount namespace of its own (is unshare(1) installed?): refusing to mount over the shared Debian tree")
	}
	debian := rootfs.NeedDebian(t)
	envOnce.Do(func() { theEnv, envErr = setup(debian) })
	if envErr != nil {
		t.Fatalf("setup: %v", envErr)
	}
	return theEnv
}

func setup(debian string) (*env, error) {
	e := &env{debian: debian}
	// The tree is shared by every run on the machine: in this process's
	// mount namespace it becomes read-only, so no bug of moat or of a test
	// can change it. Tests that need a writable root take a copy.
	if err := unix.Mount(debian, debian, "", unix.MS_BIND, ""); err != nil {
		return nil, fmt.Errorf("bind %s on itself: %w", debian, err)
	}
	if err := unix.Mount("", debian, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
		return nil, fmt.Errorf("remount %s read-only: %w", debian, err)
	}
	var err error
	if e.moat, err = harness.BuildMoat(workDir); err != nil {
		return nil, err
	}
	progDir := filepath.Join(workDir, "programs")
	if err := os.Mkdir(progDir, 0o755); err != nil {
		return nil, err
	}
	if e.progs, err = harness.CompilePrograms("test/programs", progDir); err != nil {
		return nil, err
	}
	e.data = filepath.Join(workDir, "data")
	if err := os.Mkdir(e.data, 0o755); err != nil {
		return nil, err
	}
	if e.bigSum, err = writeBig(filepath.Join(e.data, "big.bin"), bigSize); err != nil {
		return nil, err
	}
	return e, nil
}

// writeBig writes size pseudo-random bytes (xorshift64, fixed seed) to p
// and returns their SHA-256.
func writeBig(p string, size int) (string, error) {
	buf := make([]byte, size)
	x := uint64(0x9e3779b97f4a7c15)
	for i := 0; i+8 <= len(buf); i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		binary.LittleEndian.PutUint64(buf[i:], x)
	}
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		return "", err
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:]), nil
}

// layout says which mounts a case's container has besides its root.
type layout struct {
	proc bool // proc at /proc
	dev  bool // tmpfs at /dev with the default devices
	tmp  bool // tmpfs at /tmp
	data bool // env.data bound read-only at /srv
	work bool // a fresh seeded host directory bound read-write at /mnt
}

// testEnv is the container's environment, the same under chroot and moat.
var testEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root", "LANG=C", "TERM=dumb",
}

// spec returns the config for args in root with l's mounts; work is the
// host directory for /mnt when l.work.
func (e *env) spec(root string, readonly bool, args []string, l layout, work string) *specs.Spec {
	s := &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			Args: args,
			Env:  testEnv,
			Cwd:  "/",
			User: specs.User{UID: 0, GID: 0},
		},
		Root:     &specs.Root{Path: root, Readonly: readonly},
		Hostname: "debian-box",
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace},
			},
		},
	}
	if l.proc {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}})
	}
	if l.dev {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}})
	}
	if l.tmp {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777"}})
	}
	if l.data {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/srv", Type: "bind", Source: e.data, Options: []string{"rbind", "ro"}})
	}
	if l.work {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: work, Options: []string{"rbind", "rw"}})
	}
	return s
}

// moatRun runs s with `moat run --bundle` in a fresh bundle directory
// (config.json only: the root is s.Root.Path) and a fresh --root, and
// checks the run left nothing in --root.
func (e *env) moatRun(t *testing.T, s *specs.Spec, id string) harness.Result {
	t.Helper()
	dir := t.TempDir()
	data, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "moat-root")
	r := harness.Run(harness.Opts{Timeout: runTimeout}, e.moat, "--root", state, "run", "--bundle", dir, id)
	if ents, _ := os.ReadDir(state); len(ents) != 0 {
		t.Errorf("moat run left %d entries in --root", len(ents))
	}
	return r
}

// chroot runs s under the oracle.
func chroot(s *specs.Spec) harness.Result {
	return rootfs.Chroot(s, harness.Opts{Timeout: runTimeout})
}

// compare checks that moat's run (got) ended as the oracle's (want) did:
// same exit status, stdout and stderr; sortStdout compares stdout's lines
// as sets (for output in directory order).
func compare(t *testing.T, want, got harness.Result, sortStdout bool) {
	t.Helper()
	if got.TimedOut || got.Err != nil {
		t.Errorf("moat: %s", short(got))
		return
	}
	if got.Exit != want.Exit {
		t.Errorf("exit status: chroot %d, moat %d\nmoat: %s", want.Exit, got.Exit, short(got))
	}
	ws, gs := want.Stdout, got.Stdout
	if sortStdout {
		ws, gs = sortLines(ws), sortLines(gs)
	}
	if d := firstDiff(ws, gs); d != "" {
		t.Errorf("stdout differs (chroot vs moat): %s", d)
	}
	if d := firstDiff(want.Stderr, got.Stderr); d != "" {
		t.Errorf("stderr differs (chroot vs moat): %s", d)
	}
}

func sortLines(s string) string {
	lines := strings.SplitAfter(s, "\n")
	sort.Strings(lines)
	return strings.Join(lines, "")
}

// firstDiff describes where b first differs from a, with a few lines of
// each, or returns "" when they are equal. Outputs run to thousands of
// lines: the whole of them would drown the difference.
func firstDiff(a, b string) string {
	if a == b {
		return ""
	}
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(al) && i < len(bl) && al[i] == bl[i] {
		i++
	}
	window := func(l []string) string {
		end := min(i+5, len(l))
		if i >= len(l) {
			return "  (end)\n"
		}
		var s strings.Builder
		for _, x := range l[i:end] {
			fmt.Fprintf(&s, "  %q\n", x)
		}
		return s.String()
	}
	return fmt.Sprintf("%d vs %d lines, first difference at line %d:\nchroot:\n%smoat:\n%s", len(al), len(bl), i+1, window(al), window(bl))
}

// short summarises r with its streams cut to a readable length.
func short(r harness.Result) string {
	cut := func(s string) string {
		if len(s) > 2000 {
			return s[:2000] + fmt.Sprintf("… (%d bytes)", len(s))
		}
		return s
	}
	s := fmt.Sprintf("exit %d", r.Exit)
	if r.TimedOut {
		s += " (TIMED OUT, killed)"
	}
	if r.Err != nil {
		s += fmt.Sprintf(" err=%v", r.Err)
	}
	return s + "\n--- stdout:\n" + cut(r.Stdout) + "\n--- stderr:\n" + cut(r.Stderr)
}

// seedTime is the modification time of every seeded entry, so that trees
// seeded apart are identical, times included.
var seedTime = time.Date(2021, 6, 7, 8, 9, 10, 123456789, time.UTC)

// seedWork fills dir (the host side of /mnt) with the tree the write
// tests start from; called once per run, it gives both runs of a case
// identical starting trees.
func seedWork(t *testing.T, dir string) {
	t.Helper()
	files := map[string]string{
		"file.txt":            "hello\n",
		"tree/sub/a.txt":      "a\n",
		"tree/sub/deeper/b":   strings.Repeat("b", 5000),
		"tree/other/c":        "c\n",
		"src/a":               "source a\n",
		"src/b":               "source b\n",
		"src/dir/c":           "source c\n",
		"src/dir/x/keep.txt":  "kept\n",
		"exec.sh":             "#!/bin/sh\necho from exec.sh \"$@\"\n",
		"tree/sub/deeper/e/f": "",
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("sub/a.txt", filepath.Join(dir, "tree/link")); err != nil {
		t.Fatal(err)
	}
	// Set times bottom-up: a directory's time last, after its entries.
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		paths = append(paths, p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := []unix.Timespec{unix.NsecToTimespec(seedTime.UnixNano()), unix.NsecToTimespec(seedTime.UnixNano())}
	for i := len(paths) - 1; i >= 0; i-- {
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, paths[i], ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			t.Fatal(err)
		}
	}
}

// newWork returns a fresh seeded work directory.
func newWork(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "work")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	seedWork(t, dir)
	return dir
}

// sameTree checks the trees under a (chroot's) and b (moat's) have the
// same digest.
func sameTree(t *testing.T, what, a, b string, o rootfs.DigestOpts) {
	t.Helper()
	da, err := rootfs.Digest(a, o)
	if err != nil {
		t.Fatal(err)
	}
	db, err := rootfs.Digest(b, o)
	if err != nil {
		t.Fatal(err)
	}
	if d := rootfs.Diff(da, db, 20); d != "" {
		t.Errorf("%s: the trees left by chroot (want) and moat (got) differ:\n%s", what, d)
	}
}
