package gofer

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// BindMount is one bind mount's source, opened on the host before the
// gofer confines itself, served beneath its own root by AttachMount.
type BindMount struct {
	dest     string
	readOnly bool
	// fd is an O_PATH descriptor of the source (a directory or a single
	// file). For a file, dirfd is an O_PATH descriptor of the directory
	// holding it and name its name there, so the file can be reopened
	// for I/O without resolving a path; dirfd is -1 for a directory.
	fd, dirfd int
	name      string
}

// ParseMountFlag parses the gofer's --mount flag, "DEST=SRC" or
// "DEST=SRC:ro". DEST is the path in the container, SRC the host path.
func ParseMountFlag(s string) (dest, src string, readOnly bool, err error) {
	dest, src, ok := strings.Cut(s, "=")
	if !ok || dest == "" || src == "" {
		return "", "", false, fmt.Errorf("gofer: --mount %q: want DEST=SRC[:ro]", s)
	}
	if rest, ok := strings.CutSuffix(src, ":ro"); ok {
		src, readOnly = rest, true
	} else if rest, ok := strings.CutSuffix(src, ":rw"); ok {
		src = rest
	}
	if !strings.HasPrefix(dest, "/") {
		return "", "", false, fmt.Errorf("gofer: --mount %q: destination must be absolute", s)
	}
	return path.Clean(dest), src, readOnly, nil
}

// OpenBindMount opens the source src of the bind mount at dest (in the
// container). It must run before Confine: src is a host path, resolved
// (symlinks included, as the host sees them) now and never again.
//
// Where the kernel allows (open_tree, Linux 5.2; mount_setattr, 5.12) the
// source is cloned into a detached mount of the gofer's own and that
// mount made nosuid, nodev, and read-only when readOnly: the kernel then
// refuses writes too, under the server's own EROFS, without touching the
// mount the source lives on (the root or another bind may share it).
func OpenBindMount(dest, src string, readOnly bool) (*BindMount, error) {
	abs, err := filepath.Abs(src)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return nil, fmt.Errorf("gofer: bind mount %s: source %q: %w", dest, src, err)
	}
	var st unix.Stat_t
	if err := unix.Stat(abs, &st); err != nil {
		return nil, fmt.Errorf("gofer: bind mount %s: source %q: %w", dest, abs, err)
	}
	b := &BindMount{dest: path.Clean(dest), readOnly: readOnly, fd: -1, dirfd: -1}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		b.fd, err = openTree(abs, readOnly, true)
		if err != nil {
			return nil, fmt.Errorf("gofer: bind mount %s: source %q: %w", dest, abs, err)
		}
		return b, nil
	}
	// A single file: hold its directory (never handed out as a FID) so
	// Open can reopen the file by name, as for every other file.
	dir, name := filepath.Split(abs)
	b.name = name
	b.dirfd, err = openTree(dir, readOnly, false)
	if err != nil {
		return nil, fmt.Errorf("gofer: bind mount %s: directory of %q: %w", dest, abs, err)
	}
	b.fd, err = unix.Openat(b.dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		_ = unix.Close(b.dirfd)
		return nil, fmt.Errorf("gofer: bind mount %s: source %q: %w", dest, abs, err)
	}
	return b, nil
}

// openTree returns an O_PATH descriptor of dir: a detached clone of its
// mount (recursive when rec) with the bind's attributes, or, where the
// kernel cannot clone mounts or the caller lacks the privilege, the
// directory itself.
func openTree(dir string, readOnly, rec bool) (int, error) {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	atRec := uint(0)
	if rec {
		atRec = unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, dir, flags|atRec)
	if err != nil {
		return unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if readOnly {
		attr.Attr_set |= unix.MOUNT_ATTR_RDONLY
	}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|atRec, &attr); err != nil && err != unix.ENOSYS {
		_ = unix.Close(fd)
		return -1, fmt.Errorf("setting mount attributes: %w", err)
	}
	return fd, nil
}

// Dest returns the bind mount's destination in the container.
func (b *BindMount) Dest() string { return b.dest }

// Close releases the descriptors.
func (b *BindMount) Close() {
	if b.fd >= 0 {
		_ = unix.Close(b.fd)
		b.fd = -1
	}
	if b.dirfd >= 0 {
		_ = unix.Close(b.dirfd)
		b.dirfd = -1
	}
}

// attachMount answers Tattachmount: a new FID on the root of the bind
// mount for req.name. For a single file the FID's node has a hidden
// parent (the file's directory) that no FID names.
func (s *server) attachMount(req *request) (reply, error) {
	if err := s.newFID(req.fid); err != nil {
		return reply{}, err
	}
	b, ok := s.mounts[path.Clean(req.name)]
	if !ok {
		return reply{}, unix.ENOENT
	}
	t := &tree{name: b.dest, readOnly: b.readOnly}
	var n *node
	if b.dirfd < 0 {
		fd, err := unix.Openat(b.fd, ".", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return reply{}, err
		}
		n = &node{fd: fd, refs: 1, tree: t}
	} else {
		dfd, err := unix.Openat(b.dirfd, ".", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return reply{}, err
		}
		fd, err := s.openBeneath(dfd, b.name, unix.O_PATH)
		if err != nil {
			_ = unix.Close(dfd)
			return reply{}, err
		}
		n = &node{fd: fd, parent: &node{fd: dfd, refs: 1, tree: t}, name: b.name, refs: 1, tree: t}
		// The file must still be the one opened before confinement.
		want, err1 := fstat(b.fd)
		got, err2 := fstat(fd)
		if err1 != nil || err2 != nil || want.Dev != got.Dev || want.Ino != got.Ino {
			release(n)
			return reply{}, unix.ESTALE
		}
	}
	a, err := fstat(n.fd)
	if err != nil {
		release(n)
		return reply{}, err
	}
	s.fids[req.fid] = n
	return reply{op: opRattachmount, attr: a}, nil
}
