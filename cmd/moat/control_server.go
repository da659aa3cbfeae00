package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"moat/sentry/kernel"
)

// controlServer is the sentry's side of the control socket.
type controlServer struct {
	ln *net.UnixListener
	// exited receives the status the sentry exits with; the first
	// sender wins.
	exited chan kernel.ExitStatus

	// mu serialises requests and signals, and guards status.
	mu     sync.Mutex
	status specs.ContainerState

	// sessions counts exec connections still to report a status.
	sessions sync.WaitGroup
}

// maxSockPath is the longest path that fits sockaddr_un.sun_path with its
// terminating NUL.
const maxSockPath = 107

// sockPath returns a path to reach the socket file path that fits
// sockaddr_un: path itself, or when too long (a long --root or ID),
// /proc/self/fd/N/NAME through a descriptor of its directory. done
// closes that descriptor.
func sockPath(path string) (string, func(), error) {
	if len(path) <= maxSockPath {
		return path, func() {}, nil
	}
	fd, err := unix.Open(filepath.Dir(path), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	short := "/proc/self/fd/" + strconv.Itoa(fd) + "/" + filepath.Base(path)
	if len(short) > maxSockPath {
		unix.Close(fd)
		return "", nil, fmt.Errorf("control socket %s: name too long", path)
	}
	return short, func() { unix.Close(fd) }, nil
}

// listenControl binds the control socket at path, mode 0600.
func listenControl(path string) (*controlServer, error) {
	name, done, err := sockPath(path)
	if err != nil {
		return nil, err
	}
	defer done()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: name, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	// After the pivot the path is out of the sentry's reach (and unlink
	// is not in its filter): delete removes it with the state directory.
	ln.SetUnlinkOnClose(false)
	// The state directory is 0700 already; this keeps the socket private
	// even if the directory's mode changes.
	if err := os.Chmod(name, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	return &controlServer{ln: ln, exited: make(chan kernel.ExitStatus, 1), status: specs.StateCreated}, nil
}

// close stops accepting requests.
func (cs *controlServer) close() { cs.ln.Close() }

// exit makes the sentry exit with st, unless an exit is already under way.
func (cs *controlServer) exit(st kernel.ExitStatus) {
	select {
	case cs.exited <- st:
	default:
	}
}

// serve answers requests one at a time until the listener is closed.
func (cs *controlServer) serve(sb *sandbox) {
	for {
		conn, err := cs.ln.AcceptUnix()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			sb.log.Warn("control socket: accept", "err", err)
			// EMFILE and the like: do not spin.
			time.Sleep(50 * time.Millisecond)
			continue
		}
		cs.handle(sb, conn)
	}
}

// maxRequest bounds one request's JSON.
const maxRequest = 64 << 10

// handle answers one connection. The first read takes the descriptors
// an exec request carries; an exec keeps the connection (execSession),
// every other request closes it after the reply.
func (cs *controlServer) handle(sb *sandbox, conn *net.UnixConn) {
	keep := false
	defer func() {
		if !keep {
			conn.Close()
		}
	}()
	conn.SetDeadline(time.Now().Add(controlTimeout))
	first, fds, err := readFirst(conn)
	if err != nil {
		sb.log.Warn("control socket: bad request", "err", err)
		return
	}
	var req controlRequest
	dec := json.NewDecoder(io.MultiReader(bytes.NewReader(first), io.LimitReader(conn, maxRequest)))
	if err := dec.Decode(&req); err != nil {
		closeFDs(fds)
		sb.log.Warn("control socket: bad request", "err", err)
		return
	}
	if req.Op == opExec {
		keep = cs.exec(sb, conn, dec, req, fds)
		return
	}
	closeFDs(fds)
	resp, after := cs.do(sb, req)
	if err := json.NewEncoder(conn).Encode(resp); err != nil {
		sb.log.Warn("control socket: reply", "op", req.Op, "err", err)
	}
	if after != nil {
		after()
	}
}

// do carries out req. after, when not nil, runs once the reply is sent.
func (cs *controlServer) do(sb *sandbox, req controlRequest) (resp controlResponse, after func()) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	switch req.Op {
	case opState:
		resp.Status = string(cs.status)
		if cs.status == specs.StateRunning || cs.status == statePaused {
			resp.Pids = sb.k.Processes()
			if k, ok := sb.k.(interface{ NumTasks() int }); ok {
				resp.Tasks = k.NumTasks()
			}
		}
	case opPause, opResume:
		resp.Error = cs.pauseLocked(sb, req.Op == opPause)
	case opStart:
		if cs.status != specs.StateCreated {
			resp.Error = fmt.Sprintf("cannot start a container that is %s", cs.status)
			break
		}
		if err := sb.k.Start(); err != nil {
			cs.status = specs.StateStopped
			resp.Error = err.Error()
			// 127: the shell's "could not run the command".
			return resp, func() { cs.exit(kernel.ExitStatus{Code: 127}) }
		}
		cs.status = specs.StateRunning
		// Wait for the init only once the reply is out: a program
		// that ends at once would otherwise let the sentry exit
		// before `start` hears that it started.
		return resp, func() { go cs.waitInit(sb) }
	case opKill:
		sig := unix.Signal(req.Signal)
		if req.Signal <= 0 || req.Signal > maxSignal {
			resp.Error = fmt.Sprintf("signal %d: out of range", req.Signal)
			break
		}
		if err := cs.signalLocked(sb, sig, req.All); err != nil {
			resp.Error = err.Error()
		}
	default:
		resp.Error = fmt.Sprintf("unknown control operation %q", req.Op)
	}
	return resp, nil
}

