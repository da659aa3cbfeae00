package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The control protocol: `moat start/kill/state/ps/pause/resume/events`
// connect to the sentry's control socket (STATE_DIR/control.sock, mode
// 0600), send one JSON request and read one JSON response; then the
// connection closes. exec is the exception (control_exec.go): its
// request carries the new process's descriptors (SCM_RIGHTS, in the
// message with the request's first byte), and the connection stays open
// for signals going in and the exit status coming out.

// Operations of the control protocol.
const (
	opStart = "start" // run the init process
	opState = "state" // report status and processes
	opKill  = "kill"  // signal the init, or with All every process
	// opExec starts Exec in the running sandbox (control_exec.go).
	opExec   = "exec"
	opPause  = "pause"  // stop every task
	opResume = "resume" // let them run again
)

// statePaused is the status of a paused container: not in the OCI
// state enum, but runc reports it and containerd understands it.
const statePaused specs.ContainerState = "paused"

// controlRequest is one request to the sentry.
type controlRequest struct {
	Op     string `json:"op"`
	Signal int    `json:"signal,omitempty"`
	All    bool   `json:"all,omitempty"`
	// Exec is the process to start (opExec); the request's message
	// carries Exec.FDs descriptors.
	Exec *execRequest `json:"exec,omitempty"`
}

// controlResponse is the sentry's answer. Error is empty on success.
type controlResponse struct {
	Error  string `json:"error,omitempty"`
	Status string `json:"status,omitempty"`
	Pids   []int  `json:"pids,omitempty"`
	// Tasks is the number of live threads in the sandbox (opState).
	Tasks int `json:"tasks,omitempty"`
	// Pid is the sandbox PID of the process opExec started.
	Pid int `json:"pid,omitempty"`
}

// errNoSentry means nothing answered on the control socket.
var errNoSentry = errors.New("sandbox is not answering")

// controlTimeout bounds one request: start loads the program, which is
// quick; anything slower means a stuck sentry.
const controlTimeout = 30 * time.Second

// callSentry sends req to the sentry listening on sock.
func callSentry(sock string, req controlRequest) (*controlResponse, error) {
	name, done, err := sockPath(sock)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoSentry, err)
	}
	defer done()
	conn, err := net.DialTimeout("unix", name, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoSentry, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(controlTimeout))
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return nil, fmt.Errorf("control socket %s: %w", sock, err)
	}
	var resp controlResponse
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		return nil, fmt.Errorf("%w: control socket %s: %v", errNoSentry, sock, err)
	}
	if resp.Error != "" {
		return &resp, errors.New(resp.Error)
	}
	return &resp, nil
}
