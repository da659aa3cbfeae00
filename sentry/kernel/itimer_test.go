package kernel

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// waitPending polls until SIGALRM is pending on tg or the deadline passes.
func waitPending(tg *ThreadGroup, d time.Duration) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		tg.mu.Lock()
		p := tg.pending&SigBit(unix.SIGALRM) != 0
		tg.mu.Unlock()
		if p {
			return true
		}
		time.Sleep(2 * time.Millisecond)
	}
	return false
}

func TestRealTimerSetGetAndFire(t *testing.T) {
	tg, _ := newTestGroup()
	tg.actions[unix.SIGALRM-1] = SigAction{Handler: 0x1000}
	if v, i := tg.RealTimer(); v != 0 || i != 0 {
		t.Fatalf("fresh timer = %v/%v, want 0/0", v, i)
	}
	tg.SetRealTimer(time.Hour, time.Minute)
	v, i := tg.RealTimer()
	if v <= 59*time.Minute || v > time.Hour || i != time.Minute {
		t.Fatalf("armed timer = %v/%v, want ~1h/1m", v, i)
	}
	ov, oi := tg.SetRealTimer(10*time.Millisecond, 10*time.Millisecond)
	if ov <= 59*time.Minute || oi != time.Minute {
		t.Fatalf("old = %v/%v, want ~1h/1m", ov, oi)
	}
	if !waitPending(tg, 2*time.Second) {
		t.Fatal("SIGALRM not sent")
	}
	if info := tg.pendingInfo[unix.SIGALRM-1]; info.Code != SI_KERNEL {
		t.Errorf("si_code = %#x, want SI_KERNEL", info.Code)
	}
	// The interval reloads: take the signal and wait for the next one.
	tg.mu.Lock()
	tg.pending &^= SigBit(unix.SIGALRM)
	tg.mu.Unlock()
	if !waitPending(tg, 2*time.Second) {
		t.Fatal("interval timer did not fire again")
	}
	if v, _ := tg.RealTimer(); v <= 0 {
		t.Errorf("interval timer reads %v, want armed", v)
	}
	tg.stopRealTimer()
	tg.mu.Lock()
	tg.pending &^= SigBit(unix.SIGALRM)
	tg.mu.Unlock()
	if waitPending(tg, 50*time.Millisecond) {
		t.Error("stopped timer still fires")
	}
	if v, i := tg.RealTimer(); v != 0 || i != 0 {
		t.Errorf("stopped timer = %v/%v, want 0/0", v, i)
	}
}
