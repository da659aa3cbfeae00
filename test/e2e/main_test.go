package e2e

import (
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

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// workDir holds the moat binary and the compiled programs for the whole
// run; TestMain removes it.
var workDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "moat-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	workDir = dir
	// Stand where containerd's shim stands: orphaned sentries become our
	// children and are reaped (see harness.StartReaper).
	if err := harness.StartReaper(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is what every test needs: the moat binary and the test programs.
type env struct {
	moat  string
	progs map[string]string
}

var (
	prereqOnce sync.Once
	prereqErr  error
	setupOnce  sync.Once
	setupEnv   *env
	setupErr   error
)

// needEnv checks the machine can run sandboxes (skipping the test if not,
// or failing it when CI=true) and builds moat and the programs once.
func needEnv(t *testing.T) *env {
	t.Helper()
	prereqOnce.Do(func() { prereqErr = harness.Prereqs() })
	if prereqErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("prerequisite missing, and CI=true makes that a failure: %v", prereqErr)
		}
		t.Skipf("skipping: %v", prereqErr)
	}
	setupOnce.Do(func() {
		e := &env{}
		e.moat, setupErr = harness.BuildMoat(workDir)
		if setupErr != nil {
			return
		}
		progDir := filepath.Join(workDir, "programs")
		if setupErr = os.Mkdir(progDir, 0o755); setupErr != nil {
			return
		}
		e.progs, setupErr = harness.CompilePrograms("test/programs", progDir)
		setupEnv = e
	})
	if setupErr != nil {
		t.Fatalf("setup: %v", setupErr)
	}
	return setupEnv
}

// run runs moat with a fresh --root (given) and args.
func (e *env) run(root string, args ...string) harness.Result {
	return e.runOpts(harness.Opts{}, root, args...)
}

func (e *env) runOpts(o harness.Opts, root string, args ...string) harness.Result {
	return harness.Run(o, e.moat, append([]string{"--root", root}, args...)...)
}

// testEnv is the environment given to programs natively, to `moat do` and
// in config.json, so all three see the same one.
var testEnv = []string{"PATH=/bin:/usr/bin", "HOME=/", "LANG=C", "MOAT_E2E=yes"}

// bundle is an OCI bundle on disk: Dir/config.json and Dir/rootfs.
type bundle struct {
	Dir, Rootfs string
}

// newRootfs makes a bundle whose rootfs holds the given programs in /bin
// and the data files the file programs read, and a host marker file next
// to (outside) the rootfs for the escape test.
func (e *env) newRootfs(t *testing.T) bundle {
	t.Helper()
	dir := t.TempDir()
	b := bundle{Dir: dir, Rootfs: filepath.Join(dir, "rootfs")}
	for _, d := range []string{"bin", "etc", "data/sub", "data/emptydir"} {
		mustMkdir(t, filepath.Join(b.Rootfs, d))
	}
	for name, path := range e.progs {
		copyFile(t, path, filepath.Join(b.Rootfs, "bin", name), 0o755)
	}
	writeFile(t, filepath.Join(b.Rootfs, "data/hello.txt"), "hello world, this is moat\n", 0o644)
	writeFile(t, filepath.Join(b.Rootfs, "data/sub/inner.txt"), "inner\n", 0o600)
	for i := 1; i <= 20; i++ {
		writeFile(t, filepath.Join(b.Rootfs, fmt.Sprintf("data/sub/file-with-a-longish-name-%d", i)), "", 0o644)
	}
	big := make([]byte, 300000)
	for i := range big {
		big[i] = byte(i*7 + i/251)
	}
	writeFile(t, filepath.Join(b.Rootfs, "data/big.bin"), string(big), 0o640)
	writeFile(t, filepath.Join(b.Rootfs, "etc/file"), "a file in the rootfs\nsecond line\n", 0o644)
	for link, target := range map[string]string{
		"data/link":     "hello.txt",
		"data/toroot":   "/",
		"data/updotdot": "/../..",
		"data/relup":    "../../../../../../../..",
	} {
		if err := os.Symlink(target, filepath.Join(b.Rootfs, link)); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "host-marker"), "host secret\n", 0o644)
	return b
}

// writeConfig writes b's config.json for a container running args.
func (b bundle) writeConfig(t *testing.T, args []string, modify ...func(*specs.Spec)) {
	t.Helper()
	s := &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			Args: args,
			Env:  testEnv,
			Cwd:  "/",
			User: specs.User{UID: 0, GID: 0},
		},
		Root:     &specs.Root{Path: "rootfs", Readonly: true},
		Hostname: "e2e-box",
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace},
			},
		},
	}
	for _, m := range modify {
		m(s)
	}
	data, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(b.Dir, "config.json"), string(data), 0o644)
}

// newRoot returns a --root directory of its own for one test.
func newRoot(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "moat-root")
}

// listTree lists every path under dir (relative), for "--root left as it
// was" checks; a missing dir lists as empty.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel != "." {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	sort.Strings(out)
	return out
}

// waitFor polls cond every 50ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// oneLine asserts that r failed with exactly one line on stderr holding
// every one of the keywords.
func oneLine(t *testing.T, r harness.Result, keywords ...string) {
	t.Helper()
	if r.Exit == 0 || r.TimedOut {
		t.Errorf("want a non-zero exit, got %v", r)
		return
	}
	msg := strings.TrimRight(r.Stderr, "\n")
	if msg == "" || strings.Contains(msg, "\n") {
		t.Errorf("want exactly one line on stderr, got %q", r.Stderr)
	}
	for _, k := range keywords {
		if !strings.Contains(msg, k) {
			t.Errorf("stderr %q does not name %q", msg, k)
		}
	}
}

func mustMkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, p, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	// WriteFile's mode is filtered by the umask; the programs print modes.
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, string(data), mode)
}
