package main

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// parseSignal reads a signal the way runc's kill does: a name with or
// without "SIG" in any case ("TERM", "sigkill"), or a number.
func parseSignal(s string) (unix.Signal, error) {
	if s == "" {
		return 0, fmt.Errorf("signal %q: empty", s)
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > maxSignal {
			return 0, fmt.Errorf("signal %d: out of range 1-%d", n, maxSignal)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	// Real-time signals: SIGRTMIN+N and SIGRTMAX-N, as kill(1) spells them.
	if n, ok := rtSignal(name); ok {
		return n, nil
	}
	return 0, fmt.Errorf("signal %q: unknown", s)
}

// Linux's real-time signal range as applications see it (glibc reserves
// 32 and 33 for itself).
const (
	sigRTMin  = 34
	maxSignal = 64
)

// rtSignal parses SIGRTMIN, SIGRTMIN+N, SIGRTMAX and SIGRTMAX-N.
func rtSignal(name string) (unix.Signal, bool) {
	var base, sign int
	var rest string
	switch {
	case strings.HasPrefix(name, "SIGRTMIN"):
		base, sign, rest = sigRTMin, 1, name[len("SIGRTMIN"):]
	case strings.HasPrefix(name, "SIGRTMAX"):
		base, sign, rest = maxSignal, -1, name[len("SIGRTMAX"):]
	default:
		return 0, false
	}
	if rest == "" {
		return unix.Signal(base), true
	}
	if (sign > 0 && rest[0] != '+') || (sign < 0 && rest[0] != '-') {
		return 0, false
	}
	n, err := strconv.Atoi(rest[1:])
	if err != nil || n < 0 {
		return 0, false
	}
	sig := base + sign*n
	if sig < sigRTMin || sig > maxSignal {
		return 0, false
	}
	return unix.Signal(sig), true
}

// terminates reports whether sig's default action ends a process, which
// is what happens to a container killed before it started.
func terminates(sig unix.Signal) bool {
	switch sig {
	case unix.SIGCHLD, unix.SIGCONT, unix.SIGURG, unix.SIGWINCH,
		unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU:
		return false
	}
	return true
}

// waitStatusCode is the shell's convention for a status: the exit code,
// or 128+N when the process died of signal N.
func waitStatusCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
