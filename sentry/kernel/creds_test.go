package kernel

import (
	"testing"

	"golang.org/x/sys/unix"
)

// ids is a (real, effective, saved, fs) quadruple.
type ids [4]uint32

func uids(c *Credentials) ids { return ids{c.RealUID, c.EffectiveUID, c.SavedUID, c.FSUID} }

// withUIDs returns credentials as after setresuid(r, e, s) by root.
func withUIDs(r, e, s uint32) *Credentials {
	c, err := NewCredentials(0, 0, nil).SetRESUID(r, e, s)
	if err != nil {
		panic(err)
	}
	return c
}

func TestUIDRules(t *testing.T) {
	cases := []struct {
		name string
		from *Credentials
		op   func(*Credentials) (*Credentials, error)
		want ids
		err  error
	}{
		{"root setuid", NewCredentials(0, 0, nil), func(c *Credentials) (*Credentials, error) { return c.SetUID(1000) }, ids{1000, 1000, 1000, 1000}, nil},
		{"user setuid other", NewCredentials(1000, 1000, nil), func(c *Credentials) (*Credentials, error) { return c.SetUID(0) }, ids{}, unix.EPERM},
		{"user setuid saved", withUIDs(1000, 1000, 0), func(c *Credentials) (*Credentials, error) { return c.SetUID(0) }, ids{1000, 0, 0, 0}, nil},
		{"setuid -1", NewCredentials(0, 0, nil), func(c *Credentials) (*Credentials, error) { return c.SetUID(NoID) }, ids{}, unix.EINVAL},
		{"setreuid swap", withUIDs(1000, 2000, 2000), func(c *Credentials) (*Credentials, error) { return c.SetREUID(2000, 1000) }, ids{2000, 1000, 1000, 1000}, nil},
		{"setreuid e only to real", withUIDs(1000, 2000, 3000), func(c *Credentials) (*Credentials, error) { return c.SetREUID(NoID, 1000) }, ids{1000, 1000, 3000, 1000}, nil},
		{"setreuid e to saved", withUIDs(1000, 2000, 3000), func(c *Credentials) (*Credentials, error) { return c.SetREUID(NoID, 3000) }, ids{1000, 3000, 3000, 3000}, nil},
		{"setreuid r to saved", withUIDs(1000, 2000, 3000), func(c *Credentials) (*Credentials, error) { return c.SetREUID(3000, NoID) }, ids{}, unix.EPERM},
		{"setresuid user", withUIDs(1000, 2000, 3000), func(c *Credentials) (*Credentials, error) { return c.SetRESUID(3000, 1000, 2000) }, ids{3000, 1000, 2000, 1000}, nil},
		{"setresuid user other", withUIDs(1000, 2000, 3000), func(c *Credentials) (*Credentials, error) { return c.SetRESUID(NoID, 4000, NoID) }, ids{}, unix.EPERM},
	}
	for _, c := range cases {
		n, err := c.op(c.from)
		if err != c.err {
			t.Errorf("%s: err %v, want %v", c.name, err, c.err)
			continue
		}
		if err == nil && uids(n) != c.want {
			t.Errorf("%s: ids %v, want %v", c.name, uids(n), c.want)
		}
	}
}

func TestCapsFollowUIDs(t *testing.T) {
	root := NewCredentials(0, 0, nil)
	if root.Effective != AllCaps || !root.HasCap(CapSetuid) {
		t.Fatalf("root caps %#x", root.Effective)
	}
	// Keeping uid 0 saved: effective dropped, permitted kept, and
	// regained with the effective uid.
	tmp, _ := root.SetRESUID(1000, 1000, 0)
	if tmp.Effective != 0 || tmp.Permitted != AllCaps {
		t.Fatalf("euid 1000 saved 0: eff %#x perm %#x", tmp.Effective, tmp.Permitted)
	}
	back, err := tmp.SetREUID(NoID, 0)
	if err != nil || back.Effective != AllCaps {
		t.Fatalf("back to euid 0: %v eff %#x", err, back.Effective)
	}
	gone, _ := root.SetUID(1000)
	if gone.Effective != 0 || gone.Permitted != 0 {
		t.Fatalf("setuid(1000): eff %#x perm %#x", gone.Effective, gone.Permitted)
	}
	if _, err := gone.SetUID(0); err != unix.EPERM {
		t.Fatalf("regain root: %v, want EPERM", err)
	}
	if _, err := gone.SetGroups(nil); err != unix.EPERM {
		t.Fatalf("setgroups without CAP_SETGID: %v", err)
	}
	// fsuid away from 0 drops the fs capabilities only.
	old, fs := root.SetFSUID(1000)
	if old != 0 || fs == nil || fs.HasCap(CapDACOverride) || !fs.HasCap(CapSetuid) || fs.VFS().UID != 1000 {
		t.Fatalf("setfsuid(1000): old %d creds %+v", old, fs)
	}
	if old, n := gone.SetFSUID(0); old != 1000 || n != nil {
		t.Fatalf("user setfsuid(0): old %d, changed %v", old, n != nil)
	}
}

