package kernel

import (
	"fmt"
	"path"

	"moat/sentry/fs/tmpfs"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// applyPathRules applies config.json's linux.maskedPaths and
// linux.readonlyPaths once the mounts are made, as runc does: a masked
// directory gets an empty read-only tmpfs over it, any other masked file
// a read-only /dev/null (character device 1:3, which opens the null
// driver), and a read-only path is bound on itself read-only (not
// recursively). A path that does not exist is skipped, as runc skips it;
// a relative one, or one that does not resolve for another reason (a
// symlink loop), fails the sandbox's creation.
func (k *Kernel) applyPathRules() error {
	for _, p := range k.cfg.MaskedPaths {
		if err := k.maskPath(p); err != nil {
			return fmt.Errorf("linux.maskedPaths %q: %w", p, err)
		}
	}
	for _, p := range k.cfg.ReadonlyPaths {
		if err := k.readonlyPath(p); err != nil {
			return fmt.Errorf("linux.readonlyPaths %q: %w", p, err)
		}
	}
	return nil
}

// resolveRule finds p in the mount tree, following symlinks as mount(2)
// does for its target; ok is false when p does not exist.
func (k *Kernel) resolveRule(p string) (loc vfs.Location, ok bool, err error) {
	if !path.IsAbs(p) {
		return vfs.Location{}, false, fmt.Errorf("not an absolute path: %w", unix.EINVAL)
	}
	root := k.vfs.Root()
	loc, err = k.vfs.LookupAt(&vfs.Creds{}, root, root, p, true)
	if err == unix.ENOENT || err == unix.ENOTDIR {
		return vfs.Location{}, false, nil
	}
	if err != nil {
		return vfs.Location{}, false, err
	}
	return loc, true, nil
}

func (k *Kernel) maskPath(p string) error {
	at, ok, err := k.resolveRule(p)
	if err != nil || !ok {
		return err
	}
	opts := vfs.MountOptions{ReadOnly: true, Type: "tmpfs", Source: "tmpfs"}
	if at.IsDir() {
		return k.vfs.Mount(at, tmpfs.New(tmpfs.Options{Mode: 0o755}), opts)
	}
	null := tmpfs.NewNode(tmpfs.Options{Devices: k.cfg.Devices}, unix.S_IFCHR|0o666, unix.Mkdev(1, 3))
	opts.Type, opts.Source = "devtmpfs", "/dev/null"
	return k.vfs.Mount(at, null, opts)
}

func (k *Kernel) readonlyPath(p string) error {
	at, ok, err := k.resolveRule(p)
	if err != nil || !ok {
		return err
	}
	opts := at.Mount().Options()
	opts.ReadOnly = true
	return k.vfs.BindMount(at, at, opts)
}
