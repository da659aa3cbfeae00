package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"moat/spec"
)

// shHook is a hook running a shell command line.
func shHook(cmdline string, timeout int) specs.Hook {
	h := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", cmdline}, Env: []string{"HOOKVAR=v"}}
	if timeout > 0 {
		h.Timeout = &timeout
	}
	return h
}

func TestRunHooks(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	st := specs.State{Version: specs.Version, ID: "c1", Status: specs.StateCreated, Pid: 42, Bundle: "/b",
		Annotations: map[string]string{"k": "v"}}
	tests := []struct {
		name    string
		hooks   []specs.Hook
		wantErr string // substring; "" for success
		want    string // content of out afterwards
	}{
		{name: "none"},
		{
			name:  "order and environment",
			hooks: []specs.Hook{shHook("echo one $HOOKVAR >>"+out, 0), shHook("echo two >>"+out, 5)},
			want:  "one v\ntwo\n",
		},
		{
			name:    "stops at the first failure and quotes its output",
			hooks:   []specs.Hook{shHook("echo broken >&2; exit 3", 0), shHook("echo never >>"+out, 0)},
			wantErr: "exit status 3: broken",
		},
		{
			name:    "timeout kills the hook and its children",
			hooks:   []specs.Hook{shHook("sleep 30 & sleep 30", 1)},
			wantErr: "timed out after 1s",
		},
		{
			name:    "missing program",
			hooks:   []specs.Hook{{Path: filepath.Join(dir, "nope")}},
			wantErr: "no such file",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(out)
			start := time.Now()
			err := runHooks(spec.HookPoststart, tc.hooks, st)
			if time.Since(start) > 10*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("runHooks: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("runHooks: error %v, want one containing %q", err, tc.wantErr)
			}
			got, _ := os.ReadFile(out)
			if string(got) != tc.want {
				t.Errorf("output %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRunHooksState(t *testing.T) {
	out := filepath.Join(t.TempDir(), "state")
	st := specs.State{Version: specs.Version, ID: "c1", Status: specs.StateRunning, Pid: 42, Bundle: "/b",
		Annotations: map[string]string{"k": "v"}}
	if err := runHooks(spec.HookPoststart, []specs.Hook{shHook("cat >"+out, 5)}, st); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got specs.State
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("hook stdin %q: %v", data, err)
	}
	if got.ID != st.ID || got.Pid != st.Pid || got.Status != st.Status || got.Bundle != st.Bundle || got.Annotations["k"] != "v" {
		t.Errorf("hook got state %+v, want %+v", got, st)
	}
}

func TestRunHooksWarnRunsAll(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	hooks := []specs.Hook{shHook("exit 1", 0), shHook("echo second >>"+out, 0)}
	runHooksWarn(slog.New(slog.NewTextHandler(io.Discard, nil)), spec.HookPoststop, hooks, specs.State{ID: "c1"})
	if got, _ := os.ReadFile(out); string(got) != "second\n" {
		t.Errorf("after a failed hook the next wrote %q, want %q", got, "second\n")
	}
}
