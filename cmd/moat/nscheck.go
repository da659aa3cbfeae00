package main

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// checkOwnMountNS refuses to go on unless this process runs in a mount
// namespace other than its parent's. The hidden verbs make mounts
// private, unmount and pivot: run by hand from a shell, in the host's
// namespace, they would do that to the host. Their real parents (create
// for the sentry, the sentry for the gofer) start them with CLONE_NEWNS.
// It fails closed: a namespace it cannot compare counts as the parent's.
func checkOwnMountNS(verb string) error {
	var self, parent unix.Stat_t
	ppid := os.Getppid()
	if err := unix.Stat("/proc/self/ns/mnt", &self); err != nil {
		return fmt.Errorf("%s: own mount namespace: %w", verb, err)
	}
	if err := unix.Stat("/proc/"+strconv.Itoa(ppid)+"/ns/mnt", &parent); err != nil {
		return fmt.Errorf("%s: mount namespace of parent %d: %w", verb, ppid, err)
	}
	if self.Dev == parent.Dev && self.Ino == parent.Ino {
		return fmt.Errorf("%s: runs only in a mount namespace of its own (it is started by moat, not by hand)", verb)
	}
	return nil
}
