package kernel

import (
	"slices"

	"moat/sentry/vfs"
)

// Credentials are a task's user and group IDs and capabilities. A
// Credentials value is never changed once a task uses it: a set*id call
// installs a new one (see creds_set.go), so readers need no lock beyond
// loading the pointer.
type Credentials struct {
	RealUID, EffectiveUID, SavedUID, FSUID uint32
	RealGID, EffectiveGID, SavedGID, FSGID uint32
	Groups                                 []uint32
	// Capability sets, one bit per CAP_* number. The model is simple:
	// uid 0 starts with every capability, others with none; the usual
	// set*id rules move them (see fixCaps) and capset only drops.
	Effective, Permitted, Inheritable CapSet
	// fs is what vfs permission checks use (fsuid, fsgid, groups).
	fs vfs.Creds
}

// CapSet is a set of capabilities, bit n for CAP_* number n.
type CapSet uint64

// Capabilities the sentry checks (linux/capability.h).
const (
	CapChown          = 0
	CapDACOverride    = 1
	CapDACReadSearch  = 2
	CapFowner         = 3
	CapFsetid         = 4
	CapKill           = 5
	CapSetgid         = 6
	CapSetuid         = 7
	CapSetpcap        = 8
	CapSysAdmin       = 21
	CapSysResource    = 24
	CapMknod          = 27
	CapLinuxImmutable = 9
	// CapLast is CAP_LAST_CAP of the Linux the surface is modelled on
	// (6.1: CAP_CHECKPOINT_RESTORE).
	CapLast = 40
)

// AllCaps is every capability up to CapLast.
const AllCaps CapSet = 1<<(CapLast+1) - 1

// capFSMask are the capabilities that follow the fsuid (CAP_FS_MASK):
// a root fsuid has them in effect, another does not.
const capFSMask CapSet = 1<<CapChown | 1<<CapDACOverride | 1<<CapDACReadSearch |
	1<<CapFowner | 1<<CapFsetid | 1<<CapLinuxImmutable | 1<<CapMknod

// NewCredentials returns credentials with every uid = uid, every
// gid = gid and the supplementary groups; uid 0 has every capability.
func NewCredentials(uid, gid uint32, groups []uint32) *Credentials {
	c := &Credentials{
		RealUID: uid, EffectiveUID: uid, SavedUID: uid, FSUID: uid,
		RealGID: gid, EffectiveGID: gid, SavedGID: gid, FSGID: gid,
		Groups: slices.Sorted(slices.Values(groups)),
	}
	if uid == 0 {
		c.Effective, c.Permitted = AllCaps, AllCaps
	}
	c.sync()
	return c
}

// sync recomputes the vfs view after a change.
func (c *Credentials) sync() {
	c.fs = vfs.Creds{UID: c.FSUID, GID: c.FSGID, Groups: c.Groups}
}

// VFS returns the credentials path walks and permission checks run with.
func (c *Credentials) VFS() *vfs.Creds { return &c.fs }

// HasCap reports whether cap is in the effective set.
func (c *Credentials) HasCap(cap int) bool { return c.Effective&(1<<cap) != 0 }

// Privileged reports whether the task acts as root (the sandbox's uid 0
// holds the capabilities the kernel would check, within the sandbox).
func (c *Credentials) Privileged() bool { return c.EffectiveUID == 0 }
