package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"
)

// The control protocol: `moat start/kill/state/ps` connect to the
// sentry's control socket (STATE_DIR/control.sock, mode 0600), send one
// JSON request and read one JSON response; then the connection closes.

// Operations of the control protocol.
const (
	opStart = "start" // run the init process
	opState = "state" // report status and processes
	opKill  = "kill"  // signal the init, or with All every process
)

// controlRequest is one request to the sentry.
type controlRequest struct {
	Op     string `json:"op"`
	Signal int    `json:"signal,omitempty"`
	All    bool   `json:"all,omitempty"`
}

// controlResponse is the sentry's answer. Error is empty on success.
type controlResponse struct {
	Error  string `json:"error,omitempty"`
	Status string `json:"status,omitempty"`
	Pids   []int  `json:"pids,omitempty"`
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
