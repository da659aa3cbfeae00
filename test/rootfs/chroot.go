package rootfs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"moat/test/harness"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Chroot runs s.Process.Args the way a container runtime built on the host
// kernel would run them: under chroot into s.Root.Path, in new mount, PID,
// IPC and UTS namespaces (so the command is PID 1, as in a sandbox), with
// s.Mounts mounted under the root in the spec's order, the root made
// read-only after them when s.Root.Readonly (runc's order), s.Hostname set,
// and exactly s.Process.Env as the environment. It is the oracle moat's
// `run` of the same spec is compared with.
//
// Supported mounts: proc, sysfs, devpts, mqueue, tmpfs (a tmpfs at /dev is
// given the OCI default devices and links, as runc does), and bind mounts
// (type "bind" or "none" with a "bind"/"rbind" option; "ro", "nosuid",
// "nodev", "noexec" applied by a remount). The mounts live in the private
// mount namespace only: the host's view of the tree never changes.
//
// Limits: the process runs as root (process.user must be 0:0 with no
// additional groups), rlimits and capabilities are the caller's, and a
// mount destination must not pass through a symlink in the rootfs (the
// host would follow it outside the root).
//
// Preconditions: s.Root.Path is absolute (spec.ApplyDefaults resolves it).
func Chroot(s *specs.Spec, o harness.Opts) harness.Result {
	script, args, err := chrootScript(s)
	if err != nil {
		return harness.Result{Exit: -1, Err: err}
	}
	unshare := []string{
		"--mount", "--propagation", "private", "--pid", "--fork", "--kill-child",
		"--ipc", "--uts", "--", "/bin/sh", "-c", script, "moat-chroot",
	}
	return harness.Run(o, "unshare", append(unshare, args...)...)
}

// chrootScript returns the shell script Chroot runs inside the new
// namespaces and its positional arguments (the process's argv).
func chrootScript(s *specs.Spec) (string, []string, error) {
	if s.Root == nil || !filepath.IsAbs(s.Root.Path) {
		return "", nil, errors.New("chroot: root.path must be an absolute path")
	}
	p := s.Process
	if p == nil || len(p.Args) == 0 {
		return "", nil, errors.New("chroot: process.args is empty")
	}
	if p.User.UID != 0 || p.User.GID != 0 || len(p.User.AdditionalGids) != 0 {
		return "", nil, fmt.Errorf("chroot: process.user %d:%d%v is not supported (root only)", p.User.UID, p.User.GID, p.User.AdditionalGids)
	}
	root := filepath.Clean(s.Root.Path)
	var b strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	line("set -e")
	// A mount of the root on itself, so that it can be made read-only
	// without touching the host's mount of the tree.
	line("mount --bind %s %s", q(root), q(root))
	for i, m := range s.Mounts {
		dest, err := mountPoint(root, m.Destination)
		if err != nil {
			return "", nil, fmt.Errorf("chroot: mounts[%d]: %w", i, err)
		}
		if err := mountCommands(line, m, dest); err != nil {
			return "", nil, fmt.Errorf("chroot: mounts[%d] (%s): %w", i, m.Destination, err)
		}
	}
	if s.Root.Readonly {
		line("mount -o remount,bind,ro %s", q(root))
	}
	if s.Hostname != "" {
		line("printf %%s %s > /proc/sys/kernel/hostname", q(s.Hostname))
	}
	umask := uint32(0o022)
	if p.User.Umask != nil {
		umask = *p.User.Umask
	}
	line("umask %04o", umask)
	// env -i runs chroot with the process's PATH, which is the container's:
	// name the host's chroot by its path.
	chroot, err := exec.LookPath("chroot")
	if err != nil {
		return "", nil, fmt.Errorf("chroot: %w", err)
	}
	env := "env -i"
	for _, e := range p.Env {
		env += " " + q(e)
	}
	cwd := p.Cwd
	if cwd == "" || filepath.Clean(cwd) == "/" {
		// chroot(8) itself changes to the new root.
		line(`exec %s %s %s "$@"`, env, q(chroot), q(root))
		return b.String(), p.Args, nil
	}
	// Change directory inside the new root with its own shell, which
	// then replaces itself with the command.
	line(`exec %s %s %s /bin/sh -c 'cd "$1" && shift && exec "$@"' moat-cwd %s "$@"`, env, q(chroot), q(root), q(cwd))
	return b.String(), p.Args, nil
}

