package gofer

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// KeptCapabilities are the capabilities the confined gofer keeps: it
// reads every file of the tree whatever its owner and mode (the sentry
// enforces the application's permissions), and O_NOATIME needs
// CAP_FOWNER on files it does not own.
var KeptCapabilities = []uintptr{unix.CAP_DAC_OVERRIDE, unix.CAP_DAC_READ_SEARCH, unix.CAP_FOWNER}

// WritableCapabilities are what a gofer serving a writable tree keeps on
// top of KeptCapabilities: CAP_CHOWN to give files it creates the
// application's owner (and to carry out the chown the sentry allowed),
// CAP_FSETID so chmod keeps set-group-ID bits on files whose group the
// gofer is not in. (CAP_FOWNER already covers chmod and utimes of files
// it does not own; linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH.)
var WritableCapabilities = []uintptr{unix.CAP_CHOWN, unix.CAP_FSETID}

// capabilities returns the capabilities a gofer keeps.
func capabilities(writable bool) []uintptr {
	caps := append([]uintptr(nil), KeptCapabilities...)
	if writable {
		caps = append(caps, WritableCapabilities...)
	}
	return caps
}

// Confine shuts the calling gofer process into root and installs its
// seccomp filter. The process must have been started in a mount namespace
// of its own (CLONE_NEWNS) and as root; Confine refuses to run in the
// namespace of PID 1, where it would change the host's mounts.
//
// In order: mounts private (so nothing propagates back to the host),
// root bind-mounted onto itself and pivot_root'ed into, the old root
// detached; /proc and /sys hidden if they are mounts of the new root
// (serving the host "/" for `moat do`); every mount made read-only,
// nosuid and nodev; cwd "/"; capabilities cut to KeptCapabilities;
// no_new_privs; the filter from package gofer/filter.
//
// readOnly is the root's flag; mounts are the bind mounts the gofer will
// serve (opened already): when the root or any of them is writable, the
// gofer keeps WritableCapabilities and the filter's write calls, since
// a read-only root with a read-write bind mount (a common OCI layout)
// writes through the bind.
//
// Root "/" cannot be pivoted into (it is already the root), so then the
// gofer's root stays the host's "/" in its private namespace, with the
// other walls the same.
//
// Confine locks the calling goroutine to its OS thread for good, and
// Serve must run on that goroutine: capabilities are per thread in Linux
// and Go cannot change those of the runtime's other threads, so only
// this thread has them cut. The other threads keep theirs but run only
// the runtime, under the same seccomp filter (installed on all threads),
// which refuses every call where a capability would matter.
func Confine(root string, readOnly bool, mounts []*BindMount) error {
	writes := !readOnly
	for _, m := range mounts {
		writes = writes || !m.readOnly
	}
	runtime.LockOSThread()
	if err := checkOwnMountNS(); err != nil {
		return err
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return fmt.Errorf("gofer: root %q: %w", root, err)
	}
	// The host-side path of the rootfs may go through symlinks (the
	// bundle's config names it): resolve them now, while they are the
	// host's.
	abs, err = filepath.EvalSymlinks(abs)
	if err != nil {
		return fmt.Errorf("gofer: root %q: %w", root, err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("gofer: making mounts private: %w", err)
	}
	if abs != "/" {
		if err := pivotInto(abs); err != nil {
			return err
		}
	}
	for _, m := range []string{"/proc", "/sys"} {
		// EINVAL: not a mount point; ENOENT: not there. Both fine.
		err := unix.Unmount(m, unix.MNT_DETACH)
		if err != nil && err != unix.EINVAL && err != unix.ENOENT {
			return fmt.Errorf("gofer: hiding %s: %w", m, err)
		}
	}
	if err := lockMounts(readOnly); err != nil {
		return err
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("gofer: chdir /: %w", err)
	}
	// The served tree carries the sentry's umask-applied modes as they
	// are; umask is set now, as the filter may refuse it later.
	unix.Umask(0)
	if err := dropCapabilities(capabilities(writes)); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("gofer: no_new_privs: %w", err)
	}
	return installFilter(writes)
}

