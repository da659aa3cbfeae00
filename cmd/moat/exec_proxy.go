package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"moat/sentry/kernel"
)

// execConnFD is the descriptor of the exec connection a detached
// proxy inherits.
const execConnFD = 3

var execProxyCommand = &cli.Command{
	Name:   "exec-proxy",
	Usage:  "(internal) stand for a detached exec'd process on the host",
	Hidden: true,
	Action: func(ctx *cli.Context) error {
		f, err := inheritedFile(execConnFD, "exec connection")
		if err != nil {
			return fmt.Errorf("exec-proxy: %w (this verb is started by exec --detach)", err)
		}
		exitLike(proxyExec(f))
		return nil
	},
}

// callExec asks the sentry listening on sock to start p with fds as its
// descriptors 0, 1, 2 ... and returns the connection, whose next message
// will be the process's execStatus. The connection is a plain
// descriptor, read only as far as the reply, so that a detached proxy can
// take it over with nothing left behind in a buffer.
func callExec(sock string, p *specs.Process, fds []int) (*os.File, error) {
	data, err := json.Marshal(controlRequest{Op: opExec, Exec: &execRequest{Process: p, FDs: len(fds)}})
	if err != nil {
		return nil, err
	}
	name, done, err := sockPath(sock)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoSentry, err)
	}
	defer done()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", sock, err)
	}
	f := os.NewFile(uintptr(fd), "exec connection")
	ok := false
	defer func() {
		if !ok {
			f.Close()
		}
	}()
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: name}); err != nil {
		return nil, fmt.Errorf("%w: %v", errNoSentry, err)
	}
	// The sentry answers once the program is loaded; a stuck one must
	// not hang exec forever. The timeout is lifted for the long wait.
	tv := unix.NsecToTimeval(controlTimeout.Nanoseconds())
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	// The descriptors ride with the first byte; the request is small
	// enough for one message on a local stream socket, and a short
	// write just goes on without them.
	n, err := unix.SendmsgN(fd, data, unix.UnixRights(fds...), nil, 0)
	for err == nil && n < len(data) {
		data = data[n:]
		n, err = unix.Write(fd, data)
	}
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", sock, err)
	}
	line, err := readLine(fd, maxRequest)
	if err != nil {
		return nil, fmt.Errorf("%w: control socket %s: %v", errNoSentry, sock, err)
	}
	var resp controlResponse
	if err := json.Unmarshal(line, &resp); err != nil {
		return nil, fmt.Errorf("control socket %s: bad reply: %w", sock, err)
	}
	if resp.Error != "" {
		return nil, errors.New(resp.Error)
	}
	var zero unix.Timeval
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &zero)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &zero)
	ok = true
	return f, nil
}

// readLine reads up to and without a newline, a byte at a time (the
// reply is short and nothing after it may be consumed).
func readLine(fd, max int) ([]byte, error) {
	var line []byte
	var b [1]byte
	for len(line) < max {
		n, err := unix.Read(fd, b[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, errors.New("connection closed before the reply")
		}
		if b[0] == '\n' {
			return line, nil
		}
		line = append(line, b[0])
	}
	return nil, errors.New("reply too long")
}

// forwardedSignals are the signals a proxy passes on: all it can catch
// but SIGCHLD (its own children's business), SIGURG (the Go runtime's
// preemption) and SIGWINCH (a terminal's size, not the process's).
func forwardedSignals() []os.Signal {
	var sigs []os.Signal
	for s := unix.Signal(1); s <= 31; s++ {
		switch s {
		case unix.SIGKILL, unix.SIGSTOP, unix.SIGCHLD, unix.SIGURG, unix.SIGWINCH:
			continue
		}
		sigs = append(sigs, s)
	}
	return sigs
}

// proxyExec stands for the exec'd process on the host: it passes the
// signals it receives to the process and returns the process's status.
// When the sandbox goes away without a status (the sentry died), the
// process died with it: the status is SIGKILL's.
func proxyExec(conn *os.File) kernel.ExitStatus {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwardedSignals()...)
	defer signal.Stop(sigs)
	go func() {
		enc := json.NewEncoder(conn)
		for s := range sigs {
			// A failed write means the session is over; the read below
			// sees it too.
			if enc.Encode(controlRequest{Op: opKill, Signal: int(s.(unix.Signal))}) != nil {
				return
			}
		}
	}()
	var st execStatus
	if err := json.NewDecoder(conn).Decode(&st); err != nil {
		fmt.Fprintln(os.Stderr, "moat exec: the sandbox ended before the process reported its status")
		return kernel.ExitStatus{Signal: unix.SIGKILL}
	}
	return kernel.ExitStatus{Code: st.Code, Signal: unix.Signal(st.Signal)}
}

// startExecProxy leaves a `moat exec-proxy` process holding conn and
// returns its PID. It has no streams of its own (the process has them)
// and a session of its own, so a terminal's signals do not reach it.
func startExecProxy(o *options, conn *os.File) (int, error) {
	args := append([]string{"moat"}, o.globalArgs()...)
	args = append(args, "exec-proxy")
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        args,
		Env:         []string{},
		ExtraFiles:  []*os.File{conn}, // fd 3
		SysProcAttr: &unix.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("starting the exec proxy: %w", err)
	}
	pid := cmd.Process.Pid
	// Not waited for: whoever waits for the exec'd process (containerd's
	// shim, a subreaper) reaps it.
	cmd.Process.Release()
	return pid, nil
}
