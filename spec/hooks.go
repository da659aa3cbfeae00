package spec

import (
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// HookKind names one of the lifecycle points of the spec's hooks.
type HookKind string

// The hook kinds, in the order the lifecycle runs them.
const (
	HookPrestart        HookKind = "prestart"
	HookCreateRuntime   HookKind = "createRuntime"
	HookCreateContainer HookKind = "createContainer"
	HookStartContainer  HookKind = "startContainer"
	HookPoststart       HookKind = "poststart"
	HookPoststop        HookKind = "poststop"
)

// HooksOf returns the hooks of one kind in h; h may be nil.
func HooksOf(h *specs.Hooks, kind HookKind) []specs.Hook {
	if h == nil {
		return nil
	}
	switch kind {
	case HookPrestart:
		return h.Prestart // deprecated by the spec, still run
	case HookCreateRuntime:
		return h.CreateRuntime
	case HookCreateContainer:
		return h.CreateContainer
	case HookStartContainer:
		return h.StartContainer
	case HookPoststart:
		return h.Poststart
	case HookPoststop:
		return h.Poststop
	}
	return nil
}

// allHookKinds lists every kind, in lifecycle order.
var allHookKinds = []HookKind{HookPrestart, HookCreateRuntime, HookCreateContainer, HookStartContainer, HookPoststart, HookPoststop}

// validateHooks checks what the spec requires of every hook: an absolute
// path and, when set, a positive timeout. startContainer hooks are
// refused: the spec runs them inside the container, with a path resolved
// there, and moat has no host namespace that is "inside" its sandbox;
// running a program of the container's root file system on the host
// instead would hand the container a way out.
func validateHooks(h *specs.Hooks) error {
	for _, kind := range allHookKinds {
		for i, hook := range HooksOf(h, kind) {
			if kind == HookStartContainer {
				return fmt.Errorf("%s: hooks.%s[%d] %q: startContainer hooks are not supported (they would run container files on the host)", ConfigName, kind, i, hook.Path)
			}
			if !filepath.IsAbs(hook.Path) {
				return fmt.Errorf("%s: hooks.%s[%d].path %q is not an absolute path", ConfigName, kind, i, hook.Path)
			}
			if hook.Timeout != nil && *hook.Timeout <= 0 {
				return fmt.Errorf("%s: hooks.%s[%d].timeout %d is not positive", ConfigName, kind, i, *hook.Timeout)
			}
		}
	}
	return nil
}