// checkOwnMountNS refuses to touch mounts in the namespace of the process
// that started the gofer: Confine makes mounts private and unmounts, which
// done in the host's namespace would damage the host (the gofer's real
// starter, the sentry, always uses CLONE_NEWNS). It fails closed: a
// namespace it cannot compare counts as shared. (PID 1's namespace is no
// good reference: /proc/1 may be unreadable, and the starter may itself
// live in a namespace of its own that must not be damaged either.)
func checkOwnMountNS() error {
	var self, parent unix.Stat_t
	if err := unix.Stat("/proc/self/ns/mnt", &self); err != nil {
		return fmt.Errorf("gofer: reading own mount namespace: %w", err)
	}
	ppid := unix.Getppid()
	if err := unix.Stat(fmt.Sprintf("/proc/%d/ns/mnt", ppid), &parent); err != nil {
		return fmt.Errorf("gofer: reading the mount namespace of parent %d: %w", ppid, err)
	}
	if self.Ino == parent.Ino && self.Dev == parent.Dev {
		return errors.New("gofer: Confine must run in a mount namespace of its own (start the gofer with CLONE_NEWNS)")
	}
	return nil
}

// pivotInto makes dir the root of the mount namespace and detaches the
// old root, so no path, ".." or symlink can name a host file again.
// pivot_root(".", ".") stacks the old root on top of the new one; the
// lazy unmount of "." then removes it.
//
// The fs struct (root, cwd) is shared by all threads of a Go process
// (the runtime clones threads with CLONE_FS), and pivot_root moves the
// root and cwd of every task that used the old root, so the whole gofer
// moves, not just this thread.
func pivotInto(dir string) error {
	if err := unix.Mount(dir, dir, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("gofer: bind-mounting root %q: %w", dir, err)
	}
	if err := unix.Chdir(dir); err != nil {
		return fmt.Errorf("gofer: chdir root %q: %w", dir, err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("gofer: pivot_root into %q: %w", dir, err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("gofer: detaching old root: %w", err)
	}
	return nil
}

// lockMounts makes every mount under the new root nosuid and nodev, and
// read-only when readOnly: a wall under the server's own refusal of
// writes and devices. noexec is not set: the sentry maps executables
// from the descriptors the gofer hands out.
func lockMounts(readOnly bool) error {
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_NOSUID | unix.MS_NODEV)
	if readOnly {
		attr.Attr_set |= unix.MOUNT_ATTR_RDONLY
		flags |= unix.MS_RDONLY
	}
	err := unix.MountSetattr(unix.AT_FDCWD, "/", unix.AT_RECURSIVE, &attr)
	if err == nil {
		return nil
	}
	if err != unix.ENOSYS {
		return fmt.Errorf("gofer: setting mount attributes: %w", err)
	}
	// Before Linux 5.12: the top mount only.
	if err := unix.Mount("", "/", "", flags, ""); err != nil {
		return fmt.Errorf("gofer: remounting /: %w", err)
	}
	return nil
}

// dropCapabilities cuts the bounding, ambient and inheritable sets to
// nothing but kept, and the effective and permitted sets of the calling
// thread to kept.
func dropCapabilities(kept []uintptr) error {
	keep := map[uintptr]bool{}
	for _, c := range kept {
		keep[c] = true
	}
	for c := uintptr(0); c <= 63; c++ {
		if keep[c] {
			continue
		}
		err := unix.Prctl(unix.PR_CAPBSET_DROP, c, 0, 0, 0)
		if err == unix.EINVAL {
			break // past the kernel's last capability
		}
		if err != nil {
			return fmt.Errorf("gofer: dropping capability %d from the bounding set: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && err != unix.EINVAL {
		return fmt.Errorf("gofer: clearing ambient capabilities: %w", err)
	}
	var data [2]unix.CapUserData
	for _, c := range kept {
		data[c/32].Effective |= 1 << (c % 32)
		data[c/32].Permitted |= 1 << (c % 32)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("gofer: capset: %w", err)
	}
	return nil
}
