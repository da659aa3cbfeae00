package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// makeMountPoints creates, in the bundle's rootfs on the host, the mount
// points config.json names that are missing, as runc does before it
// makes the root read-only. It is needed only when the root is served
// read-only without the overlay: otherwise the sentry makes missing
// mount points itself, through the gofer or in the overlay's memory (and
// the overlay promises to leave the rootfs untouched).
//
// A mount point is a directory, or an empty file when a bind mount's
// source is not a directory. Every component is resolved inside the
// rootfs (openat2 RESOLVE_IN_ROOT), so a symlink in an untrusted image
// cannot make this create anything outside it.
func makeMountPoints(s *specs.Spec, bundle string) error {
	overlay, _, err := rootOverlay(s)
	if err != nil || overlay || s.Root == nil || !s.Root.Readonly {
		return err
	}
	root, err := unix.Open(s.Root.Path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("root.path %q: %w", s.Root.Path, err)
	}
	defer unix.Close(root)
	var earlier []string
	for _, m := range s.Mounts {
		dest := filepath.Clean("/" + m.Destination)
		under := underAny(dest, earlier)
		earlier = append(earlier, dest)
		if under {
			// Inside an earlier mount, not the rootfs: the sentry
			// makes it there (a tmpfs, a writable bind).
			continue
		}
		file := false
		if isBind(m) {
			src := m.Source
			if !filepath.IsAbs(src) {
				src = filepath.Join(bundle, src)
			}
			if fi, err := os.Stat(src); err == nil && !fi.IsDir() {
				file = true
			}
		}
		err := makeMountPoint(root, dest, file)
		if errors.Is(err, unix.EROFS) {
			// The rootfs itself is read-only on the host: nothing to
			// do but let the sentry say which mount point is missing.
			continue
		}
		if err != nil {
			return fmt.Errorf("mount point %s: %w", m.Destination, err)
		}
	}
	return nil
}

// makeMountPoint creates dest below root, one missing component at a
// time: directories, and a file for the last one when file is set.
func makeMountPoint(root int, dest string, file bool) error {
	parts := strings.Split(strings.Trim(filepath.Clean("/"+dest), "/"), "/")
	if len(parts) == 1 && parts[0] == "" {
		return nil // the root itself
	}
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	for i, name := range parts {
		fd, err := unix.Openat2(root, strings.Join(parts[:i+1], "/"), &how)
		if err == nil {
			unix.Close(fd)
			continue
		}
		if !errors.Is(err, unix.ENOENT) {
			return err
		}
		parentPath := "."
		if i > 0 {
			parentPath = strings.Join(parts[:i], "/")
		}
		dirHow := how
		dirHow.Flags |= unix.O_DIRECTORY
		parent, err := unix.Openat2(root, parentPath, &dirHow)
		if err != nil {
			return err
		}
		if i == len(parts)-1 && file {
			var fd int
			fd, err = unix.Openat(parent, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o755)
			if err == nil {
				unix.Close(fd)
			}
		} else {
			err = unix.Mkdirat(parent, name, 0o755)
		}
		unix.Close(parent)
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return err
		}
	}
	return nil
}

// underAny reports whether dest lies strictly below one of dirs.
func underAny(dest string, dirs []string) bool {
	for _, d := range dirs {
		if d == "/" || strings.HasPrefix(dest, d+"/") {
			return true
		}
	}
	return false
}
