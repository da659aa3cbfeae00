package kernel

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"moat/gofer"
	"moat/sentry/fs/goferfs"
	"moat/sentry/fs/overlay"
	"moat/sentry/fs/tmpfs"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// MountSpec is one mount of the container after its root, as
// config.json's mounts list has it.
type MountSpec struct {
	Destination string
	Type        string
	Source      string
	Options     []string
}

// FSFactory makes a file system the kernel package cannot import
// itself (sentry/fs/proc and the like import the kernel): cmd/moat
// registers one per mount type in Config.FSTypes. It runs once the
// Kernel exists, before any task.
type FSFactory func(k *Kernel, m MountSpec) (vfs.FilesystemImpl, error)

// buildRootVFS makes the sandbox's root mount: the gofer's tree,
// read-only with root.readonly, under an in-memory overlay with
// Config.RootOverlay (the host tree is then never written).
func buildRootVFS(cfg Config) (*vfs.VFS, error) {
	if cfg.Root == nil {
		return nil, errors.New("kernel config: no root file system (gofer client or VFS)")
	}
	// The bundle's own device nodes (a rootfs with a real /dev/null
	// and no /dev mount) open in the sentry's drivers.
	var root vfs.FilesystemImpl = goferfs.New(cfg.Root).SetDevices(cfg.Devices)
	opts := vfs.MountOptions{ReadOnly: cfg.RootReadonly, Type: "9p", Source: "moat-gofer"}
	if cfg.RootOverlay {
		ov, err := overlay.New(root, cfg.OverlayUpper)
		if err != nil {
			return nil, fmt.Errorf("root file system: %w", err)
		}
		root, opts.Type, opts.Source = ov, "overlay", "overlay"
	}
	v, err := vfs.New(root, opts)
	if err != nil {
		return nil, fmt.Errorf("root file system: %w", err)
	}
	return v, nil
}

// mountAll mounts Config.Mounts in order on k's tree, making missing
// mount points as runc does.
func (k *Kernel) mountAll() error {
	for _, m := range k.cfg.Mounts {
		if err := k.mountOne(m); err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.Type, m.Destination, err)
		}
	}
	return k.applyPathRules()
}

// mountFlags are the generic options of a mount.
type mountFlags struct {
	opts vfs.MountOptions
	bind bool
}

// parseMountFlags reads the generic mount options; file-system options
// (size=, mode=, ...) and ones without meaning here (propagation,
// atime flavours) are left to the file system or ignored.
func parseMountFlags(m MountSpec) mountFlags {
	f := mountFlags{opts: vfs.MountOptions{Type: m.Type, Source: m.Source}, bind: m.Type == "bind"}
	for _, o := range m.Options {
		switch o {
		case "ro":
			f.opts.ReadOnly = true
		case "rw":
			f.opts.ReadOnly = false
		case "nosuid":
			f.opts.NoSuid = true
		case "suid":
			f.opts.NoSuid = false
		case "nodev":
			f.opts.NoDev = true
		case "dev":
			f.opts.NoDev = false
		case "noexec":
			f.opts.NoExec = true
		case "exec":
			f.opts.NoExec = false
		case "bind", "rbind":
			f.bind = true
		}
	}
	if f.bind && f.opts.Type != "bind" {
		f.opts.Type = "bind"
	}
	return f
}

// mountOne mounts m.
func (k *Kernel) mountOne(m MountSpec) error {
	dest := path.Clean(m.Destination)
	if !path.IsAbs(dest) {
		return fmt.Errorf("destination %q is not absolute: %w", m.Destination, unix.EINVAL)
	}
	if dest == "/" {
		return fmt.Errorf("cannot mount over the root: %w", unix.EINVAL)
	}
	f := parseMountFlags(m)
	var fs vfs.FilesystemImpl
	isDir := true
	switch {
	case f.bind:
		a, err := k.bindAttr(dest)
		if err != nil {
			return err
		}
		b := goferfs.NewBind(k.cfg.Root, dest)
		if !f.opts.NoDev {
			b.SetDevices(k.cfg.Devices)
		}
		// A single file (Docker's /etc/hosts, resolv.conf, hostname)
		// mounts on a file, made empty where missing, as runc does.
		isDir = a.Mode&unix.S_IFMT == unix.S_IFDIR
		fs = b
	case m.Type == "tmpfs":
		o, err := tmpfs.ParseOptions(m.Options)
		if err != nil {
			return err
		}
		o.NoDev, o.Devices = f.opts.NoDev, k.cfg.Devices
		t := tmpfs.New(o)
		if dest == "/dev" {
			if err := populateDev(t.RootInode()); err != nil {
				return err
			}
			if err := makeDeviceNodes(t.RootInode(), k.cfg.DeviceNodes); err != nil {
				return err
			}
		}
		fs = t
	default:
		mk := k.cfg.FSTypes[m.Type]
		if mk == nil {
			return k.unsupportedMount(m, dest)
		}
		var err error
		if fs, err = mk(k, m); err != nil {
			return err
		}
	}
	at, err := k.mountPoint(dest, isDir)
	if err != nil {
		return err
	}
	return k.vfs.Mount(at, fs, f.opts)
}

// unsupportedMount decides what a mount of a type with no file system
// here becomes: mqueue and cgroup are left out quietly (programs cope
// with their absence), proc, sysfs and devpts with a warning, others are
// an error as runc's would be.
func (k *Kernel) unsupportedMount(m MountSpec, dest string) error {
	switch m.Type {
	case "mqueue", "cgroup", "cgroup2":
		k.log.Debug("mount skipped: type not provided in the sandbox", "type", m.Type, "destination", dest)
		return nil
	case "proc", "sysfs", "devpts":
		k.log.Warn("mount skipped: file system not available yet", "type", m.Type, "destination", dest)
		return nil
	}
	return fmt.Errorf("file system type %q not supported: %w", m.Type, unix.ENODEV)
}

