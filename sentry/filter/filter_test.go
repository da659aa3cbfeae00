//go:build cgo

package filter

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// childEnv selects what the re-executed test binary does under the filter.
const childEnv = "MOAT_FILTER_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(child(mode))
	}
	os.Exit(m.Run())
}

// child installs the filter and then does what mode says. It returns
// only when the filter let it live.
func child(mode string) int {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Println("no_new_privs:", err)
		return 3
	}
	// The ptrace platform's kind of extras: requests and signals pinned.
	extra := append(Allow("wait4"),
		Rule{Name: "ptrace", Arg: 0, Values: []uint64{unix.PTRACE_ATTACH, unix.PTRACE_CONT}},
		Rule{Name: "kill", Arg: 1, Values: []uint64{uint64(unix.SIGKILL)}})
	if err := Install(extra); err != nil {
		fmt.Println("install:", err)
		return 3
	}
	switch mode {
	case "openat":
		unix.Openat(unix.AT_FDCWD, "/etc/passwd", unix.O_RDONLY, 0)
	case "execve":
		unix.Exec("/bin/true", []string{"true"}, nil)
	case "mount":
		unix.Mount("none", "/mnt", "tmpfs", 0, "")
	case "fork":
		// A clone without CLONE_VM|CLONE_THREAD makes a process.
		unix.RawSyscall(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0)
	case "ptrace-traceme":
		unix.RawSyscall(unix.SYS_PTRACE, unix.PTRACE_TRACEME, 0, 0)
	case "ptrace-seize":
		unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_SEIZE, 1, 0, 0, 0, 0)
	case "ptrace-attach":
		// Allowed by the filter; the kernel answers (EPERM or ESRCH).
		unix.RawSyscall(unix.SYS_PTRACE, unix.PTRACE_ATTACH, 0x7fffffff, 0)
	case "kill-other":
		unix.Kill(1, 0)
	case "kill-other-sigkill":
		// Allowed by the platform's rule; no such process.
		unix.Kill(0x7fffffff, unix.SIGKILL)
	case "kill-self":
		unix.Kill(unix.Getpid(), 0)
	case "tgkill-other":
		unix.Tgkill(1, 1, 0)
	case "ioctl-tiocsti":
		c := byte('x')
		unix.Syscall(unix.SYS_IOCTL, 0, unix.TIOCSTI, uintptr(unsafe.Pointer(&c)))
	case "ioctl-tiocspgrp":
		pgrp := int32(1)
		unix.Syscall(unix.SYS_IOCTL, 0, unix.TIOCSPGRP, uintptr(unsafe.Pointer(&pgrp)))
	case "prctl-dumpable":
		unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0)
	case "socket-unix":
		unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	case "socket-raw":
		unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
	case "socket-packet":
		unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM, 0)
	case "socket-proto":
		// Only protocol 0: the sentry picks TCP or UDP by type.
		unix.Socket(unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_TCP)
	case "setsockopt-mark":
		fd, _ := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK, 1)
	case "bind-unix":
		fd, _ := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
		var sa [110]byte
		sa[0] = unix.AF_UNIX
		unix.Syscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&sa[0])), uintptr(len(sa)))
	case "inet":
		// What hostinet does: these must all get through.
		fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			fmt.Println("socket:", err)
			return 5
		}
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		unix.Bind(fd, &unix.SockaddrInet6{})
		unix.Listen(fd, 1)
		unix.Connect(fd, &unix.SockaddrInet6{Port: 1})
		unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	case "setuid":
		unix.RawSyscall(unix.SYS_SETUID, 0, 0, 0)
	case "clone3":
		_, _, e := unix.RawSyscall(unix.SYS_CLONE3, 0, 0, 0)
		fmt.Println(e == unix.ENOSYS)
		return 0
	case "work":
		return work()
	}
	fmt.Println("survived", mode)
	return 0
}

