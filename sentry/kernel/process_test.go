package kernel

import (
	"encoding/binary"
	"io"
	"log/slog"
	"testing"
	"time"

	"moat/sentry/mm"
	"moat/sentry/mm/mmtest"

	"golang.org/x/sys/unix"
)

// newFutexTask returns a kernel with one task over a fake address space
// holding one writable page at addr.
func newFutexTask(t *testing.T, k *Kernel, m *mm.MemoryManager) *Task {
	t.Helper()
	tg := &ThreadGroup{k: k, pid: 1, rlimits: defaultRlimits()}
	task := &Task{k: k, tg: tg, tid: 1, mm: m, wake: make(chan struct{}, 1)}
	task.timer = time.NewTimer(time.Hour)
	task.timer.Stop()
	tg.tasks = []*Task{task}
	return task
}

func newFutexMM(t *testing.T) (*mm.MemoryManager, uintptr) {
	t.Helper()
	p := mmtest.NewPlatform()
	as, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	m := mm.New(p, as)
	addr, err := m.MMap(mm.MMapOpts{Length: mm.PageSize, Prot: unix.PROT_READ | unix.PROT_WRITE,
		Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS})
	if err != nil {
		t.Fatal(err)
	}
	return m, addr
}

func testKernel() *Kernel {
	return &Kernel{log: slog.New(slog.NewTextHandler(io.Discard, nil)), warned: map[string]bool{},
		tasks: map[int32]*Task{}, groups: map[int32]*ThreadGroup{}, mmUsers: map[*mm.MemoryManager]int{}}
}

func TestFutexWaitWake(t *testing.T) {
	k := testKernel()
	m, addr := newFutexMM(t)
	a := newFutexTask(t, k, m)
	b := newFutexTask(t, k, m)

	if err := a.FutexWait(addr, 1, futexBitsetAny, time.Time{}); err != unix.EAGAIN {
		t.Errorf("wait on a different value = %v, want EAGAIN", err)
	}
	if err := a.FutexWait(addr, 0, futexBitsetAny, time.Now().Add(10*time.Millisecond)); err != unix.ETIMEDOUT {
		t.Errorf("timed wait = %v, want ETIMEDOUT", err)
	}
	if err := a.FutexWait(addr+mm.PageSize*1000, 0, futexBitsetAny, time.Time{}); err != unix.EFAULT {
		t.Errorf("wait on unmapped memory = %v, want EFAULT", err)
	}

	done := make(chan error, 1)
	go func() { done <- a.FutexWait(addr, 0, 0x1, time.Time{}) }()
	// Wake until the waiter is queued; a bitset that misses wakes nobody.
	for {
		if n := b.FutexWake(addr, 1, 0x2); n != 0 {
			t.Fatalf("wake with a disjoint bitset woke %d", n)
		}
		if n := b.FutexWake(addr, 1, futexBitsetAny); n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := <-done; err != nil {
		t.Errorf("woken wait = %v", err)
	}
	if n := b.FutexWake(addr, 10, futexBitsetAny); n != 0 {
		t.Errorf("wake with no waiters woke %d", n)
	}
}

func TestFutexRequeue(t *testing.T) {
	k := testKernel()
	m, addr := newFutexMM(t)
	w1, w2 := newFutexTask(t, k, m), newFutexTask(t, k, m)
	waker := newFutexTask(t, k, m)
	addr2 := addr + 64
	d1, d2 := make(chan error, 1), make(chan error, 1)
	go func() { d1 <- w1.FutexWait(addr, 0, futexBitsetAny, time.Time{}) }()
	go func() { d2 <- w2.FutexWait(addr, 0, futexBitsetAny, time.Time{}) }()
	for queued(k, addr) < 2 {
		time.Sleep(time.Millisecond)
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], 7)
	m.CopyOut(addr, b[:])
	if _, err := waker.FutexRequeue(addr, addr2, 1, 1, true, 0); err != unix.EAGAIN {
		t.Errorf("CMP_REQUEUE with a stale value = %v, want EAGAIN", err)
	}
	n, err := waker.FutexRequeue(addr, addr2, 1, 1, true, 7)
	if err != nil || n != 2 {
		t.Fatalf("CMP_REQUEUE = %d, %v; want 2", n, err)
	}
	if got := waker.FutexWake(addr2, 1, futexBitsetAny); got != 1 {
		t.Errorf("wake of the requeued waiter woke %d", got)
	}
	for _, d := range []chan error{d1, d2} {
		if err := <-d; err != nil {
			t.Errorf("wait = %v", err)
		}
	}
}

