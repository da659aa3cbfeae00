package spec

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// nsGetNstype is NS_GET_NSTYPE from <linux/nsfs.h>, _IO(0xb7, 0x3): the
// ioctl on a namespace file that returns its CLONE_NEW* type (Linux
// 4.11). x/sys/unix does not define it; _IO encodes the same on every
// architecture moat builds for.
const nsGetNstype = 0xb703

// cloneFlagOf maps a namespace type of the spec to its CLONE_NEW* flag.
var cloneFlagOf = map[specs.LinuxNamespaceType]int{
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
	specs.TimeNamespace:    unix.CLONE_NEWTIME,
}

// checkNamespacePath checks that the namespace file at ns.Path is a
// namespace of type ns.Type: the spec requires an error otherwise
// ("the runtime MUST generate an error" for a path that is not a
// namespace of the given type).
func checkNamespacePath(ns specs.LinuxNamespace) error {
	fd, err := unix.Open(ns.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("namespace path %q: %w", ns.Path, err)
	}
	defer unix.Close(fd)
	got, err := unix.IoctlRetInt(fd, nsGetNstype)
	if err != nil {
		// ENOTTY: not a namespace file at all.
		return fmt.Errorf("namespace path %q: not a namespace: %w", ns.Path, err)
	}
	if want := cloneFlagOf[ns.Type]; got != want {
		return fmt.Errorf("namespace path %q: not a %s namespace", ns.Path, ns.Type)
	}
	return nil
}
