package main

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"moat/sentry/fs/dev"
	"moat/sentry/fs/mqueue"
	"moat/sentry/fs/proc"
	"moat/sentry/fs/sys"
	"moat/sentry/fs/tmpfs"
	"moat/sentry/kernel"
	"moat/sentry/kernel/mq"
	"moat/sentry/vfs"
)

// The config.json annotation that keeps the root's writes in memory: an
// overlay whose upper layer is a tmpfs in the sentry, so the bundle's
// rootfs is never written. `moat do` sets it.
const (
	overlayAnnotation = "dev.moat.overlay"
	overlayMemory     = "memory"
	// overlaySizeAnnotation optionally limits the overlay's memory, as
	// tmpfs's size= ("512m", "25%"); the default is tmpfs's, half of
	// the host's memory.
	overlaySizeAnnotation = "dev.moat.overlay.size"
)

// rootOverlay reports whether s asks for the in-memory overlay, and
// with which upper-layer limits.
func rootOverlay(s *specs.Spec) (bool, tmpfs.Options, error) {
	v, ok := s.Annotations[overlayAnnotation]
	if !ok || v == "" || v == "none" {
		return false, tmpfs.Options{}, nil
	}
	if v != overlayMemory {
		return false, tmpfs.Options{}, fmt.Errorf("annotation %s=%q: the only kind is %q", overlayAnnotation, v, overlayMemory)
	}
	var opts []string
	if size := s.Annotations[overlaySizeAnnotation]; size != "" {
		opts = append(opts, "size="+size)
	}
	o, err := tmpfs.ParseOptions(opts)
	if err != nil {
		return false, tmpfs.Options{}, fmt.Errorf("annotation %s: %w", overlaySizeAnnotation, err)
	}
	return true, o, nil
}

// isBind reports whether m is a bind mount (type "bind", or any type
// with the bind or rbind option, as runc reads it).
func isBind(m specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

// kernelMounts turns the spec's mounts into the kernel's list.
func kernelMounts(s *specs.Spec) []kernel.MountSpec {
	out := make([]kernel.MountSpec, 0, len(s.Mounts))
	for _, m := range s.Mounts {
		out = append(out, kernel.MountSpec{Destination: m.Destination, Type: m.Type, Source: m.Source, Options: m.Options})
	}
	return out
}

// goferMountArgs are the gofer's --mount flags for the spec's bind
// mounts (DEST=SRC, ":ro" for read-only ones). A relative source is
// relative to the bundle, as the runtime spec says.
func goferMountArgs(s *specs.Spec, bundle string) []string {
	var args []string
	for _, m := range s.Mounts {
		if !isBind(m) {
			continue
		}
		src := m.Source
		if !filepath.IsAbs(src) {
			src = filepath.Join(bundle, src)
		}
		v := filepath.Clean(m.Destination) + "=" + src
		for _, o := range m.Options {
			if o == "ro" {
				v += ":ro"
				break
			}
		}
		args = append(args, "--mount", v)
	}
	return args
}

// goferRootArgs are the gofer's flags about its root: --writable only
// when root.readonly is false and no overlay keeps the writes in the
// sentry (the gofer then refuses writes too, should the sentry be
// subverted).
func goferRootArgs(s *specs.Spec) []string {
	overlay, _, _ := rootOverlay(s)
	if s.Root != nil && !s.Root.Readonly && !overlay {
		return []string{"--writable"}
	}
	return nil
}

// fsTypes are the file systems the kernel mounts from cmd's side
// (proc imports the kernel, so it cannot make it itself; sysfs and
// devpts are here with it). proc is mounted with the spec's flags:
// without "ro" it is writable in the VFS sense, so /proc/self/comm and
// the like take writes as on Linux. Each devpts mount is a new instance
// (newinstance) whose ptmx makes pseudo-terminal pairs.
func fsTypes() map[string]kernel.FSFactory {
	return map[string]kernel.FSFactory{
		"proc": func(k *kernel.Kernel, _ kernel.MountSpec) (vfs.FilesystemImpl, error) {
			return proc.New(k), nil
		},
		"sysfs": func(k *kernel.Kernel, _ kernel.MountSpec) (vfs.FilesystemImpl, error) {
			return sys.New(k.NumCPU()), nil
		},
		"devpts": func(_ *kernel.Kernel, m kernel.MountSpec) (vfs.FilesystemImpl, error) {
			return dev.NewPts(m.Options)
		},
		// mqueue shows the sandbox's POSIX message queues (one IPC
		// namespace per sandbox: every mount shows the same queues).
		"mqueue": func(k *kernel.Kernel, _ kernel.MountSpec) (vfs.FilesystemImpl, error) {
			return mqueue.New(mq.For(k)), nil
		},
	}
}

// mountConfig fills the kernel config's root and mount fields from s.
func mountConfig(cfg *kernel.Config, s *specs.Spec) error {
	overlay, upper, err := rootOverlay(s)
	if err != nil {
		return err
	}
	cfg.RootReadonly = s.Root != nil && s.Root.Readonly
	cfg.RootOverlay, cfg.OverlayUpper = overlay, upper
	cfg.Mounts = kernelMounts(s)
	cfg.FSTypes = fsTypes()
	// Device nodes, in a tmpfs /dev as in the bundle's own tree, open
	// in the sentry's drivers.
	cfg.Devices = dev.Drivers{}
	if s.Linux != nil {
		cfg.MaskedPaths, cfg.ReadonlyPaths = s.Linux.MaskedPaths, s.Linux.ReadonlyPaths
	}
	cfg.DeviceNodes, err = deviceNodes(s)
	return err
}

// deviceNodes converts config.json's linux.devices to the nodes the
// kernel makes in /dev: type c, u (both character), b or p, the given
// file mode (0666 when absent, as runc), owner and device numbers.
// Opening one reaches the sentry's drivers, which know the default
// devices only; the others exist, stat as asked, and open with ENXIO.
func deviceNodes(s *specs.Spec) ([]kernel.DeviceNode, error) {
	if s.Linux == nil {
		return nil, nil
	}
	var nodes []kernel.DeviceNode
	for i, d := range s.Linux.Devices {
		rel, ok := strings.CutPrefix(path.Clean(d.Path), "/dev/")
		if !path.IsAbs(d.Path) || !ok || rel == "" {
			return nil, fmt.Errorf("config.json: linux.devices[%d].path %q: only paths under /dev are supported", i, d.Path)
		}
		var typ uint32
		switch d.Type {
		case "c", "u":
			typ = unix.S_IFCHR
		case "b":
			typ = unix.S_IFBLK
		case "p":
			typ = unix.S_IFIFO
		default:
			return nil, fmt.Errorf("config.json: linux.devices[%d].type %q: not c, u, b or p", i, d.Type)
		}
		perm := uint32(0o666)
		if d.FileMode != nil {
			perm = uint32(*d.FileMode) & 0o7777
		}
		n := kernel.DeviceNode{Path: rel, Mode: typ | perm, Rdev: unix.Mkdev(uint32(d.Major), uint32(d.Minor))}
		if d.UID != nil {
			n.UID = *d.UID
		}
		if d.GID != nil {
			n.GID = *d.GID
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}