// queued counts the waiters on addr.
func queued(k *Kernel, addr uintptr) int {
	b := k.futexes.bucket(addr)
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, w := range b.waiters {
		if w.addr.Load() == addr {
			n++
		}
	}
	return n
}

func TestCheckCloneFlags(t *testing.T) {
	k := testKernel()
	init := &ThreadGroup{k: k, pid: 1}
	other := &ThreadGroup{k: k, pid: 2}
	k.init = init
	cases := []struct {
		name  string
		tg    *ThreadGroup
		flags uint64
		sig   unix.Signal
		want  error
	}{
		{"fork", other, 0, unix.SIGCHLD, nil},
		{"pthread", other, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
			CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID, 0, nil},
		{"thread without sighand", other, CLONE_VM | CLONE_THREAD, 0, unix.EINVAL},
		{"sighand without vm", other, CLONE_SIGHAND, 0, unix.EINVAL},
		{"newns with fs", other, CLONE_NEWNS | CLONE_FS, 0, unix.EINVAL},
		{"namespace", other, CLONE_NEWNET, unix.SIGCHLD, unix.EPERM},
		{"pidfd", other, CLONE_PIDFD, unix.SIGCHLD, unix.EINVAL},
		{"init CLONE_PARENT", init, CLONE_PARENT, unix.SIGCHLD, unix.EINVAL},
		{"child CLONE_PARENT", other, CLONE_PARENT, unix.SIGCHLD, nil},
		{"bad exit signal", other, 0, 65, unix.EINVAL},
	}
	for _, c := range cases {
		task := &Task{k: k, tg: c.tg}
		a := CloneArgs{Flags: c.flags, ExitSignal: c.sig}
		if err := task.checkCloneFlags(&a); err != c.want {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestWaitMatches(t *testing.T) {
	child := &ThreadGroup{pid: 5, pgid: 5, exitSignal: unix.SIGCHLD}
	clone := &ThreadGroup{pid: 6, pgid: 1, exitSignal: unix.SIGUSR1}
	cases := []struct {
		c    *ThreadGroup
		req  WaitRequest
		want bool
	}{
		{child, WaitRequest{Which: WaitAny}, true},
		{child, WaitRequest{Which: WaitPID, ID: 5}, true},
		{child, WaitRequest{Which: WaitPID, ID: 6}, false},
		{child, WaitRequest{Which: WaitPGID, ID: 5}, true},
		{child, WaitRequest{Which: WaitPGID, ID: 1}, false},
		{child, WaitRequest{Which: WaitAny, Options: WCLONE}, false},
		{clone, WaitRequest{Which: WaitAny}, false},
		{clone, WaitRequest{Which: WaitAny, Options: WCLONE}, true},
		{clone, WaitRequest{Which: WaitAny, Options: WALL}, true},
	}
	for i, c := range cases {
		if got := waitMatches(c.c, c.req); got != c.want {
			t.Errorf("case %d: waitMatches(pid %d, %+v) = %v", i, c.c.pid, c.req, got)
		}
	}
}

func TestWaitStatus(t *testing.T) {
	if got := (ExitStatus{Code: 7}).WaitStatus(); got != 7<<8 {
		t.Errorf("exit 7 = %#x", got)
	}
	if got := (ExitStatus{Signal: unix.SIGTERM}).WaitStatus(); got != 15 {
		t.Errorf("SIGTERM = %#x", got)
	}
}

func TestRestartOrEINTR(t *testing.T) {
	restart := &SigAction{Handler: 0x1000, Flags: SA_RESTART}
	plain := &SigAction{Handler: 0x1000}
	cases := []struct {
		ret         unix.Errno
		act         *SigAction
		wantRestart bool
	}{
		{ERESTARTSYS, restart, true},
		{ERESTARTSYS, plain, false},
		{ERESTARTSYS, nil, true},
		{ERESTARTNOHAND, restart, false},
		{ERESTARTNOHAND, nil, true},
		{ERESTARTNOINTR, plain, true},
		{unix.EINTR, nil, false},
	}
	for _, c := range cases {
		task := &Task{}
		task.regs.SetReturn(negErrno(c.ret))
		task.regs.SetIP(0x2000)
		task.restartOrEINTR(c.act)
		restarted := task.regs.IP() != 0x2000
		if restarted != c.wantRestart {
			t.Errorf("%d with %+v: restarted=%v", c.ret, c.act, restarted)
		}
		if !restarted && c.ret != unix.EINTR && task.regs.Return() != negErrno(unix.EINTR) {
			t.Errorf("%d with %+v: result %#x, want -EINTR", c.ret, c.act, task.regs.Return())
		}
	}
}
