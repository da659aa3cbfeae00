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
	// Capability sets, one bit per CAP_* number. Without the spec's
	// process.capabilities uid 0 starts with every capability, others
	// with none; with it the init starts with exactly its sets (see
	// Config.Caps). The usual set*id rules move them (see fixCaps) and
	// capset only drops.
	Effective, Permitted, Inheritable CapSet
	// Bounding limits what the permitted set may ever hold (read by
	// prctl(PR_CAPBSET_READ)); Ambient are the capabilities kept across
	// an execve of an unprivileged program. Neither grows.
	Bounding, Ambient CapSet
	// Securebits are prctl(PR_SET_SECUREBITS)'s flags (SECBIT_*):
	// KEEP_CAPS keeps the permitted set across a setuid away from root
	// (cleared by execve), NO_SETUID_FIXUP turns fixCaps off, NOROOT
	// stops execve granting root its capabilities, NO_CAP_AMBIENT_RAISE
	// forbids raising ambient capabilities; each has a lock bit above it.
	Securebits uint32
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

// CapSets are the five capability sets of a process, as config.json's
// process.capabilities gives them.
type CapSets struct {
	Effective, Permitted, Inheritable, Bounding, Ambient CapSet
}

// NewCredentials returns credentials with every uid = uid, every
// gid = gid and the supplementary groups; uid 0 has every capability,
// and the bounding set is full.
func NewCredentials(uid, gid uint32, groups []uint32) *Credentials {
	c := &Credentials{
		RealUID: uid, EffectiveUID: uid, SavedUID: uid, FSUID: uid,
		RealGID: gid, EffectiveGID: gid, SavedGID: gid, FSGID: gid,
		Groups:   slices.Sorted(slices.Values(groups)),
		Bounding: AllCaps,
	}
	if uid == 0 {
		c.Effective, c.Permitted = AllCaps, AllCaps
	}
	c.sync()
	return c
}

// WithCaps returns a copy of c holding exactly the sets in s (each
// limited to the capabilities the sandbox knows). It is how the init
// process gets the spec's capabilities, whatever its uid: the container
// manager chose them.
func (c *Credentials) WithCaps(s CapSets) *Credentials {
	n := c.clone()
	n.Effective, n.Permitted, n.Inheritable = s.Effective&AllCaps, s.Permitted&AllCaps, s.Inheritable&AllCaps
	n.Bounding, n.Ambient = s.Bounding&AllCaps, s.Ambient&AllCaps
	n.sync()
	return n
}

// sync recomputes the vfs view after a change.
func (c *Credentials) sync() {
	c.fs = vfs.Creds{UID: c.FSUID, GID: c.FSGID, Groups: c.Groups, Caps: uint64(c.Effective), HasCaps: true}
}

// VFS returns the credentials path walks and permission checks run with.
func (c *Credentials) VFS() *vfs.Creds { return &c.fs }

// HasCap reports whether cap is in the effective set.
func (c *Credentials) HasCap(cap int) bool { return c.Effective&(1<<cap) != 0 }

// Privileged reports whether the task acts as root (the sandbox's uid 0
// holds the capabilities the kernel would check, within the sandbox).
func (c *Credentials) Privileged() bool { return c.EffectiveUID == 0 }

// initCredentials returns the init process's credentials from cfg: its
// ids, and the spec's capability sets when it gives them.
func initCredentials(cfg *Config) *Credentials {
	c := NewCredentials(cfg.UID, cfg.GID, cfg.AdditionalGIDs)
	if cfg.Caps == nil {
		return c
	}
	return c.WithCaps(*cfg.Caps)
}
