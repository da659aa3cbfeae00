package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The sentry and its stubs run as a user of their own, which no file, no
// other process and no other sandbox on the host has: sandboxIDBase plus
// the sentry's PID, for both uid and gid.
//
// Why not 65534 ("nobody")? Same-uid processes may signal each other, and
// once dumpable (the stubs must be, for the sentry to attach to them),
// ptrace and process_vm_writev each other. A shared uid would let a
// compromised sentry write into another sandbox's stubs, and any host
// daemon running as nobody into this one's. PIDs are unique among live
// processes, and the sentry outlives its stubs (they die with it), so no
// two live sandboxes share an id. The base is above the ranges systemd
// hands out (system and regular users below 65536, nspawn/userns ranges
// 524288-1879048191) and the highest id it can give (base + PID_MAX_LIMIT,
// 2^22) stays below 2^31.
//
// Caveat: two moat instances in different PID namespaces of one host
// (moat inside two containers) may pick the same id.
const sandboxIDBase = 0x70000000

// nobodyID is the fallback identity where the dedicated one cannot be
// mapped (moat itself running in a user namespace with a narrow map).
const nobodyID = 65534

// Securebits (linux/securebits.h) that would keep capabilities across a
// uid change.
const (
	secureNoSetuidFixup = 2
	secureKeepCaps      = 4
)

// sandboxIdentity returns the uid and gid (the same number) the sandbox
// runs as. It reads /proc, so it must run before the pivot.
func sandboxIdentity() (int, error) {
	for _, id := range []int{sandboxIDBase + os.Getpid(), nobodyID} {
		uidOK, err := idMapped("/proc/self/uid_map", id)
		if err != nil {
			return 0, err
		}
		gidOK, err := idMapped("/proc/self/gid_map", id)
		if err != nil {
			return 0, err
		}
		if uidOK && gidOK {
			return id, nil
		}
	}
	return 0, fmt.Errorf("sandbox: neither uid %d nor %d is mapped in moat's user namespace: no unprivileged identity to run as", sandboxIDBase+os.Getpid(), nobodyID)
}

// idMapped reports whether id falls in one of the ranges of the uid_map
// or gid_map file at path ("inside outside count" per line).
func idMapped(path string, id int) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("sandbox: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			return false, fmt.Errorf("sandbox: %s: malformed line %q", path, sc.Text())
		}
		inside, err1 := strconv.ParseUint(fields[0], 10, 32)
		count, err2 := strconv.ParseUint(fields[2], 10, 32)
		if err1 != nil || err2 != nil {
			return false, fmt.Errorf("sandbox: %s: malformed line %q", path, sc.Text())
		}
		if uint64(id) >= inside && uint64(id)-inside < count {
			return true, nil
		}
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("sandbox: %s: %w", path, err)
	}
	return false, nil
}

// switchIdentity makes every thread of the sentry run as uid and gid id
// with no supplementary group and no capability.
//
// Capabilities are per thread in Linux, and with cgo (libseccomp) Go
// cannot run capset on every thread. A uid change can: syscall.Setresuid
// and Setgroups apply to all threads (glibc's setxid broadcast under
// cgo, AllThreadsSyscall without), and when a thread's real, effective
// and saved uids all leave 0 the kernel clears its permitted, effective
// and ambient sets. New threads are cloned from existing ones and
// inherit that.
//
// What stays per thread: the bounding and inheritable sets, emptied here
// on the calling thread only. Both matter only at execve, which the
// sentry's filter kills, and an unprivileged thread can never raise an
// effective capability again whatever they hold.
//
// Preconditions: called on the main thread (locked) while the process is
// still root, before the seccomp filter; the platform's stubs already run
// as id.
func switchIdentity(id, lastCap int) error {
	for c := 0; c <= lastCap; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && err != unix.EINVAL {
			return fmt.Errorf("sandbox: drop capability %d from the bounding set: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && err != unix.EINVAL {
		return fmt.Errorf("sandbox: clear ambient capabilities: %w", err)
	}
	// With SECBIT_KEEP_CAPS or SECBIT_NO_SETUID_FIXUP inherited from
	// whoever started moat, the uid change would leave capabilities
	// in place: refuse rather than run privileged.
	bits, err := unix.PrctlRetInt(unix.PR_GET_SECUREBITS, 0, 0, 0, 0)
	if err != nil {
		return fmt.Errorf("sandbox: read securebits: %w", err)
	}
	if bits&(1<<secureKeepCaps|1<<secureNoSetuidFixup) != 0 {
		return fmt.Errorf("sandbox: securebits %#x keep capabilities across a uid change", bits)
	}
	// Groups and gid first: changing them needs CAP_SETGID, which the
	// uid change takes away.
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("sandbox: clear supplementary groups: %w", err)
	}
	if err := syscall.Setresgid(id, id, id); err != nil {
		return fmt.Errorf("sandbox: switch to gid %d: %w", id, err)
	}
	if err := syscall.Setresuid(id, id, id); err != nil {
		return fmt.Errorf("sandbox: switch to uid %d: %w", id, err)
	}
	// The inheritable set is not cleared by the uid change.
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("sandbox: drop capabilities: %w", err)
	}
	// Check rather than trust: read back this thread's sets.
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("sandbox: read capabilities: %w", err)
	}
	for _, d := range data {
		if d.Effective|d.Permitted|d.Inheritable != 0 {
			return fmt.Errorf("sandbox: capabilities left after switching to uid %d: %+v", id, data)
		}
	}
	return nil
}
