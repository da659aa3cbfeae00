package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"moat/spec"
)

// Hooks are host programs the config asks the runtime to run at points
// of the life cycle, with the container's state as JSON on stdin. All of
// them run in the runtime's namespaces (createContainer too: the
// sandbox's namespaces hold only the sentry, nothing of the container a
// hook could act on); startContainer hooks are refused by spec.Validate.

// hookOutputMax bounds how much of a failed hook's output its error
// quotes.
const hookOutputMax = 4096

// runHooks runs the hooks of one kind in order, each with st on stdin,
// and stops at the first that fails.
func runHooks(kind spec.HookKind, hooks []specs.Hook, st specs.State) error {
	if len(hooks) == 0 {
		return nil
	}
	state, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("%s hooks of %q: state: %w", kind, st.ID, err)
	}
	for i, h := range hooks {
		if err := runHook(h, state); err != nil {
			return fmt.Errorf("%s hook %d (%s): %w", kind, i, h.Path, err)
		}
	}
	return nil
}

// runHooksWarn runs hooks whose failure the spec turns into a warning
// (poststart and poststop in runtime-spec 1.0): every hook runs, and a
// failed one is logged.
func runHooksWarn(log *slog.Logger, kind spec.HookKind, hooks []specs.Hook, st specs.State) {
	if len(hooks) == 0 {
		return
	}
	state, err := json.Marshal(st)
	if err != nil {
		log.Warn("hooks not run", "kind", kind, "id", st.ID, "err", err)
		return
	}
	for i, h := range hooks {
		if err := runHook(h, state); err != nil {
			log.Warn("hook failed", "kind", kind, "index", i, "path", h.Path, "id", st.ID, "err", err)
		}
	}
}

// runHook runs one hook with state on stdin and waits for it, at most
// h.Timeout seconds when set. The hook's stdout and stderr are captured
// and quoted in the error when it fails: moat's own streams may be the
// container's, which a hook must not write into.
func runHook(h specs.Hook, state []byte) error {
	ctx := context.Background()
	if h.Timeout != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, h.Path)
	if len(h.Args) > 0 {
		cmd.Args = h.Args
	}
	// The hook's environment is exactly h.Env, never moat's own.
	cmd.Env = append([]string{}, h.Env...)
	cmd.Stdin = bytes.NewReader(state)
	cmd.Stdout = &out
	cmd.Stderr = &out
	// Its own process group, so a timeout kills whatever the hook
	// started too: a shell's children would hold the output pipe open.
	cmd.SysProcAttr = &unix.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return unix.Kill(-cmd.Process.Pid, unix.SIGKILL) }
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %ds: %w", *h.Timeout, err)
	}
	if s := strings.TrimSpace(out.String()); s != "" {
		if len(s) > hookOutputMax {
			s = s[:hookOutputMax] + "..."
		}
		err = fmt.Errorf("%w: %s", err, s)
	}
	return err
}
