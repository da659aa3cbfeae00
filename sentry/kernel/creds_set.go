package kernel

import "golang.org/x/sys/unix"

// NoID is (uid_t)-1: "leave this id unchanged" in setre*id and setres*id.
const NoID = ^uint32(0)

// clone returns a copy of c that may be changed before it is installed.
func (c *Credentials) clone() *Credentials {
	n := *c
	n.Groups = append([]uint32(nil), c.Groups...)
	return &n
}

// SetCredentials installs c (from one of the Set* methods) as the task's
// credentials. c must not be changed afterwards.
func (t *Task) SetCredentials(c *Credentials) { t.creds.Store(c) }

// oneOf reports whether id is any of ids.
func oneOf(id uint32, ids ...uint32) bool {
	for _, x := range ids {
		if id == x {
			return true
		}
	}
	return false
}

// SetUID implements setuid(2): with CAP_SETUID every uid becomes uid;
// otherwise only the effective (and fs) uid may become the real or saved
// one. EINVAL for -1, EPERM otherwise refused.
func (c *Credentials) SetUID(uid uint32) (*Credentials, error) {
	if uid == NoID {
		return nil, unix.EINVAL
	}
	n := c.clone()
	switch {
	case c.HasCap(CapSetuid):
		n.RealUID, n.EffectiveUID, n.SavedUID = uid, uid, uid
	case oneOf(uid, c.RealUID, c.SavedUID):
		n.EffectiveUID = uid
	default:
		return nil, unix.EPERM
	}
	n.FSUID = n.EffectiveUID
	n.fixCaps(c)
	n.sync()
	return n, nil
}

// SetREUID implements setreuid(2): without CAP_SETUID the real uid may
// become the real or effective one, the effective uid any of the three.
// The saved uid follows the effective one when the real uid is set or
// the effective one becomes other than the old real uid.
func (c *Credentials) SetREUID(r, e uint32) (*Credentials, error) {
	priv := c.HasCap(CapSetuid)
	n := c.clone()
	if r != NoID {
		if !priv && !oneOf(r, c.RealUID, c.EffectiveUID) {
			return nil, unix.EPERM
		}
		n.RealUID = r
	}
	if e != NoID {
		if !priv && !oneOf(e, c.RealUID, c.EffectiveUID, c.SavedUID) {
			return nil, unix.EPERM
		}
		n.EffectiveUID = e
	}
	if r != NoID || e != NoID && e != c.RealUID {
		n.SavedUID = n.EffectiveUID
	}
	n.FSUID = n.EffectiveUID
	n.fixCaps(c)
	n.sync()
	return n, nil
}

// SetRESUID implements setresuid(2): without CAP_SETUID each new id must
// be one of the current three.
func (c *Credentials) SetRESUID(r, e, s uint32) (*Credentials, error) {
	priv := c.HasCap(CapSetuid)
	for _, id := range []uint32{r, e, s} {
		if id != NoID && !priv && !oneOf(id, c.RealUID, c.EffectiveUID, c.SavedUID) {
			return nil, unix.EPERM
		}
	}
	n := c.clone()
	if r != NoID {
		n.RealUID = r
	}
	if e != NoID {
		n.EffectiveUID = e
	}
	if s != NoID {
		n.SavedUID = s
	}
	n.FSUID = n.EffectiveUID
	n.fixCaps(c)
	n.sync()
	return n, nil
}

// SetFSUID implements setfsuid(2): it returns the old fsuid always, and
// new credentials (nil when nothing changes) if fsuid is allowed: any
// with CAP_SETUID, else one of the real, effective, saved or fs uids.
func (c *Credentials) SetFSUID(fsuid uint32) (old uint32, n *Credentials) {
	old = c.FSUID
	if fsuid == NoID || fsuid == c.FSUID {
		return old, nil
	}
	if !c.HasCap(CapSetuid) && !oneOf(fsuid, c.RealUID, c.EffectiveUID, c.SavedUID) {
		return old, nil
	}
	n = c.clone()
	n.FSUID = fsuid
	n.fixFSCaps(c)
	n.sync()
	return old, n
}

// SetGID implements setgid(2), like SetUID with CAP_SETGID.
func (c *Credentials) SetGID(gid uint32) (*Credentials, error) {
	if gid == NoID {
		return nil, unix.EINVAL
	}
	n := c.clone()
	switch {
	case c.HasCap(CapSetgid):
		n.RealGID, n.EffectiveGID, n.SavedGID = gid, gid, gid
	case oneOf(gid, c.RealGID, c.SavedGID):
		n.EffectiveGID = gid
	default:
		return nil, unix.EPERM
	}
	n.FSGID = n.EffectiveGID
	n.sync()
	return n, nil
}

