package spec

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// writeBundle makes a bundle directory with a rootfs and the given
// config.json text.
func writeBundle(t *testing.T, config string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigName), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"syntax", "{\n\"ociVersion\": \"1.0.2\",\n  \"root\": {,\n}", "config.json: invalid JSON at line 3"},
		{"type", `{"ociVersion": "1", "process": {"args": "sh"}}`, "config.json: process.args: expected []string"},
		{"no version", `{"root": {"path": "rootfs"}, "process": {"args": ["sh"]}}`, "config.json: ociVersion is empty"},
		{"no root", `{"ociVersion": "1", "process": {"args": ["sh"]}}`, "config.json: root.path is empty"},
		{"missing root", `{"ociVersion": "1", "root": {"path": "x"}, "process": {"args": ["sh"]}}`, `config.json: root.path "x": no such directory`},
		{"no process", `{"ociVersion": "1", "root": {"path": "rootfs"}}`, "config.json: process is missing"},
		{"empty args", `{"ociVersion": "1", "root": {"path": "rootfs"}, "process": {"args": []}}`, "config.json: process.args is empty"},
		{"empty arg0", `{"ociVersion": "1", "root": {"path": "rootfs"}, "process": {"args": [""]}}`, "config.json: process.args is empty"},
		{"relative cwd", `{"ociVersion": "1", "root": {"path": "rootfs"}, "process": {"args": ["sh"], "cwd": "tmp"}}`, `config.json: process.cwd "tmp" is not an absolute path`},
		{"bad env", `{"ociVersion": "1", "root": {"path": "rootfs"}, "process": {"args": ["sh"], "env": ["A=1", "B"]}}`, `config.json: process.env[1] "B" is not KEY=VALUE`},
		{"bad mount", `{"ociVersion": "1", "root": {"path": "rootfs"}, "process": {"args": ["sh"]}, "mounts": [{"destination": "proc"}]}`, `config.json: mounts[0].destination "proc" is not an absolute path`},
		{"bad namespace", `{"ociVersion": "1", "root": {"path": "rootfs"}, "process": {"args": ["sh"]}, "linux": {"namespaces": [{"type": "pid"}, {"type": "nope"}]}}`, `config.json: linux.namespaces[1].type "nope" is unknown`},
		{"namespace path of another type", `{"ociVersion": "1", "root": {"path": "rootfs"}, "process": {"args": ["sh"]}, "linux": {"namespaces": [{"type": "ipc", "path": "/proc/self/ns/net"}]}}`, `config.json: linux.namespaces[0]: namespace path "/proc/self/ns/net": not a ipc namespace`},
		{"namespace path not a namespace", `{"ociVersion": "1", "root": {"path": "rootfs"}, "process": {"args": ["sh"]}, "linux": {"namespaces": [{"type": "network", "path": "/dev/null"}]}}`, `config.json: linux.namespaces[0]: namespace path "/dev/null": not a namespace`},
		{"relative hook path", `{"ociVersion": "1", "root": {"path": "rootfs"}, "process": {"args": ["sh"]}, "hooks": {"poststop": [{"path": "/bin/true"}, {"path": "true"}]}}`, `config.json: hooks.poststop[1].path "true" is not an absolute path`},
		{"zero hook timeout", `{"ociVersion": "1", "root": {"path": "rootfs"}, "process": {"args": ["sh"]}, "hooks": {"prestart": [{"path": "/bin/true", "timeout": 0}]}}`, `config.json: hooks.prestart[0].timeout 0 is not positive`},
		{"startContainer hook", `{"ociVersion": "1", "root": {"path": "rootfs"}, "process": {"args": ["sh"]}, "hooks": {"startContainer": [{"path": "/bin/true"}]}}`, `config.json: hooks.startContainer[0] "/bin/true": startContainer hooks are not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeBundle(t, tt.config))
			if err == nil {
				t.Fatalf("Load: no error, want %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("Load: error %q, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestLoadMissingBundle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	_, err := Load(dir)
	if err == nil || err.Error() != "bundle "+dir+": no such directory" {
		t.Fatalf("Load(%s): %v", dir, err)
	}
	empty := t.TempDir()
	_, err = Load(empty)
	if err == nil || !strings.Contains(err.Error(), "config.json: no such file") {
		t.Fatalf("Load(empty bundle): %v", err)
	}
}

func TestLoadDefaults(t *testing.T) {
	dir := writeBundle(t, `{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"args": ["sh"], "env": ["A=1"]}}`)
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "rootfs"); s.Root.Path != want {
		t.Errorf("root.path = %q, want %q", s.Root.Path, want)
	}
	if s.Process.Cwd != "/" {
		t.Errorf("cwd = %q, want /", s.Process.Cwd)
	}
	if got := strings.Join(s.Process.Env, " "); got != "A=1 "+DefaultPath {
		t.Errorf("env = %q", got)
	}

	// A PATH of the spec's own is kept.
	dir = writeBundle(t, `{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"args": ["sh"], "env": ["PATH=/x"], "cwd": "/tmp"}}`)
	s, err = Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Process.Env) != 1 || s.Process.Cwd != "/tmp" {
		t.Errorf("env = %q, cwd = %q", s.Process.Env, s.Process.Cwd)
	}
}

func TestDefaultSpecLoads(t *testing.T) {
	for _, rootless := range []bool{false, true} {
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, "rootfs"), 0o755)
		data, err := json.Marshal(Default(rootless))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, ConfigName), data, 0o644)
		s, err := Load(dir)
		if err != nil {
			t.Fatalf("rootless=%v: %v", rootless, err)
		}
		if HasNewNetworkNamespace(s) == rootless {
			t.Errorf("rootless=%v: new network namespace = %v", rootless, !rootless)
		}
	}
}

func TestValidateID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"abc", true},
		{"a-b_c.d+e", true},
		{"0123456789abcdef", true},
		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"../x", false},
		{"a b", false},
		{"a\nb", false},
		{strings.Repeat("a", 2000), false},
	}
	for _, tt := range tests {
		err := ValidateID(tt.id)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateID(%.30q) = %v, want ok=%v", tt.id, err, tt.ok)
		}
	}
}

func TestStateIO(t *testing.T) {
	r := Root{Dir: filepath.Join(t.TempDir(), "root")}
	c, err := r.Create("c1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Create("c1"); !errors.Is(err, ErrExist) {
		t.Fatalf("second Create: %v, want ErrExist", err)
	}
	want := &State{State: specs.State{Version: specs.Version, ID: "c1", Status: specs.StateCreated, Pid: 42, Bundle: "/b"}, StartTime: 7}
	if err := c.WriteState(want); err != nil {
		t.Fatal(err)
	}
	c.Unlock()

	c, err = r.Open("c1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ReadState()
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "c1" || got.Pid != 42 || got.Status != specs.StateCreated || got.StartTime != 7 {
		t.Fatalf("ReadState = %+v", got)
	}
	// The OCI fields are at the top level of the JSON.
	data, _ := os.ReadFile(filepath.Join(c.Dir, StateFile))
	if !strings.Contains(string(data), `"ociVersion"`) || !strings.Contains(string(data), `"status":"created"`) {
		t.Fatalf("state.json = %s", data)
	}
	ids, err := r.List()
	if err != nil || len(ids) != 1 || ids[0] != "c1" {
		t.Fatalf("List = %v, %v", ids, err)
	}
	// No temporary files are left beside state.json.
	ents, _ := os.ReadDir(c.Dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), "tmp") {
			t.Errorf("leftover %s", e.Name())
		}
	}
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Open("c1"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Open after Remove: %v, want ErrNotExist", err)
	}
	if _, err := r.Open("../etc"); err == nil {
		t.Fatal("Open(../etc) succeeded")
	}
}

func TestLockExcludes(t *testing.T) {
	r := Root{Dir: t.TempDir()}
	c, err := r.Create("c")
	if err != nil {
		t.Fatal(err)
	}
	c.WriteState(&State{State: specs.State{ID: "c"}})
	var order []string
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		c2, err := r.Open("c")
		if err == nil {
			mu.Lock()
			order = append(order, "second")
			mu.Unlock()
			c2.Unlock()
		}
		close(done)
	}()
	mu.Lock()
	order = append(order, "first")
	mu.Unlock()
	c.Unlock()
	<-done
	if strings.Join(order, ",") != "first,second" {
		t.Fatalf("order = %v", order)
	}
}

func TestParseStat(t *testing.T) {
	line := "1234 (a) b) c) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100"
	start, zombie, err := parseStat(line)
	if err != nil || start != 987654 || zombie {
		t.Fatalf("parseStat = %d, %v, %v", start, zombie, err)
	}
	_, zombie, _ = parseStat(strings.Replace(line, ") S ", ") Z ", 1))
	if !zombie {
		t.Fatal("zombie not detected")
	}
	if _, _, err := parseStat("garbage"); err == nil {
		t.Fatal("garbage parsed")
	}
	st := &State{State: specs.State{Pid: os.Getpid()}}
	st.StartTime, _, _ = ProcStartTime(os.Getpid())
	if !st.Alive() || !st.Ours() {
		t.Fatal("self not alive")
	}
	st.StartTime++
	if st.Alive() {
		t.Fatal("wrong start time accepted")
	}
}