// mountPoint returns the host path of dest under root, refusing one that
// passes through a symlink of the rootfs or leaves it by "..".
func mountPoint(root, dest string) (string, error) {
	if !filepath.IsAbs(dest) {
		return "", fmt.Errorf("destination %q is not absolute", dest)
	}
	clean := filepath.Clean(dest)
	if clean == "/" {
		return "", errors.New("a mount over the root is not supported")
	}
	p := root
	for _, c := range strings.Split(strings.TrimPrefix(clean, "/"), "/") {
		p = filepath.Join(p, c)
		fi, err := os.Lstat(p)
		if errors.Is(err, os.ErrNotExist) {
			break // created by mkdir -p below; nothing further can be a link
		}
		if err != nil {
			return "", fmt.Errorf("destination %q: %w", dest, err)
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return "", fmt.Errorf("destination %q passes through the symlink %s", dest, p)
		}
	}
	return filepath.Join(root, clean), nil
}

// mountCommands emits the commands mounting m at dest.
func mountCommands(line func(string, ...any), m specs.Mount, dest string) error {
	var bind, rbind bool
	var flags, data []string
	for _, o := range m.Options {
		switch o {
		case "bind":
			bind = true
		case "rbind":
			rbind = true
		case "ro", "rw", "nosuid", "nodev", "noexec", "suid", "dev", "exec",
			"relatime", "norelatime", "strictatime", "noatime", "nodiratime":
			flags = append(flags, o)
		case "private", "rprivate", "slave", "rslave", "shared", "rshared":
			// The whole namespace is private already.
		default:
			data = append(data, o)
		}
	}
	if bind || rbind || m.Type == "bind" {
		if m.Source == "" || !filepath.IsAbs(m.Source) {
			return fmt.Errorf("bind mount source %q is not an absolute path", m.Source)
		}
		fi, err := os.Stat(m.Source)
		if err != nil {
			return fmt.Errorf("bind mount source: %w", err)
		}
		if fi.IsDir() {
			line("[ -d %s ] || mkdir -p %s", q(dest), q(dest))
		} else {
			line("[ -e %s ] || { mkdir -p %s && : > %s; }", q(dest), q(filepath.Dir(dest)), q(dest))
		}
		verb := "--bind"
		if rbind {
			verb = "--rbind"
		}
		line("mount %s %s %s", verb, q(m.Source), q(dest))
		if len(flags) > 0 {
			line("mount -o %s %s", q("remount,bind,"+strings.Join(flags, ",")), q(dest))
		}
		return nil
	}
	switch m.Type {
	case "proc", "sysfs", "devpts", "mqueue", "tmpfs":
	default:
		return fmt.Errorf("mount type %q is not supported", m.Type)
	}
	src := m.Source
	if src == "" {
		src = m.Type
	}
	line("[ -d %s ] || mkdir -p %s", q(dest), q(dest))
	opts := strings.Join(append(flags, data...), ",")
	if opts == "" {
		line("mount -t %s %s %s", m.Type, q(src), q(dest))
	} else {
		line("mount -t %s -o %s %s %s", m.Type, q(opts), q(src), q(dest))
	}
	if m.Type == "tmpfs" && filepath.Base(dest) == "dev" && filepath.Clean(m.Destination) == "/dev" {
		defaultDevices(line, dest)
	}
	return nil
}

// defaultDevices fills a fresh /dev the way the runtime spec says a
// runtime must: the six default character devices and the standard links.
func defaultDevices(line func(string, ...any), dev string) {
	for _, d := range []struct {
		name         string
		major, minor int
	}{
		{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
		{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
	} {
		line("mknod -m 0666 %s c %d %d", q(filepath.Join(dev, d.name)), d.major, d.minor)
	}
	for _, l := range [][2]string{
		{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
		{"pts/ptmx", "ptmx"},
	} {
		line("ln -s %s %s", q(l[0]), q(filepath.Join(dev, l[1])))
	}
	line("mkdir -p %s %s", q(filepath.Join(dev, "pts")), q(filepath.Join(dev, "shm")))
}

// q quotes s for the shell.
func q(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
