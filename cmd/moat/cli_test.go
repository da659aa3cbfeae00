package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"moat/spec"
)

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in   string
		want unix.Signal
		err  bool
	}{
		{"9", unix.SIGKILL, false},
		{"KILL", unix.SIGKILL, false},
		{"SIGKILL", unix.SIGKILL, false},
		{"sigterm", unix.SIGTERM, false},
		{"term", unix.SIGTERM, false},
		{"HUP", unix.SIGHUP, false},
		{"SIGRTMIN", 34, false},
		{"RTMIN+2", 36, false},
		{"SIGRTMAX-1", 63, false},
		{"64", 64, false},
		{"0", 0, true},
		{"65", 0, true},
		{"-1", 0, true},
		{"", 0, true},
		{"SIGNOPE", 0, true},
		{"RTMIN-1", 0, true},
		{"RTMAX+1", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSignal(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseSignal(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestWaitStatusCode(t *testing.T) {
	tests := []struct {
		ws   syscall.WaitStatus
		want int
	}{
		{0, 0},
		{3 << 8, 3},
		{syscall.WaitStatus(unix.SIGKILL), 137},
		{syscall.WaitStatus(unix.SIGSEGV) | 0x80, 139}, // with core dump bit
	}
	for _, tt := range tests {
		if got := waitStatusCode(tt.ws); got != tt.want {
			t.Errorf("waitStatusCode(%#x) = %d, want %d", uint32(tt.ws), got, tt.want)
		}
	}
}

func TestTerminates(t *testing.T) {
	if terminates(unix.SIGCHLD) || terminates(unix.SIGWINCH) || !terminates(unix.SIGTERM) || !terminates(unix.SIGKILL) {
		t.Fatal("terminates is wrong")
	}
}

// runMoat runs the CLI in process and returns report's exit status.
func runMoat(t *testing.T, args ...string) int {
	t.Helper()
	app := newApp()
	return report(app, app.Run(append([]string{"moat"}, args...)))
}

func TestVerbErrors(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		name string
		args []string
	}{
		{"later verb", []string{"checkpoint", "x"}},
		{"exec unknown container", []string{"exec", "--tty", "x", "sh"}},
		{"exec no ID", []string{"exec"}},
		{"events bad interval", []string{"events", "--interval", "-1s", "x"}},
		{"pause", []string{"pause", "x"}},
		{"unknown container", []string{"state", "nope"}},
		{"bad ID", []string{"state", "../x"}},
		{"no ID", []string{"start"}},
		{"two IDs", []string{"delete", "a", "b"}},
		{"kill bad signal", []string{"kill", "x", "SIGNOPE"}},
		{"kill too many", []string{"kill", "x", "TERM", "more"}},
		{"missing bundle", []string{"create", "--bundle", filepath.Join(root, "none"), "x"}},
		{"bad log format", []string{"--log-format", "xml", "list"}},
		{"ps bad format", []string{"ps", "--format", "xml", "x"}},
		{"do nothing", []string{"do"}},
		{"do missing", []string{"do", "--", "moat-no-such-command"}},
		{"unknown flag", []string{"create", "--frobnicate", "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--root", root}, tt.args...)
			if got := runMoat(t, args...); got != 1 {
				t.Fatalf("moat %q: exit %d, want 1", tt.args, got)
			}
			if ents, _ := os.ReadDir(root); len(ents) != 0 {
				t.Fatalf("moat %q left %d entries in --root", tt.args, len(ents))
			}
		})
	}
}

func TestDeleteForceUnknown(t *testing.T) {
	if got := runMoat(t, "--root", t.TempDir(), "delete", "--force", "gone"); got != 0 {
		t.Fatalf("delete --force of an unknown container: exit %d, want 0", got)
	}
}

func TestSpecVerb(t *testing.T) {
	dir := t.TempDir()
	if got := runMoat(t, "spec", "--bundle", dir); got != 0 {
		t.Fatalf("spec: exit %d", got)
	}
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	if s.Process == nil || strings.Join(s.Process.Args, " ") != "sh" || !s.Process.Terminal || s.Root.Path != "rootfs" {
		t.Fatalf("default spec: %s", data)
	}
	// A second spec must not overwrite the first.
	os.WriteFile(filepath.Join(dir, "config.json"), []byte("mine"), 0o644)
	if got := runMoat(t, "spec", "--bundle", dir); got != 1 {
		t.Fatalf("second spec: exit %d, want 1", got)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "config.json")); string(data) != "mine" {
		t.Fatal("spec overwrote config.json")
	}
	rootless := t.TempDir()
	if got := runMoat(t, "spec", "--rootless", "--bundle", rootless); got != 0 {
		t.Fatalf("spec --rootless: exit %d", got)
	}
}

