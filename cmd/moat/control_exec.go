package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"moat/sentry/kernel"
)

// The exec part of the control protocol. The proxy (moat exec) sends
// {"op":"exec","exec":{...}} in one sendmsg with its descriptors
// attached (SCM_RIGHTS): they become the process's fds 0, 1, 2 and the
// preserved ones after. The sentry answers with a controlResponse (Pid,
// or Error and the connection closes). Then, on the same connection, the
// proxy sends {"op":"kill","signal":N} for each signal it forwards, and
// the sentry sends one execStatus when the process has ended and closes.
// When the proxy's side closes first (the proxy died) the process is
// killed with SIGKILL.

// execRequest is what opExec starts. Process carries what the proxy
// resolved from process.json or its flags: args, env, cwd, user,
// capabilities, rlimits.
type execRequest struct {
	Process *specs.Process `json:"process"`
	// FDs is how many descriptors the request's message carries.
	FDs int `json:"fds"`
}

// execStatus is the last message of an exec connection.
type execStatus struct {
	Code   int `json:"code"`
	Signal int `json:"signal,omitempty"`
}

// maxExecFDs is the most descriptors one request carries: the kernel's
// SCM_MAX_FD (253) per message.
const maxExecFDs = 253

// readFirst reads the first bytes of a request together with the
// descriptors attached to them (received close-on-exec).
func readFirst(conn *net.UnixConn) ([]byte, []int, error) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*maxExecFDs))
	n, oobn, flags, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, nil, err
	}
	var fds []int
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return nil, nil, fmt.Errorf("control message: %w", err)
		}
		for _, m := range msgs {
			rights, err := unix.ParseUnixRights(&m)
			if err == nil {
				fds = append(fds, rights...)
			}
		}
	}
	if flags&unix.MSG_CTRUNC != 0 {
		closeFDs(fds)
		return nil, nil, errors.New("control message truncated: too many descriptors")
	}
	return buf[:n], fds, nil
}

// closeFDs closes received descriptors nobody will use.
func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// spawner is what exec and pause need of the kernel beyond
// sentryKernel (the real kernel has it; test fakes may not).
type spawner interface {
	Spawn(kernel.SpawnConfig) (*kernel.Process, error)
}

// pauser stops and resumes every task.
type pauser interface {
	Pause() bool
	Resume() bool
}

// exec starts req's process with fds and, on success, keeps conn for
// the session. It reports whether it kept conn; it closes fds either way
// (the kernel holds duplicates).
func (cs *controlServer) exec(sb *sandbox, conn *net.UnixConn, dec *json.Decoder, req controlRequest, fds []int) bool {
	defer closeFDs(fds)
	reply := func(resp controlResponse) {
		if err := json.NewEncoder(conn).Encode(resp); err != nil {
			sb.log.Warn("control socket: exec reply", "err", err)
		}
	}
	p, err := cs.spawn(sb, req, fds)
	if err != nil {
		reply(controlResponse{Error: err.Error()})
		return false
	}
	reply(controlResponse{Pid: int(p.PID())})
	// The session lasts as long as the process: no deadline.
	conn.SetDeadline(time.Time{})
	cs.sessions.Add(1)
	// The request's decoder was bounded; the session's reads are not
	// (a long life may forward many signals).
	go cs.execSession(sb, conn, json.NewDecoder(io.MultiReader(dec.Buffered(), conn)), p)
	return true
}

// spawn checks the container runs and starts the process.
func (cs *controlServer) spawn(sb *sandbox, req controlRequest, fds []int) (*kernel.Process, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	switch cs.status {
	case specs.StateRunning:
	case statePaused:
		return nil, errors.New("cannot exec in a paused container (resume it first)")
	default:
		return nil, fmt.Errorf("cannot exec in a container that is %s", cs.status)
	}
	e := req.Exec
	if e == nil || e.Process == nil {
		return nil, errors.New("exec: no process in the request")
	}
	if e.FDs != len(fds) || len(fds) < 3 {
		return nil, fmt.Errorf("exec: the request says %d descriptors, %d came (want at least 3)", e.FDs, len(fds))
	}
	k, ok := sb.k.(spawner)
	if !ok {
		return nil, errors.New("exec: this kernel cannot start processes")
	}
	pr := e.Process
	caps, rlimits, err := processLimits(pr)
	if err != nil {
		return nil, err
	}
	return k.Spawn(kernel.SpawnConfig{
		Args:           pr.Args,
		Env:            pr.Env,
		Cwd:            pr.Cwd,
		UID:            pr.User.UID,
		GID:            pr.User.GID,
		AdditionalGIDs: pr.User.AdditionalGids,
		Umask:          pr.User.Umask,
		Caps:           caps,
		Rlimits:        rlimits,
		FDs:            fds,
		NoNewPrivs:     pr.NoNewPrivileges,
	})
}

// execSession forwards the proxy's signals to p and reports p's status;
// if the proxy goes away first, p is killed.
func (cs *controlServer) execSession(sb *sandbox, conn *net.UnixConn, dec *json.Decoder, p *kernel.Process) {
	defer cs.sessions.Done()
	defer conn.Close()
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		for {
			var msg controlRequest
			if err := dec.Decode(&msg); err != nil {
				return
			}
			if msg.Op != opKill {
				continue
			}
			if err := p.Signal(unix.Signal(msg.Signal)); err != nil {
				sb.log.Debug("exec: forwarding signal", "pid", p.PID(), "err", err)
			}
		}
	}()
	var st kernel.ExitStatus
	select {
	case st = <-p.Done():
	case <-gone:
		// The proxy died (or closed its side): nobody is left to
		// report to, and a process nobody waits for must not linger.
		p.Signal(unix.SIGKILL)
		st = <-p.Done()
	}
	conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := json.NewEncoder(conn).Encode(execStatus{Code: st.Code, Signal: int(st.Signal)}); err != nil {
		sb.log.Debug("exec: reporting the status", "pid", p.PID(), "err", err)
	}
}

// waitSessions waits, at most timeout, for the exec sessions to report.
func (cs *controlServer) waitSessions(timeout time.Duration) {
	done := make(chan struct{})
	go func() {
		cs.sessions.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
	}
}

// pauseLocked pauses (or resumes) the sandbox and returns the error to
// report, "" on success.
//
// Preconditions: cs.mu is locked.
func (cs *controlServer) pauseLocked(sb *sandbox, pause bool) string {
	k, ok := sb.k.(pauser)
	if !ok {
		return "pause: this kernel cannot pause"
	}
	if pause {
		if cs.status != specs.StateRunning {
			return fmt.Sprintf("cannot pause a container that is %s", cs.status)
		}
		k.Pause()
		cs.status = statePaused
		return ""
	}
	if cs.status != statePaused {
		return fmt.Sprintf("cannot resume a container that is %s (not paused)", cs.status)
	}
	k.Resume()
	cs.status = specs.StateRunning
	return ""
}
