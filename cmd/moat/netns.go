package main

import (
	"fmt"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// startInNetNS starts cmd in the network namespace at path (config.json's
// linux.namespaces entry of type network with a path: a Kubernetes pod's,
// `docker run --network container:X`), or where moat runs when path is "".
//
// The sentry's sockets (sentry/socket/hostinet) are host sockets made in
// the sentry's own network namespace, so the sentry process itself must
// be in the one to join. A network namespace belongs to a thread, and a
// child inherits its forking thread's: so one locked OS thread enters the
// namespace, forks the sentry, and comes back. A thread that cannot come
// back is never unlocked, and Go ends it with its goroutine rather than
// reuse it in the wrong namespace.
func startInNetNS(cmd *exec.Cmd, path string) error {
	if path == "" {
		return cmd.Start()
	}
	target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("network namespace %q: %w", path, err)
	}
	defer unix.Close(target)
	runtime.LockOSThread()
	own, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("own network namespace: %w", err)
	}
	defer unix.Close(own)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("joining network namespace %q: %w", path, err)
	}
	startErr := cmd.Start()
	if err := unix.Setns(own, unix.CLONE_NEWNET); err != nil {
		// Stay locked: the thread dies with this goroutine's end.
		if startErr == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		return fmt.Errorf("leaving network namespace %q: %w", path, err)
	}
	runtime.UnlockOSThread()
	return startErr
}
