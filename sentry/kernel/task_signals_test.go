package kernel

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestInitSignalFilter checks the rule of a PID namespace's init: signals
// with the default action are dropped, except SIGKILL and SIGSTOP sent
// from outside the sandbox; a process other than init gets everything.
func TestInitSignalFilter(t *testing.T) {
	k := testKernel()
	initTG := &ThreadGroup{k: k}
	other := &ThreadGroup{k: k}
	k.init = initTG
	cases := []struct {
		name    string
		tg      *ThreadGroup
		sig     unix.Signal
		outside bool
		handler uint64
		ignored bool
	}{
		{"TERM from outside, no handler", initTG, unix.SIGTERM, true, SIG_DFL, true},
		{"INT from outside, no handler", initTG, unix.SIGINT, true, SIG_DFL, true},
		{"KILL from outside", initTG, unix.SIGKILL, true, SIG_DFL, false},
		{"STOP from outside", initTG, unix.SIGSTOP, true, SIG_DFL, false},
		{"KILL from inside", initTG, unix.SIGKILL, false, SIG_DFL, true},
		{"TERM from inside, no handler", initTG, unix.SIGTERM, false, SIG_DFL, true},
		{"TERM from outside, handler", initTG, unix.SIGTERM, true, 0x1000, false},
		{"TERM from inside, handler", initTG, unix.SIGTERM, false, 0x1000, false},
		{"TERM to another process", other, unix.SIGTERM, true, SIG_DFL, false},
		{"KILL from inside to another process", other, unix.SIGKILL, false, SIG_DFL, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.tg.actions[c.sig-1] = SigAction{Handler: c.handler}
			info := SigInfo{Signo: int32(c.sig), outside: c.outside}
			c.tg.mu.Lock()
			got := c.tg.initIgnoresLocked(c.sig, &info)
			c.tg.mu.Unlock()
			if got != c.ignored {
				t.Errorf("ignored = %v, want %v", got, c.ignored)
			}
		})
	}
}

// TestOutsideSigInfo checks what an init's handler sees of the runtime's
// kill: SI_USER from PID 0, as for a sender in an ancestor namespace.
func TestOutsideSigInfo(t *testing.T) {
	info := outsideSigInfo(unix.SIGTERM)
	b := make([]byte, SigInfoSize)
	info.Encode(b)
	if info.Code != SI_USER || info.PID != 0 || !info.outside {
		t.Errorf("outsideSigInfo = %+v", info)
	}
	if b[8] != 0 || b[16] != 0 {
		t.Errorf("encoded si_code/si_pid not zero: % x", b[:24])
	}
}