// work is a Go program's ordinary business: goroutines on many threads,
// timers, channels, allocation and garbage collection, locked threads.
func work() int {
	var wg sync.WaitGroup
	results := make(chan int, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%8 == 0 {
				// New OS threads get created for locked goroutines.
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
			}
			buf := make([][]byte, 0, 100)
			for j := range 100 {
				buf = append(buf, make([]byte, 4096*(j%7+1)))
			}
			time.Sleep(time.Millisecond)
			results <- len(buf)
		}()
	}
	wg.Wait()
	close(results)
	n := 0
	for r := range results {
		n += r
	}
	runtime.GC()
	t := time.NewTimer(5 * time.Millisecond)
	<-t.C
	var r, w [2]int
	_ = r
	if err := unix.Pipe2(w[:], unix.O_CLOEXEC); err != nil {
		fmt.Println("pipe2:", err)
		return 4
	}
	unix.Write(w[1], []byte("x"))
	b := make([]byte, 1)
	unix.Read(w[0], b)
	fmt.Println("ok", n, string(b))
	return 0
}

// runChild re-executes the test binary in mode and returns its output
// and wait status.
func runChild(t *testing.T, mode string) (string, syscall.WaitStatus) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("%s: %v", mode, err)
	}
	return string(out), cmd.ProcessState.Sys().(syscall.WaitStatus)
}

func TestForbiddenCallsKill(t *testing.T) {
	for _, mode := range []string{
		"openat", "execve", "mount", "fork",
		"ptrace-traceme", "ptrace-seize", "kill-other", "tgkill-other",
		"ioctl-tiocsti", "ioctl-tiocspgrp", "prctl-dumpable", "setuid",
		"socket-unix", "socket-raw", "socket-packet", "socket-proto", "setsockopt-mark", "bind-unix",
	} {
		t.Run(mode, func(t *testing.T) {
			out, ws := runChild(t, mode)
			if !ws.Signaled() || ws.Signal() != unix.SIGSYS {
				t.Fatalf("child %s: status %v, output %q; want death by SIGSYS", mode, ws, out)
			}
		})
	}
}

// TestAllowedCallsLive checks the calls the rules allow do get through,
// so the kill cases above fail for the argument, not the call.
func TestAllowedCallsLive(t *testing.T) {
	for _, mode := range []string{"ptrace-attach", "kill-other-sigkill", "kill-self", "inet"} {
		t.Run(mode, func(t *testing.T) {
			out, ws := runChild(t, mode)
			if ws.ExitStatus() != 0 || !strings.Contains(out, "survived "+mode) {
				t.Fatalf("child %s: status %v, output %q; want it to survive", mode, ws, out)
			}
		})
	}
}

func TestGoRuntimeWorks(t *testing.T) {
	out, ws := runChild(t, "work")
	if ws.ExitStatus() != 0 || !strings.HasPrefix(out, "ok 6400 x") {
		t.Fatalf("status %v, output %q", ws, out)
	}
	out, ws = runChild(t, "clone3")
	if ws.ExitStatus() != 0 || strings.TrimSpace(out) != "true" {
		t.Fatalf("clone3: status %v, output %q; want ENOSYS", ws, out)
	}
}

func TestExtraForbidden(t *testing.T) {
	if err := Install(Allow("ptrace", "execve")); err == nil || !strings.Contains(err.Error(), `"execve"`) {
		t.Fatalf("Install(execve) = %v, want a refusal naming execve", err)
	}
}

func TestBuildWithExtra(t *testing.T) {
	// Platform extras may name calls that are also conditional here
	// (kill), and names arm64 lacks: both must be accepted.
	f, err := build(append(Allow("ptrace", "kill", "process_vm_readv", "no_such_call"),
		Rule{Name: "pidfd_send_signal", Arg: 1, Values: []uint64{9, 12}},
		Rule{Name: "no_such_call", Arg: 0, Values: []uint64{1}}))
	if err != nil {
		t.Fatal(err)
	}
	f.Release()
}
