package kernel

import "moat/sentry/vfs"

// Credentials are a task's user and group IDs. A Credentials value is
// never changed once a task uses it: a set*id call installs a new one, so
// readers need no lock beyond loading the pointer.
type Credentials struct {
	RealUID, EffectiveUID, SavedUID uint32
	RealGID, EffectiveGID, SavedGID uint32
	Groups                          []uint32
	// fs is what vfs permission checks use (fsuid = euid here, as long
	// as setfsuid is not implemented).
	fs vfs.Creds
}

// NewCredentials returns credentials with every uid = uid, every
// gid = gid and the supplementary groups.
func NewCredentials(uid, gid uint32, groups []uint32) *Credentials {
	g := append([]uint32(nil), groups...)
	return &Credentials{
		RealUID: uid, EffectiveUID: uid, SavedUID: uid,
		RealGID: gid, EffectiveGID: gid, SavedGID: gid,
		Groups: g,
		fs:     vfs.Creds{UID: uid, GID: gid, Groups: g},
	}
}

// VFS returns the credentials path walks and permission checks run with.
func (c *Credentials) VFS() *vfs.Creds { return &c.fs }

// Privileged reports whether the task acts as root (the sandbox's uid 0
// holds the capabilities the kernel would check, within the sandbox).
func (c *Credentials) Privileged() bool { return c.EffectiveUID == 0 }