// bindAttr asks the gofer for the bind mount's root, to know its type.
func (k *Kernel) bindAttr(dest string) (gofer.Attr, error) {
	fid, a, err := k.cfg.Root.AttachMount(dest)
	if err != nil {
		return gofer.Attr{}, fmt.Errorf("gofer bind mount: %w", err)
	}
	_ = k.cfg.Root.Clunk(fid)
	return a, nil
}

// mountPoint resolves dest in the tree, making missing directories
// (mode 0755, owned by root) where the file system can, and a missing
// last component as an empty file when the mount is not a directory
// (isDir false): runc creates missing mount points the same way.
func (k *Kernel) mountPoint(dest string, isDir bool) (vfs.Location, error) {
	c := &vfs.Creds{}
	root := k.vfs.Root()
	cur := root
	names := strings.Split(strings.TrimPrefix(dest, "/"), "/")
	for i, name := range names {
		next, err := k.vfs.LookupAt(c, root, cur, name, true)
		if err == unix.ENOENT {
			mk := makeDir
			if i == len(names)-1 && !isDir {
				mk = makeFile
			}
			if err := mk(cur.Inode(), name); err != nil {
				return vfs.Location{}, fmt.Errorf("mount point %s: making %q: %w", dest, name, err)
			}
			next, err = k.vfs.LookupAt(c, root, cur, name, true)
		}
		if err != nil {
			return vfs.Location{}, fmt.Errorf("mount point %s: %w", dest, err)
		}
		cur = next
	}
	if cur.IsDir() != isDir {
		// Linux refuses a directory on a file and a file on a
		// directory alike.
		return vfs.Location{}, fmt.Errorf("mount point %s: directory and non-directory mismatch: %w", dest, unix.ENOTDIR)
	}
	return cur, nil
}

// makeDir makes directory name in dir when its file system is
// writable (tmpfs, the overlay, a writable gofer root). A read-only
// root cannot get new mount points: EROFS, as runc would fail too.
func makeDir(dir vfs.Inode, name string) error {
	w, ok := dir.(vfs.WritableDir)
	if !ok {
		return unix.EROFS
	}
	return w.Mkdir(name, 0o755, vfs.Owner{})
}

// makeFile makes the empty regular file name in dir (mode 0755, as
// runc's), the mount point of a single-file bind mount.
func makeFile(dir vfs.Inode, name string) error {
	w, ok := dir.(vfs.WritableDir)
	if !ok {
		return unix.EROFS
	}
	in, f, err := w.Create(name, unix.O_RDONLY, 0o755, vfs.Owner{})
	if err != nil {
		return err
	}
	f.Release()
	in.Release()
	return nil
}

// makeDeviceNodes makes config.json's linux.devices in the /dev tmpfs d,
// with the directories their paths need; one that names a default node
// replaces it, as runc's mknod over the bind does.
func makeDeviceNodes(d *tmpfs.Inode, nodes []DeviceNode) error {
	for _, n := range nodes {
		dir := d
		parts := strings.Split(n.Path, "/")
		for _, name := range parts[:len(parts)-1] {
			sub, err := dir.LookupRaw(name)
			if err != nil {
				sub, err = dir.MakeNode(name, unix.S_IFDIR|0o755, 0, 0, 0)
			}
			if err != nil || !sub.IsDir() {
				return fmt.Errorf("linux.devices: /dev/%s: cannot make its directory %s", n.Path, name)
			}
			dir = sub
		}
		name := parts[len(parts)-1]
		if _, err := dir.LookupRaw(name); err == nil {
			if err := dir.RemoveName(name); err != nil {
				return fmt.Errorf("linux.devices: /dev/%s: %w", n.Path, err)
			}
		}
		if _, err := dir.MakeNode(name, n.Mode, n.Rdev, n.UID, n.GID); err != nil {
			return fmt.Errorf("linux.devices: /dev/%s: %w", n.Path, err)
		}
	}
	return nil
}

// populateDev fills a tmpfs mounted at /dev as runc does: the default
// device nodes, the /proc/self/fd links, and pts and shm directories
// for the mounts that usually follow.
func populateDev(d *tmpfs.Inode) error {
	devs := []struct {
		name         string
		major, minor uint32
	}{
		{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
		{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
	}
	for _, dv := range devs {
		if _, err := d.MakeNode(dv.name, unix.S_IFCHR|0o666, unix.Mkdev(dv.major, dv.minor), 0, 0); err != nil {
			return fmt.Errorf("/dev/%s: %w", dv.name, err)
		}
	}
	links := [][2]string{
		{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"},
		{"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
		{"ptmx", "pts/ptmx"},
	}
	for _, l := range links {
		if _, err := d.MakeSymlink(l[0], l[1], 0, 0); err != nil {
			return fmt.Errorf("/dev/%s: %w", l[0], err)
		}
	}
	if _, err := d.MakeNode("pts", unix.S_IFDIR|0o755, 0, 0, 0); err != nil {
		return fmt.Errorf("/dev/pts: %w", err)
	}
	if _, err := d.MakeNode("shm", unix.S_IFDIR|0o1777, 0, 0, 0); err != nil {
		return fmt.Errorf("/dev/shm: %w", err)
	}
	return nil
}
