// Package spec reads OCI bundles and keeps container state on disk.
//
// Load reads a bundle's config.json (the opencontainers/runtime-spec
// types), validates what moat relies on with errors that name the field
// at fault, and fills in defaults. The state half (state.go) owns the
// --root directory: one directory per container ID holding state.json,
// written atomically, and a lock file.
package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ConfigName is the file name of a bundle's configuration.
const ConfigName = "config.json"

// DefaultPath is the PATH given to a process whose spec has none, the
// same as runc and Docker use.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Load reads, validates and defaults the config.json of bundle. On
// success Root.Path is absolute (resolved against the bundle), Process.Cwd
// is set and Process.Env holds a PATH.
func Load(bundle string) (*specs.Spec, error) {
	abs, err := BundleDir(bundle)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(abs, ConfigName))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("bundle %s: %s: no such file", abs, ConfigName)
		}
		return nil, fmt.Errorf("bundle %s: %w", abs, err)
	}
	s, err := Parse(data)
	if err != nil {
		return nil, err
	}
	if err := Validate(s, abs); err != nil {
		return nil, err
	}
	ApplyDefaults(s, abs)
	return s, nil
}

// BundleDir returns bundle as an absolute, existing directory, or an
// error naming it ("bundle /x: no such directory").
func BundleDir(bundle string) (string, error) {
	if bundle == "" {
		bundle = "."
	}
	abs, err := filepath.Abs(bundle)
	if err != nil {
		return "", fmt.Errorf("bundle %s: %w", bundle, err)
	}
	fi, err := os.Stat(abs)
	if err != nil || !fi.IsDir() {
		return "", fmt.Errorf("bundle %s: no such directory", abs)
	}
	return abs, nil
}

// Parse decodes config.json. A syntax error names its line, since that is
// what a person editing the file needs.
func Parse(data []byte) (*specs.Spec, error) {
	var s specs.Spec
	err := json.Unmarshal(data, &s)
	if err == nil {
		return &s, nil
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return nil, fmt.Errorf("%s: invalid JSON at line %d: %v", ConfigName, lineOf(data, syn.Offset), syn)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return nil, fmt.Errorf("%s: %s: expected %s, got %s at line %d", ConfigName, typ.Field, typ.Type, typ.Value, lineOf(data, typ.Offset))
	}
	return nil, fmt.Errorf("%s: %w", ConfigName, err)
}

// lineOf returns the 1-based line of byte offset off in data.
func lineOf(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// Validate checks the fields moat relies on. bundle is the absolute
// bundle directory a relative root.path is resolved against.
func Validate(s *specs.Spec, bundle string) error {
	if s.Version == "" {
		return fmt.Errorf("%s: ociVersion is empty", ConfigName)
	}
	if s.Root == nil || s.Root.Path == "" {
		return fmt.Errorf("%s: root.path is empty", ConfigName)
	}
	root := rootPath(s.Root.Path, bundle)
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s: root.path %q: no such directory", ConfigName, s.Root.Path)
	}
	p := s.Process
	if p == nil {
		return fmt.Errorf("%s: process is missing", ConfigName)
	}
	if len(p.Args) == 0 || p.Args[0] == "" {
		return fmt.Errorf("%s: process.args is empty", ConfigName)
	}
	if p.Cwd != "" && !filepath.IsAbs(p.Cwd) {
		return fmt.Errorf("%s: process.cwd %q is not an absolute path", ConfigName, p.Cwd)
	}
	for i, e := range p.Env {
		if !strings.Contains(e, "=") {
			return fmt.Errorf("%s: process.env[%d] %q is not KEY=VALUE", ConfigName, i, e)
		}
	}
	for i, m := range s.Mounts {
		if !filepath.IsAbs(m.Destination) {
			return fmt.Errorf("%s: mounts[%d].destination %q is not an absolute path", ConfigName, i, m.Destination)
		}
	}
	if err := validateHooks(s.Hooks); err != nil {
		return err
	}
	if s.Linux != nil {
		for i, ns := range s.Linux.Namespaces {
			if !knownNamespace(ns.Type) {
				return fmt.Errorf("%s: linux.namespaces[%d].type %q is unknown", ConfigName, i, ns.Type)
			}
			if ns.Path == "" {
				continue
			}
			if err := checkNamespacePath(ns); err != nil {
				return fmt.Errorf("%s: linux.namespaces[%d]: %w", ConfigName, i, err)
			}
		}
	}
	return nil
}

// knownNamespace reports whether t is a namespace type the spec defines.
func knownNamespace(t specs.LinuxNamespaceType) bool {
	switch t {
	case specs.PIDNamespace, specs.NetworkNamespace, specs.MountNamespace,
		specs.IPCNamespace, specs.UTSNamespace, specs.UserNamespace,
		specs.CgroupNamespace, specs.TimeNamespace:
		return true
	}
	return false
}

// rootPath resolves a root.path against the bundle directory.
func rootPath(p, bundle string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(bundle, p)
}

// ApplyDefaults resolves root.path and fills in what the spec lets a
// runtime default: cwd "/" and a PATH in the environment.
//
// Preconditions: Validate(s, bundle) returned nil.
func ApplyDefaults(s *specs.Spec, bundle string) {
	s.Root.Path = rootPath(s.Root.Path, bundle)
	if s.Process.Cwd == "" {
		s.Process.Cwd = "/"
	}
	for _, e := range s.Process.Env {
		if strings.HasPrefix(e, "PATH=") {
			return
		}
	}
	s.Process.Env = append(s.Process.Env, DefaultPath)
}

// NetworkNamespacePath returns the path of the network namespace the
// container must join (linux.namespaces[] of type network with a path),
// or "".
func NetworkNamespacePath(s *specs.Spec) string {
	if s.Linux == nil {
		return ""
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			return ns.Path
		}
	}
	return ""
}

// HasNewNetworkNamespace reports whether the spec asks for a network
// namespace of its own (one without a path to join).
func HasNewNetworkNamespace(s *specs.Spec) bool {
	if s.Linux == nil {
		return false
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace && ns.Path == "" {
			return true
		}
	}
	return false
}
