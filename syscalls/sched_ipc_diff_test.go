package syscalls_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"moat/sentry/fs/mqueue"
	"moat/sentry/kernel"
	"moat/sentry/kernel/mq"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// TestSchedDifferential runs sched.c (scheduling policies, sched_setattr
// sizes, nice, CPU masks, personality, ioprio, membarrier, pidfds)
// natively and in moat and compares the outputs.
func TestSchedDifferential(t *testing.T) {
	needDiffHost(t)
	// Root in moat has every capability; natively the test's root must
	// too, or lowering nice and leaving SCHED_IDLE differ.
	if !hostHasCap(unix.CAP_SYS_NICE) {
		t.Skip("needs CAP_SYS_NICE for the native run")
	}
	root := tree{progs: []string{"sched"}}.make(t)
	diffRun(t, root, root, []string{"sched"})
}

// TestMqDifferential runs mq.c (POSIX message queues) natively, in an
// IPC namespace of its own, and in moat and compares the outputs.
func TestMqDifferential(t *testing.T) {
	needDiffHost(t)
	root := tree{progs: []string{"mq"}}.make(t)
	diffRun(t, root, root, []string{"mq"})
}

// withMqueue mounts the mqueue file system at /dev/mqueue, as the
// default OCI spec does.
func withMqueue(c *kernel.Config) {
	if c.FSTypes == nil {
		c.FSTypes = map[string]kernel.FSFactory{}
	}
	c.FSTypes["mqueue"] = func(k *kernel.Kernel, _ kernel.MountSpec) (vfs.FilesystemImpl, error) {
		return mqueue.New(mq.For(k)), nil
	}
	c.Mounts = append(c.Mounts,
		tmpfsMount("/dev"),
		kernel.MountSpec{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue"})
}

// mqFSWant is mq_fs.c's output on Linux 6.x with mqueue mounted on
// /dev/mqueue in a fresh IPC namespace. (The native run cannot be
// differential here: a mount made by the test process shows the test's
// IPC namespace, not the child's.)
const mqFSWant = `open ok 1
read 60: QSIZE:7          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     
stat = 0
mode 100640 size 80
stat dir = 0
dir mode 41777
create by open = 1
mq_open of made ok 1
entries fsq 1 made 1 other 0
mkdir = -1 EPERM
unlink fsq = 0
mq_open after unlink = -1 ENOENT
stat after unlink = -1 ENOENT
mq_unlink made = 0
stat made after mq_unlink = -1 ENOENT
`

// TestMqueueFS checks the queues seen through /dev/mqueue in moat.
func TestMqueueFS(t *testing.T) {
	needDiffHost(t)
	root := tree{progs: []string{"mq_fs"}, dirs: []string{"dev"}}.make(t)
	got, st := boot(t, root, []string{"mq_fs"}, nil, withMqueue)
	if got != mqFSWant || st != (kernel.ExitStatus{}) {
		t.Errorf("mq_fs: status %+v, output\n%s\nwant\n%s%s", st, got, mqFSWant, diffLines(mqFSWant, got))
	}
}

// TestIPCDifferential runs ipc.c (System V shared memory, semaphores and
// message queues) natively, in an IPC namespace of its own, and in moat
// and compares the outputs.
func TestIPCDifferential(t *testing.T) {
	needDiffHost(t)
	root := tree{progs: []string{"ipc"}}.make(t)
	diffRun(t, root, root, []string{"ipc"})
}

// hostHasCap reports whether the test process has capability c in its
// effective set.
func hostHasCap(c int) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			set, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && set&(1<<c) != 0
		}
	}
	return false
}
