package kernel

import (
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// NoID is (uid_t)-1: "leave this id unchanged" in setre*id and setres*id.
const NoID = ^uint32(0)

// clone returns a copy of c that may be changed before it is installed.
func (c *Credentials) clone() *Credentials {
	n := *c
	n.Groups = append([]uint32(nil), c.Groups...)
	return &n
}

// SetCredentials installs c (from one of the Set* methods) as the task's
// credentials. c must not be changed afterwards. As the kernel's
// commit_creds does, a change of the effective or fs ids, or a gain of
// permitted capabilities, makes the process non-dumpable (fs.suid_dumpable
// 0) and clears the parent-death signal.
func (t *Task) SetCredentials(c *Credentials) {
	old := t.creds.Swap(c)
	if old != nil && (old.EffectiveUID != c.EffectiveUID || old.EffectiveGID != c.EffectiveGID ||
		old.FSUID != c.FSUID || old.FSGID != c.FSGID || c.Permitted&^old.Permitted != 0) {
		t.tg.ctl.dumpable.Store(0)
		t.ctl.pdeathSig.Store(0)
	}
}

// oneOf reports whether id is any of ids.
func oneOf(id uint32, ids ...uint32) bool {
	for _, x := range ids {
		if id == x {
			return true
		}
	}
	return false
}

// idSet points at one kind of id of a Credentials, users' or groups':
// setuid and setgid (and their re, res and fs forms) follow the same
// rules, each under its own capability.
type idSet struct {
	real, eff, saved, fs *uint32
	cap                  int
}

// uids is c's user ids, changed under CAP_SETUID.
func (c *Credentials) uids() idSet {
	return idSet{&c.RealUID, &c.EffectiveUID, &c.SavedUID, &c.FSUID, CapSetuid}
}

// gids is c's group ids, changed under CAP_SETGID.
func (c *Credentials) gids() idSet {
	return idSet{&c.RealGID, &c.EffectiveGID, &c.SavedGID, &c.FSGID, CapSetgid}
}

// SetUID implements setuid(2): with CAP_SETUID every uid becomes uid;
// otherwise only the effective (and fs) uid may become the real or saved
// one. EINVAL for -1, EPERM otherwise refused.
func (c *Credentials) SetUID(uid uint32) (*Credentials, error) {
	return c.finishUIDs(c.setID(uid, (*Credentials).uids))
}

// SetREUID implements setreuid(2): without CAP_SETUID the real uid may
// become the real or effective one, the effective uid any of the three.
// The saved uid follows the effective one when the real uid is set or
// the effective one becomes other than the old real uid.
func (c *Credentials) SetREUID(r, e uint32) (*Credentials, error) {
	return c.finishUIDs(c.setREID(r, e, (*Credentials).uids))
}

// SetRESUID implements setresuid(2): without CAP_SETUID each new id must
// be one of the current three.
func (c *Credentials) SetRESUID(r, e, s uint32) (*Credentials, error) {
	return c.finishUIDs(c.setRESID(r, e, s, (*Credentials).uids))
}

// SetFSUID implements setfsuid(2): it returns the old fsuid always, and
// new credentials (nil when nothing changes) if fsuid is allowed: any
// with CAP_SETUID, else one of the real, effective, saved or fs uids.
func (c *Credentials) SetFSUID(fsuid uint32) (old uint32, n *Credentials) {
	old, n = c.setFSID(fsuid, (*Credentials).uids)
	if n == nil {
		return old, nil
	}
	n.fixFSCaps(c)
	n.sync()
	return old, n
}

// finishUIDs completes a change of user ids from c to n: the
// capabilities follow the uids (fixCaps), then the derived fields.
func (c *Credentials) finishUIDs(n *Credentials, err error) (*Credentials, error) {
	if err != nil {
		return nil, err
	}
	n.fixCaps(c)
	n.sync()
	return n, nil
}

// SetGID implements setgid(2), like SetUID with CAP_SETGID.
func (c *Credentials) SetGID(gid uint32) (*Credentials, error) {
	return finishGIDs(c.setID(gid, (*Credentials).gids))
}

// SetREGID implements setregid(2), like SetREUID.
func (c *Credentials) SetREGID(r, e uint32) (*Credentials, error) {
	return finishGIDs(c.setREID(r, e, (*Credentials).gids))
}

// SetRESGID implements setresgid(2), like SetRESUID.
func (c *Credentials) SetRESGID(r, e, s uint32) (*Credentials, error) {
	return finishGIDs(c.setRESID(r, e, s, (*Credentials).gids))
}

// SetFSGID implements setfsgid(2), like SetFSUID.
func (c *Credentials) SetFSGID(fsgid uint32) (old uint32, n *Credentials) {
	old, n = c.setFSID(fsgid, (*Credentials).gids)
	if n == nil {
		return old, nil
	}
	n.sync()
	return old, n
}

// finishGIDs completes a change of group ids: only the derived fields
// follow (no capability depends on a gid).
func finishGIDs(n *Credentials, err error) (*Credentials, error) {
	if err != nil {
		return nil, err
	}
	n.sync()
	return n, nil
}

// setID is setuid(2)'s and setgid(2)'s rule on the ids which selects,
// applied to a copy of c.
func (c *Credentials) setID(id uint32, which func(*Credentials) idSet) (*Credentials, error) {
	if id == NoID {
		return nil, unix.EINVAL
	}
	n := c.clone()
	o, w := which(c), which(n)
	switch {
	case c.HasCap(o.cap):
		*w.real, *w.eff, *w.saved = id, id, id
	case oneOf(id, *o.real, *o.saved):
		*w.eff = id
	default:
		return nil, unix.EPERM
	}
	*w.fs = *w.eff
	return n, nil
}

// setREID is setreuid(2)'s and setregid(2)'s rule on the ids which
// selects, applied to a copy of c.
func (c *Credentials) setREID(r, e uint32, which func(*Credentials) idSet) (*Credentials, error) {
	n := c.clone()
	o, w := which(c), which(n)
	priv := c.HasCap(o.cap)
	if r != NoID {
		if !priv && !oneOf(r, *o.real, *o.eff) {
			return nil, unix.EPERM
		}
		*w.real = r
	}
	if e != NoID {
		if !priv && !oneOf(e, *o.real, *o.eff, *o.saved) {
			return nil, unix.EPERM
		}
		*w.eff = e
	}
	if r != NoID || e != NoID && e != *o.real {
		*w.saved = *w.eff
	}
	*w.fs = *w.eff
	return n, nil
}

// setRESID is setresuid(2)'s and setresgid(2)'s rule on the ids which
// selects, applied to a copy of c.
func (c *Credentials) setRESID(r, e, s uint32, which func(*Credentials) idSet) (*Credentials, error) {
	o := which(c)
	priv := c.HasCap(o.cap)
	for _, id := range []uint32{r, e, s} {
		if id != NoID && !priv && !oneOf(id, *o.real, *o.eff, *o.saved) {
			return nil, unix.EPERM
		}
	}
	n := c.clone()
	w := which(n)
	if r != NoID {
		*w.real = r
	}
	if e != NoID {
		*w.eff = e
	}
	if s != NoID {
		*w.saved = s
	}
	*w.fs = *w.eff
	return n, nil
}

// setFSID is setfsuid(2)'s and setfsgid(2)'s rule on the ids which
// selects: the old fs id, and a copy of c with the new one, or nil when
// nothing changes.
func (c *Credentials) setFSID(id uint32, which func(*Credentials) idSet) (old uint32, n *Credentials) {
	o := which(c)
	old = *o.fs
	if id == NoID || id == old {
		return old, nil
	}
	if !c.HasCap(o.cap) && !oneOf(id, *o.real, *o.eff, *o.saved) {
		return old, nil
	}
	n = c.clone()
	*which(n).fs = id
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
// CAP_SETPCAP), and never ones outside both the old inheritable and the
// bounding set; the permitted set may only shrink, and the effective set
// must lie within the new permitted one. EPERM otherwise. The ambient
// set keeps only what stays both permitted and inheritable.
func (c *Credentials) SetCaps(eff, perm, inh CapSet) (*Credentials, error) {
	if !c.HasCap(CapSetpcap) && inh&^(c.Inheritable|c.Permitted) != 0 {
		return nil, unix.EPERM
	}
	if inh&^(c.Inheritable|c.Bounding) != 0 {
		return nil, unix.EPERM
	}
	if inh&^AllCaps != 0 || perm&^c.Permitted != 0 || eff&^perm != 0 {
		return nil, unix.EPERM
	}
	n := c.clone()
	n.Effective, n.Permitted, n.Inheritable = eff, perm, inh
	n.Ambient &= perm & inh
	n.sync()
	return n, nil
}

// fixCaps applies Linux's capability rules for a uid change from old to
// c (cap_emulate_setxuid, without securebits): losing uid 0 everywhere
// drops the permitted and effective sets; an effective uid leaving 0
// drops the effective set, one coming back to 0 regains the permitted
// set. The fs capabilities then follow the fsuid.
func (c *Credentials) fixCaps(old *Credentials) {
	if c.Securebits&SecbitNoSetuidFixup != 0 {
		return
	}
	wasRoot := old.RealUID == 0 || old.EffectiveUID == 0 || old.SavedUID == 0
	if wasRoot && c.RealUID != 0 && c.EffectiveUID != 0 && c.SavedUID != 0 {
		if c.Securebits&SecbitKeepCaps == 0 {
			c.Permitted = 0
		}
		c.Effective, c.Ambient = 0, 0
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
	if c.Securebits&SecbitNoSetuidFixup != 0 {
		return
	}
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

// validCap reports whether cap names a capability the sandbox knows.
func validCap(cap int) bool { return cap >= 0 && cap <= CapLast }

// InBounding implements prctl(PR_CAPBSET_READ): EINVAL for an unknown
// capability.
func (c *Credentials) InBounding(cap int) (bool, error) {
	if !validCap(cap) {
		return false, unix.EINVAL
	}
	return c.Bounding&(1<<cap) != 0, nil
}

// DropBounding implements prctl(PR_CAPBSET_DROP): CAP_SETPCAP is
// required; EINVAL for an unknown capability.
func (c *Credentials) DropBounding(cap int) (*Credentials, error) {
	if !validCap(cap) {
		return nil, unix.EINVAL
	}
	if !c.HasCap(CapSetpcap) {
		return nil, unix.EPERM
	}
	n := c.clone()
	n.Bounding &^= 1 << cap
	n.sync()
	return n, nil
}

// InAmbient implements prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET).
func (c *Credentials) InAmbient(cap int) (bool, error) {
	if !validCap(cap) {
		return false, unix.EINVAL
	}
	return c.Ambient&(1<<cap) != 0, nil
}

// SetAmbient implements PR_CAP_AMBIENT_RAISE (raise true) and
// PR_CAP_AMBIENT_LOWER: a capability may be raised only while it is
// both permitted and inheritable (EPERM otherwise).
func (c *Credentials) SetAmbient(cap int, raise bool) (*Credentials, error) {
	if !validCap(cap) {
		return nil, unix.EINVAL
	}
	bit := CapSet(1) << cap
	if raise && (c.Permitted&bit == 0 || c.Inheritable&bit == 0 || c.Securebits&SecbitNoCapAmbientRaise != 0) {
		return nil, unix.EPERM
	}
	n := c.clone()
	if raise {
		n.Ambient |= bit
	} else {
		n.Ambient &^= bit
	}
	n.sync()
	return n, nil
}

// ClearAmbient implements PR_CAP_AMBIENT_CLEAR_ALL.
func (c *Credentials) ClearAmbient() *Credentials {
	n := c.clone()
	n.Ambient = 0
	n.sync()
	return n
}

// Securebits (linux/securebits.h): each flag has its lock one bit up.
const (
	SecbitNoroot            = 1 << 0
	SecbitNoSetuidFixup     = 1 << 2
	SecbitKeepCaps          = 1 << 4
	SecbitNoCapAmbientRaise = 1 << 6
	secureAllBits           = SecbitNoroot | SecbitNoSetuidFixup | SecbitKeepCaps | SecbitNoCapAmbientRaise
	secureAllLocks          = secureAllBits << 1
)

// SetSecurebits implements prctl(PR_SET_SECUREBITS) as commoncap does:
// EPERM without CAP_SETPCAP, for a change to a locked flag, for clearing
// a lock, or for an unknown bit.
func (c *Credentials) SetSecurebits(bits uint32) (*Credentials, error) {
	old := c.Securebits
	if (old^bits)&((old&secureAllLocks)>>1) != 0 || old&secureAllLocks&^bits != 0 ||
		bits&^(secureAllLocks|secureAllBits) != 0 || !c.HasCap(CapSetpcap) {
		return nil, unix.EPERM
	}
	n := c.clone()
	n.Securebits = bits
	n.sync()
	return n, nil
}

// SetKeepCaps implements prctl(PR_SET_KEEPCAPS): EPERM once the flag is
// locked.
func (c *Credentials) SetKeepCaps(keep bool) (*Credentials, error) {
	if c.Securebits&(SecbitKeepCaps<<1) != 0 {
		return nil, unix.EPERM
	}
	n := c.clone()
	if keep {
		n.Securebits |= SecbitKeepCaps
	} else {
		n.Securebits &^= SecbitKeepCaps
	}
	n.sync()
	return n, nil
}

// ForExec returns the credentials after an execve, by capabilities(7)'s
// rules for a file without capabilities or set-id bits (the sandbox
// honours neither): the saved and fs ids become the effective ones; a
// root real or effective uid (unless SECBIT_NOROOT) gets permitted =
// bounding | inheritable | ambient, and an effective root also
// effective = permitted; anyone else keeps only the ambient set
// (permitted = effective = ambient). With no_new_privs the permitted set
// cannot grow. SECBIT_KEEP_CAPS is cleared.
func (c *Credentials) ForExec(noNewPrivs bool) *Credentials {
	n := c.clone()
	n.SavedUID, n.FSUID = n.EffectiveUID, n.EffectiveUID
	n.SavedGID, n.FSGID = n.EffectiveGID, n.EffectiveGID
	root := c.Securebits&SecbitNoroot == 0 && (c.EffectiveUID == 0 || c.RealUID == 0)
	if root {
		n.Permitted = (c.Bounding | c.Inheritable | c.Ambient) & AllCaps
	} else {
		n.Permitted = c.Ambient
	}
	if noNewPrivs {
		n.Permitted &= c.Permitted
	}
	if root && c.EffectiveUID == 0 {
		n.Effective = n.Permitted
	} else {
		n.Effective = n.Ambient & n.Permitted
	}
	n.Ambient &= n.Permitted
	n.Securebits &^= SecbitKeepCaps
	n.sync()
	return n
}

// ForAccess returns the credentials access(2) and faccessat(2) without
// AT_EACCESS check with, as the kernel's access_override_creds makes
// them: the real uid and gid, and (unless SECBIT_NO_SETUID_FIXUP) the
// permitted capabilities for a real root, none for anyone else.
func (c *Credentials) ForAccess() *vfs.Creds {
	caps := c.Effective
	if c.Securebits&SecbitNoSetuidFixup == 0 {
		caps = 0
		if c.RealUID == 0 {
			caps = c.Permitted
		}
	}
	return &vfs.Creds{UID: c.RealUID, GID: c.RealGID, Groups: c.Groups, Caps: uint64(caps), HasCaps: true}
}
