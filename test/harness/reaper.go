package harness

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The end-to-end tests stand where containerd's shim stands: the shim is a
// child subreaper, so a sentry orphaned by `moat create` exiting becomes its
// child and is reaped when it dies. Without that, the sentry would be
// re-parented to the machine's init, and an init that does not reap (some
// container and VM inits don't) would leave zombies that look alive.

var (
	// reapMu is held while Run starts a child and while the reaper reaps,
	// so the reaper never takes the exit status of a child os/exec is
	// about to wait for.
	reapMu sync.Mutex
	// own holds the PIDs Run started and waits for itself.
	own = map[int]bool{}
)

// StartReaper makes the calling process a child subreaper and reaps, every
// 100ms, the orphans that end up its children.
func StartReaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", err)
	}
	go func() {
		for {
			time.Sleep(100 * time.Millisecond)
			reapOrphans()
		}
	}()
	return nil
}

func reapOrphans() {
	reapMu.Lock()
	defer reapMu.Unlock()
	me := os.Getpid()
	for _, pid := range allPIDs() {
		if own[pid] {
			continue
		}
		ppid, state, _, err := stat(pid)
		if err != nil || ppid != me || state != 'Z' {
			continue
		}
		var ws unix.WaitStatus
		_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
	}
}

// start starts cmd and records it as one the reaper must leave alone;
// every child the harness starts goes through start and wait.
func start(cmd *exec.Cmd) error {
	reapMu.Lock()
	defer reapMu.Unlock()
	if err := cmd.Start(); err != nil {
		return err
	}
	own[cmd.Process.Pid] = true
	return nil
}

// wait waits for a child started by start.
func wait(cmd *exec.Cmd) error {
	err := cmd.Wait()
	reapMu.Lock()
	delete(own, cmd.Process.Pid)
	reapMu.Unlock()
	return err
}

// run is cmd.Run through start and wait.
func run(cmd *exec.Cmd) error {
	if err := start(cmd); err != nil {
		return err
	}
	return wait(cmd)
}

// combinedOutput is cmd.CombinedOutput through start and wait.
func combinedOutput(cmd *exec.Cmd) ([]byte, error) {
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := run(cmd)
	return b.Bytes(), err
}