func TestDoOptions(t *testing.T) {
	co, err := doOptions([]string{"sh", "-c", "true"})
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.ValidateID(co.id); err != nil {
		t.Fatalf("do ID %q: %v", co.id, err)
	}
	s := co.config
	cwd, _ := os.Getwd()
	if s.Root.Path != "/" || s.Annotations[overlayAnnotation] != overlayMemory || s.Process.Cwd != cwd || s.Hostname != "moat" ||
		s.Process.User.UID != uint32(os.Getuid()) || len(s.Process.Env) != len(os.Environ()) {
		t.Fatalf("do spec = %+v, process %+v", s, s.Process)
	}
	if spec.HasNewNetworkNamespace(s) {
		t.Fatal("moat do must keep the host network")
	}
	if _, err := doOptions([]string{"moat-no-such-command"}); err == nil {
		t.Fatal("missing command accepted")
	}
}

func TestListEmpty(t *testing.T) {
	for _, format := range []string{"table", "json"} {
		if got := runMoat(t, "--root", filepath.Join(t.TempDir(), "none"), "list", "--format", format); got != 0 {
			t.Fatalf("list --format %s of an empty root: exit %d", format, got)
		}
	}
}

func TestReportExitStatus(t *testing.T) {
	app := newApp()
	if got := report(app, exitStatus(137)); got != 137 {
		t.Fatalf("report(exitStatus(137)) = %d", got)
	}
	if got := report(app, errors.New("x")); got != 1 {
		t.Fatalf("report(error) = %d", got)
	}
}

func TestSockPath(t *testing.T) {
	short, done, err := sockPath("/run/moat/x/control.sock")
	if err != nil || short != "/run/moat/x/control.sock" {
		t.Fatalf("sockPath(short) = %q, %v", short, err)
	}
	done()
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 120))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	long := filepath.Join(dir, "control.sock")
	cs, err := listenControl(long)
	if err != nil {
		t.Fatalf("listenControl(long path): %v", err)
	}
	defer cs.close()
	if fi, err := os.Stat(long); err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket at long path: %v, %v", fi, err)
	}
	go func() {
		conn, err := cs.ln.AcceptUnix()
		if err != nil {
			return
		}
		// Read the request first, as the sentry does: closing before
		// the client has written races its write into EPIPE.
		var req controlRequest
		json.NewDecoder(conn).Decode(&req)
		json.NewEncoder(conn).Encode(controlResponse{Status: "created"})
		conn.Close()
	}()
	resp, err := callSentry(long, controlRequest{Op: opState})
	if err != nil || resp.Status != "created" {
		t.Fatalf("callSentry over a long path: %+v, %v", resp, err)
	}
}

func TestGoferArgsFromMounts(t *testing.T) {
	s := &specs.Spec{
		Root: &specs.Root{Path: "rootfs"},
		Mounts: []specs.Mount{
			{Destination: "/data/", Type: "bind", Source: "/srv/data", Options: []string{"rbind", "ro"}},
			{Destination: "/work", Type: "none", Source: "rel", Options: []string{"bind", "rw"}},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"},
		},
	}
	got := append(goferRootArgs(s), goferMountArgs(s, "/b")...)
	want := []string{"--writable", "--mount", "/data=/srv/data:ro", "--mount", "/work=/b/rel"}
	if !slices.Equal(got, want) {
		t.Fatalf("gofer args %q, want %q", got, want)
	}
	s.Annotations = map[string]string{overlayAnnotation: overlayMemory}
	if got := goferRootArgs(s); len(got) != 0 {
		t.Fatalf("overlay root served writable: %q", got)
	}
	s.Annotations[overlayAnnotation] = "disk"
	if _, _, err := rootOverlay(s); err == nil {
		t.Fatal("unknown overlay kind accepted")
	}
}
