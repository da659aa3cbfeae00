package kernel

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestForExec checks execve's capability rules (capabilities(7)) for a
// file without capabilities.
func TestForExec(t *testing.T) {
	const dac = CapSet(1) << CapDACOverride
	root := NewCredentials(0, 0, nil)
	dropped, err := root.SetCaps(AllCaps&^dac, AllCaps&^dac, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := dropped.ForExec(false); n.Permitted != AllCaps || n.Effective != AllCaps {
		t.Errorf("root exec: perm %#x eff %#x, want everything back from the bounding set", n.Permitted, n.Effective)
	}
	if n := dropped.ForExec(true); n.Permitted != AllCaps&^dac || n.Effective != AllCaps&^dac {
		t.Errorf("root exec with no_new_privs: perm %#x eff %#x, want no gain", n.Permitted, n.Effective)
	}
	nb := *dropped
	nb.Bounding &^= dac
	if n := nb.ForExec(false); n.Permitted&dac != 0 {
		t.Errorf("a capability out of the bounding set came back: %#x", n.Permitted)
	}
	user := NewCredentials(1000, 1000, nil).WithCaps(CapSets{
		Effective: dac, Permitted: dac | 1<<CapKill, Inheritable: 1 << CapKill, Ambient: 1 << CapKill, Bounding: AllCaps,
	})
	if n := user.ForExec(false); n.Permitted != 1<<CapKill || n.Effective != 1<<CapKill || n.Ambient != 1<<CapKill {
		t.Errorf("user exec: perm %#x eff %#x amb %#x, want only the ambient CAP_KILL", n.Permitted, n.Effective, n.Ambient)
	}
	kc, err := root.SetKeepCaps(true)
	if err != nil {
		t.Fatal(err)
	}
	if kc.ForExec(false).Securebits&SecbitKeepCaps != 0 {
		t.Error("execve kept SECBIT_KEEP_CAPS")
	}
}

// TestSecurebits checks PR_SET_SECUREBITS's locks and KEEP_CAPS across
// a setuid away from root.
func TestSecurebits(t *testing.T) {
	root := NewCredentials(0, 0, nil)
	locked, err := root.SetSecurebits(SecbitKeepCaps | SecbitKeepCaps<<1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := locked.SetKeepCaps(false); err != unix.EPERM {
		t.Errorf("SetKeepCaps on a locked bit: %v, want EPERM", err)
	}
	if _, err := locked.SetSecurebits(SecbitKeepCaps); err != unix.EPERM {
		t.Errorf("clearing a lock: %v, want EPERM", err)
	}
	if _, err := root.SetSecurebits(1 << 20); err != unix.EPERM {
		t.Errorf("unknown bit: %v, want EPERM", err)
	}
	n, err := locked.SetRESUID(1000, 1000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if n.Permitted != AllCaps || n.Effective != 0 {
		t.Errorf("setresuid with KEEP_CAPS: perm %#x eff %#x, want all and none", n.Permitted, n.Effective)
	}
}

// TestForAccess checks access(2)'s credentials: a real root gets its
// permitted set, anyone else no capability.
func TestForAccess(t *testing.T) {
	root := NewCredentials(0, 0, nil)
	if c := root.ForAccess(); !c.HasCaps || !c.Capable(CapDACOverride) {
		t.Errorf("root access creds lack CAP_DAC_OVERRIDE: %+v", c)
	}
	u := NewCredentials(1000, 1000, nil).WithCaps(CapSets{Effective: AllCaps, Permitted: AllCaps, Bounding: AllCaps})
	if c := u.ForAccess(); c.Capable(CapDACOverride) {
		t.Errorf("non-root access creds have CAP_DAC_OVERRIDE: %+v", c)
	}
}