func TestSetCaps(t *testing.T) {
	root := NewCredentials(0, 0, nil)
	less := AllCaps &^ (1 << CapSysAdmin)
	n, err := root.SetCaps(less, less, 0)
	if err != nil || n.HasCap(CapSysAdmin) {
		t.Fatalf("drop CAP_SYS_ADMIN: %v", err)
	}
	if _, err := n.SetCaps(AllCaps, AllCaps, 0); err != unix.EPERM {
		t.Fatalf("regain a capability: %v, want EPERM", err)
	}
	if _, err := n.SetCaps(AllCaps, less, 0); err != unix.EPERM {
		t.Fatalf("effective beyond permitted: %v, want EPERM", err)
	}
}

func gids(c *Credentials) ids { return ids{c.RealGID, c.EffectiveGID, c.SavedGID, c.FSGID} }

// TestGIDRules checks that the set*gid calls follow the set*uid rules on
// the group ids, under CAP_SETGID, and leave the user ids and
// capabilities alone.
func TestGIDRules(t *testing.T) {
	// user has uid 1000, gids 1000, 2000, 3000 (fs 2000) and no
	// capabilities.
	user, err := NewCredentials(0, 0, nil).SetRESGID(1000, 2000, 3000)
	if err != nil {
		t.Fatal(err)
	}
	user, err = user.SetUID(1000)
	if err != nil {
		t.Fatal(err)
	}
	noSetgid := NewCredentials(0, 1000, nil)
	noSetgid.Effective &^= 1 << CapSetgid
	cases := []struct {
		name string
		from *Credentials
		op   func(*Credentials) (*Credentials, error)
		want ids
		err  error
	}{
		{"root setgid", NewCredentials(0, 0, nil), func(c *Credentials) (*Credentials, error) { return c.SetGID(1000) }, ids{1000, 1000, 1000, 1000}, nil},
		{"setgid -1", NewCredentials(0, 0, nil), func(c *Credentials) (*Credentials, error) { return c.SetGID(NoID) }, ids{}, unix.EINVAL},
		{"user setgid saved", user, func(c *Credentials) (*Credentials, error) { return c.SetGID(3000) }, ids{1000, 3000, 3000, 3000}, nil},
		{"user setgid other", user, func(c *Credentials) (*Credentials, error) { return c.SetGID(4000) }, ids{}, unix.EPERM},
		{"uid 0 without CAP_SETGID", noSetgid, func(c *Credentials) (*Credentials, error) { return c.SetGID(0) }, ids{}, unix.EPERM},
		{"setregid swap", user, func(c *Credentials) (*Credentials, error) { return c.SetREGID(2000, 1000) }, ids{2000, 1000, 1000, 1000}, nil},
		{"setregid e to saved", user, func(c *Credentials) (*Credentials, error) { return c.SetREGID(NoID, 3000) }, ids{1000, 3000, 3000, 3000}, nil},
		{"setregid r to saved", user, func(c *Credentials) (*Credentials, error) { return c.SetREGID(3000, NoID) }, ids{}, unix.EPERM},
		{"setresgid user", user, func(c *Credentials) (*Credentials, error) { return c.SetRESGID(3000, 1000, 2000) }, ids{3000, 1000, 2000, 1000}, nil},
		{"setresgid user other", user, func(c *Credentials) (*Credentials, error) { return c.SetRESGID(NoID, 4000, NoID) }, ids{}, unix.EPERM},
	}
	for _, c := range cases {
		n, err := c.op(c.from)
		if err != c.err {
			t.Errorf("%s: err %v, want %v", c.name, err, c.err)
			continue
		}
		if err != nil {
			continue
		}
		if gids(n) != c.want {
			t.Errorf("%s: gids %v, want %v", c.name, gids(n), c.want)
		}
		if uids(n) != uids(c.from) || n.Effective != c.from.Effective || n.Permitted != c.from.Permitted {
			t.Errorf("%s: uids %v caps %#x/%#x changed from %v %#x/%#x", c.name,
				uids(n), n.Effective, n.Permitted, uids(c.from), c.from.Effective, c.from.Permitted)
		}
	}
	old, fs := user.SetFSGID(1000)
	if old != 2000 || fs == nil || gids(fs) != (ids{1000, 2000, 3000, 1000}) || fs.VFS().GID != 1000 {
		t.Errorf("setfsgid(1000): old %d creds %+v", old, fs)
	}
	if old, fs := user.SetFSGID(4000); old != 2000 || fs != nil {
		t.Errorf("setfsgid(4000) by a user: old %d creds %+v, want refused", old, fs)
	}
}