// SetREGID implements setregid(2), like SetREUID.
func (c *Credentials) SetREGID(r, e uint32) (*Credentials, error) {
	priv := c.HasCap(CapSetgid)
	n := c.clone()
	if r != NoID {
		if !priv && !oneOf(r, c.RealGID, c.EffectiveGID) {
			return nil, unix.EPERM
		}
		n.RealGID = r
	}
	if e != NoID {
		if !priv && !oneOf(e, c.RealGID, c.EffectiveGID, c.SavedGID) {
			return nil, unix.EPERM
		}
		n.EffectiveGID = e
	}
	if r != NoID || e != NoID && e != c.RealGID {
		n.SavedGID = n.EffectiveGID
	}
	n.FSGID = n.EffectiveGID
	n.sync()
	return n, nil
}

// SetRESGID implements setresgid(2), like SetRESUID.
func (c *Credentials) SetRESGID(r, e, s uint32) (*Credentials, error) {
	priv := c.HasCap(CapSetgid)
	for _, id := range []uint32{r, e, s} {
		if id != NoID && !priv && !oneOf(id, c.RealGID, c.EffectiveGID, c.SavedGID) {
			return nil, unix.EPERM
		}
	}
	n := c.clone()
	if r != NoID {
		n.RealGID = r
	}
	if e != NoID {
		n.EffectiveGID = e
	}
	if s != NoID {
		n.SavedGID = s
	}
	n.FSGID = n.EffectiveGID
	n.sync()
	return n, nil
}

// SetFSGID implements setfsgid(2), like SetFSUID.
func (c *Credentials) SetFSGID(fsgid uint32) (old uint32, n *Credentials) {
	old = c.FSGID
	if fsgid == NoID || fsgid == c.FSGID {
		return old, nil
	}
	if !c.HasCap(CapSetgid) && !oneOf(fsgid, c.RealGID, c.EffectiveGID, c.SavedGID) {
		return old, nil
	}
	n = c.clone()
	n.FSGID = fsgid
	n.sync()
	return old, n
}

// SetGroups implements setgroups(2): CAP_SETGID is required.
func (c *Credentials) SetGroups(groups []uint32) (*Credentials, error) {
	if !c.HasCap(CapSetgid) {
		return nil, unix.EPERM
	}
	n := c.clone()
	n.Groups = append([]uint32(nil), groups...)
	n.sync()
	return n, nil
}

// SetCaps implements capset(2)'s rules: the inheritable set may only
// take capabilities that are inheritable or permitted now (any with
// CAP_SETPCAP), the permitted set may only shrink, and the effective set
// must lie within the new permitted one. EPERM otherwise.
func (c *Credentials) SetCaps(eff, perm, inh CapSet) (*Credentials, error) {
	if !c.HasCap(CapSetpcap) && inh&^(c.Inheritable|c.Permitted) != 0 {
		return nil, unix.EPERM
	}
	if inh&^AllCaps != 0 || perm&^c.Permitted != 0 || eff&^perm != 0 {
		return nil, unix.EPERM
	}
	n := c.clone()
	n.Effective, n.Permitted, n.Inheritable = eff, perm, inh
	n.sync()
	return n, nil
}

// fixCaps applies Linux's capability rules for a uid change from old to
// c (cap_emulate_setxuid, without securebits): losing uid 0 everywhere
// drops the permitted and effective sets; an effective uid leaving 0
// drops the effective set, one coming back to 0 regains the permitted
// set. The fs capabilities then follow the fsuid.
func (c *Credentials) fixCaps(old *Credentials) {
	wasRoot := old.RealUID == 0 || old.EffectiveUID == 0 || old.SavedUID == 0
	if wasRoot && c.RealUID != 0 && c.EffectiveUID != 0 && c.SavedUID != 0 {
		c.Permitted, c.Effective = 0, 0
	}
	if old.EffectiveUID == 0 && c.EffectiveUID != 0 {
		c.Effective = 0
	}
	if old.EffectiveUID != 0 && c.EffectiveUID == 0 {
		c.Effective = c.Permitted
	}
	c.fixFSCaps(old)
}

// fixFSCaps makes the fs capabilities follow an fsuid change.
func (c *Credentials) fixFSCaps(old *Credentials) {
	if old.FSUID == 0 && c.FSUID != 0 {
		c.Effective &^= capFSMask
	}
	if old.FSUID != 0 && c.FSUID == 0 {
		c.Effective |= c.Permitted & capFSMask
	}
}

// initUmask is the init process's umask: process.user.umask, else 022.
func (k *Kernel) initUmask() uint32 {
	if k.cfg.Umask == nil {
		return 0o022
	}
	return *k.cfg.Umask & 0o777
}