// waitInit waits for the init to exit and makes the sentry exit likewise.
func (cs *controlServer) waitInit(sb *sandbox) {
	st := sb.k.Wait()
	cs.mu.Lock()
	cs.status = specs.StateStopped
	cs.mu.Unlock()
	// The exec proxies get their processes' statuses before the sentry
	// exits (the processes are gone: the kernel has told the sessions).
	cs.waitSessions(2 * time.Second)
	cs.exit(st)
}

// signalLocked delivers sig to the container. Before start there is no
// process to signal: a signal that would end one ends the sandbox, as if
// the init had died of it before its first instruction.
//
// Preconditions: cs.mu is locked.
func (cs *controlServer) signalLocked(sb *sandbox, sig unix.Signal, all bool) error {
	switch cs.status {
	case specs.StateRunning, statePaused:
		// A paused process takes its signals when resumed; SIGKILL
		// ends it at once (it leaves from the pause gate).
		return sb.k.Signal(sig, all)
	case specs.StateCreated:
		if terminates(sig) {
			cs.status = specs.StateStopped
			cs.exit(kernel.ExitStatus{Signal: sig})
		}
		return nil
	}
	return errors.New("container not running")
}

// forwardSignals passes the signals sent to the sentry's host process to
// the container's init: the sentry's PID is the container's PID as far as
// containerd and users of --pid-file know.
func (sb *sandbox) forwardSignals() {
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH)
	for s := range ch {
		sig := s.(unix.Signal)
		// What a host terminal generates (^C, ^\, a resize) goes to the
		// foreground job of the app's terminal, when it has one.
		switch sig {
		case unix.SIGINT, unix.SIGQUIT, unix.SIGWINCH:
			ts, ok := sb.k.(interface{ SignalTerminal(unix.Signal) bool })
			if ok && ts.SignalTerminal(sig) || sig == unix.SIGWINCH {
				continue
			}
		}
		sb.control.mu.Lock()
		err := sb.control.signalLocked(sb, sig, false)
		sb.control.mu.Unlock()
		if err != nil {
			sb.log.Debug("forwarding signal", "signal", sig, "err", err)
		}
	}
}
