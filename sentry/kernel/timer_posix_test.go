package kernel

import (
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestPosixTimerIDsAndLimit(t *testing.T) {
	tg, task := newTestGroup()
	tg.rlimits[rlimitSigpending] = Rlimit{2, 2}
	for want := int32(0); want < 2; want++ {
		id, err := task.CreateTimer(unix.CLOCK_MONOTONIC, nil, nil)
		if err != nil || id != want {
			t.Fatalf("create = %d, %v; want %d", id, err, want)
		}
	}
	if _, err := task.CreateTimer(unix.CLOCK_MONOTONIC, nil, nil); err != unix.EAGAIN {
		t.Fatalf("third timer: %v, want EAGAIN", err)
	}
	if err := tg.DeleteTimer(0); err != nil {
		t.Fatal(err)
	}
	if err := tg.DeleteTimer(0); err != unix.EINVAL {
		t.Fatalf("delete twice: %v, want EINVAL", err)
	}
	// Ids keep counting up rather than reusing 0 at once.
	if id, err := task.CreateTimer(unix.CLOCK_MONOTONIC, nil, nil); err != nil || id != 2 {
		t.Fatalf("create after delete = %d, %v; want 2", id, err)
	}
	for _, ev := range []SigEvent{{Notify: 99}, {Signo: 0}, {Signo: 65}} {
		if _, err := task.CreateTimer(unix.CLOCK_MONOTONIC, nil, &ev); err != unix.EINVAL {
			t.Errorf("%+v: %v, want EINVAL", ev, err)
		}
	}
	tg.deletePosixTimers()
	if _, _, err := tg.TimerGet(1); err != unix.EINVAL {
		t.Fatalf("after deletePosixTimers: %v, want EINVAL", err)
	}
}

func TestPosixTimerSignalAndOverrun(t *testing.T) {
	tg, task := newTestGroup()
	tg.actions[unix.SIGUSR1-1] = SigAction{Handler: 0x1000}
	ev := SigEvent{Signo: int32(unix.SIGUSR1), Value: 0xabcd}
	id, err := task.CreateTimer(unix.CLOCK_MONOTONIC, nil, &ev)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tg.TimerSet(id, false, time.Millisecond, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	tg.mu.Lock()
	pending := tg.pending&SigBit(unix.SIGUSR1) != 0
	info := tg.pendingInfo[unix.SIGUSR1-1]
	tg.pending &^= SigBit(unix.SIGUSR1)
	tg.mu.Unlock()
	if !pending || info.Code != SI_TIMER {
		t.Fatalf("pending %v, code %d", pending, info.Code)
	}
	b := make([]byte, SigInfoSize)
	info.Encode(b)
	defer tg.TimerSet(id, false, 0, 0)
	le := binary.LittleEndian
	if int32(le.Uint32(b[8:])) != SI_TIMER || int32(le.Uint32(b[16:])) != id || le.Uint64(b[24:]) != 0xabcd {
		t.Fatalf("siginfo % x", b[:32])
	}
	if ovr := int32(le.Uint32(b[20:])); ovr < 5 {
		t.Errorf("si_overrun = %d, want >= 5 after 30 periods", ovr)
	}
	if n, _ := tg.TimerOverrun(id); n != int32(le.Uint32(b[20:])) {
		t.Errorf("timer_getoverrun = %d, want the delivered count", n)
	}
}

func TestCPUClockIDs(t *testing.T) {
	_, task := newTestGroup()
	cases := []struct {
		id     int32
		ok     bool
		err    error
		virt   bool
		thread bool
	}{
		{unix.CLOCK_MONOTONIC, false, nil, false, false},
		{unix.CLOCK_PROCESS_CPUTIME_ID, true, nil, false, false},
		{unix.CLOCK_THREAD_CPUTIME_ID, true, nil, false, true},
		{^int32(0)<<3 | cpuclockVirt, true, nil, true, false},
		{^int32(0)<<3 | cpuclockPerThread | cpuclockSched, true, nil, false, true},
		{^int32(0)<<3 | 3, true, unix.EINVAL, false, false},
	}
	for _, c := range cases {
		clk, ok, err := task.CPUClock(c.id)
		if ok != c.ok || err != c.err {
			t.Errorf("clock %d: ok %v err %v", c.id, ok, err)
			continue
		}
		if clk == nil {
			continue
		}
		if clk.virt != c.virt || (clk.task != nil) != c.thread {
			t.Errorf("clock %d: %+v", c.id, clk)
		}
	}
}