func TestWithCapsBoundingAmbient(t *testing.T) {
	sets := CapSets{
		Effective: 1 << CapChown, Permitted: 1<<CapChown | 1<<CapKill,
		Inheritable: 1 << CapKill, Bounding: 1<<CapChown | 1<<CapKill, Ambient: 1 << CapKill,
	}
	c := NewCredentials(0, 0, nil).WithCaps(sets)
	if c.Effective != sets.Effective || c.Permitted != sets.Permitted || c.Inheritable != sets.Inheritable ||
		c.Bounding != sets.Bounding || c.Ambient != sets.Ambient {
		t.Fatalf("WithCaps: %+v", c)
	}
	if c.HasCap(CapSetuid) {
		t.Fatal("uid 0 with a reduced set still has CAP_SETUID")
	}
	if in, _ := c.InBounding(CapSysAdmin); in {
		t.Error("CAP_SYS_ADMIN in bounding set")
	}
	if _, err := c.InBounding(CapLast + 1); err != unix.EINVAL {
		t.Errorf("PR_CAPBSET_READ beyond CapLast: %v", err)
	}
	if _, err := c.DropBounding(CapKill); err != unix.EPERM {
		t.Errorf("drop bounding without CAP_SETPCAP: %v", err)
	}
	// Raising inheritable beyond the bounding set fails even with
	// CAP_SETPCAP.
	pc := NewCredentials(0, 0, nil).WithCaps(CapSets{Effective: 1 << CapSetpcap, Permitted: 1 << CapSetpcap, Bounding: 1 << CapSetpcap})
	if _, err := pc.SetCaps(pc.Effective, pc.Permitted, 1<<CapSysAdmin); err != unix.EPERM {
		t.Errorf("inheritable beyond bounding: %v", err)
	}
	n, err := pc.DropBounding(CapSetpcap)
	if err != nil || n.Bounding != 0 {
		t.Errorf("drop bounding: %v %#x", err, n.Bounding)
	}
	if _, err := c.SetAmbient(CapChown, true); err != unix.EPERM {
		t.Errorf("raise ambient not inheritable: %v", err)
	}
	// Dropping CAP_KILL from permitted drops it from ambient.
	d, err := c.SetCaps(c.Effective, 1<<CapChown, c.Inheritable)
	if err != nil || d.Ambient != 0 {
		t.Errorf("capset dropping permitted: %v ambient %#x", err, d.Ambient)
	}
	// Losing uid 0 clears the ambient set with the permitted one.
	su := NewCredentials(0, 0, nil).WithCaps(CapSets{Effective: 1 << CapSetuid, Permitted: 1<<CapSetuid | 1<<CapKill,
		Inheritable: 1 << CapKill, Bounding: AllCaps, Ambient: 1 << CapKill})
	u, err := su.SetUID(1000)
	if err != nil || u.Ambient != 0 || u.Permitted != 0 {
		t.Errorf("setuid(1000): %v ambient %#x permitted %#x", err, u.Ambient, u.Permitted)
	}
	if _, err := c.SetUID(1000); err != unix.EPERM {
		t.Errorf("uid 0 without CAP_SETUID: setuid %v, want EPERM", err)
	}
}

func TestCheckRlimits(t *testing.T) {
	cases := []struct {
		name string
		set  map[int]Rlimit
		ok   bool
	}{
		{"none", nil, true},
		{"nofile", map[int]Rlimit{unix.RLIMIT_NOFILE: {1024, 1024}}, true},
		{"out of range", map[int]Rlimit{NumRlimits: {1, 1}}, false},
		{"soft above hard", map[int]Rlimit{unix.RLIMIT_CORE: {2, 1}}, false},
		{"nofile above nr_open", map[int]Rlimit{unix.RLIMIT_NOFILE: {1, maxFDs + 1}}, false},
	}
	for _, c := range cases {
		if err := checkRlimits(c.set); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	r := initRlimits(map[int]Rlimit{unix.RLIMIT_NOFILE: {512, 1024}})
	if r[unix.RLIMIT_NOFILE] != (Rlimit{512, 1024}) || r[unix.RLIMIT_STACK] != defaultRlimits()[unix.RLIMIT_STACK] {
		t.Errorf("initRlimits: %v", r)
	}
}
