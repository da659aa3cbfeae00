package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"moat/spec"
)

var execCommand = &cli.Command{
	Name:  "exec",
	Usage: "run a new process in a running container; exit with its status (killed by the same signal)",
	Description: `The process gets a new PID in the sandbox, no parent there (PPID 0, as a
runc exec'd process), a session of its own, and this command's standard
streams. This command (or with --detach, the proxy it leaves, whose PID
goes to --pid-file) lives as long as the process, passes it the signals it
receives, and ends the way it ended; if it dies, the process is killed.`,
	ArgsUsage: "ID [COMMAND [ARG...]]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "process", Aliases: []string{"p"}, Usage: "the process as a runtime-spec process `JSON` file (instead of COMMAND and the flags below)"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set `K=V` in the environment (over the container's)"},
		&cli.StringFlag{Name: "cwd", Usage: "working `DIR` in the container (default: the container's)"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "`UID[:GID]` to run as (numbers; default: the container's user)"},
		&cli.StringSliceFlag{Name: "additional-gids", Aliases: []string{"g"}, Usage: "supplementary group `GID`s (repeat or comma-separate)"},
		&cli.StringSliceFlag{Name: "cap", Aliases: []string{"c"}, Usage: "add a capability `CAP_NAME` to the bounding, effective and permitted sets"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "a terminal process: with --console-socket on a new pty, else on this command's streams"},
		&cli.StringFlag{Name: "console-socket", Usage: "send the pty master to this AF_UNIX socket `PATH` (with --tty)"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the process runs, leaving a proxy process that waits for it"},
		&cli.StringFlag{Name: "pid-file", Usage: "write the host PID of the process standing for the exec'd one (this command, or the proxy with --detach) to `FILE`"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass `N` more descriptors (3 to 3+N-1) to the process"},
		&cli.BoolFlag{Name: "no-new-privs", Usage: "set no_new_privs (the sandbox never grants privileges on exec: always in effect)"},
		&cli.StringFlag{Name: "process-label", Usage: "ignored (no SELinux in the sandbox)"},
		&cli.StringFlag{Name: "apparmor", Usage: "ignored (no AppArmor in the sandbox)"},
	},
	Action: execAction,
}

// execAction is moat exec.
func execAction(ctx *cli.Context) error {
	if ctx.NArg() < 1 {
		return errors.New("exec: expected ID [COMMAND [ARG...]]")
	}
	id, err := oneIDOf(ctx.Args().First())
	if err != nil {
		return err
	}
	n := ctx.Int("preserve-fds")
	if n < 0 || n > maxExecFDs-3 {
		return fmt.Errorf("exec: --preserve-fds %d: want 0 to %d", n, maxExecFDs-3)
	}
	for fd := 3; fd < 3+n; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return fmt.Errorf("exec: --preserve-fds %d: descriptor %d is not open", n, fd)
		}
	}
	conn, err := startExec(ctx, id, n)
	if err != nil {
		return err
	}
	if ctx.Bool("detach") {
		pid, err := startExecProxy(opts(ctx), conn)
		conn.Close()
		if err != nil {
			return fmt.Errorf("container %q: exec: %w", id, err)
		}
		return writePidFile(ctx.String("pid-file"), pid)
	}
	if err := writePidFile(ctx.String("pid-file"), os.Getpid()); err != nil {
		conn.Close()
		return err
	}
	exitLike(proxyExec(conn))
	return nil
}

// startExec builds the process, checks the container runs, and has the
// sentry start the process; it returns the session's connection.
func startExec(ctx *cli.Context, id string, preserve int) (*os.File, error) {
	c, st, err := openContainer(opts(ctx), id)
	if err != nil {
		return nil, err
	}
	// Held until the process runs: a delete cannot slip in between
	// the check and the start; released before the long wait.
	defer c.Unlock()
	status, _ := containerStatus(c, st)
	switch status {
	case specs.StateRunning:
	case statePaused:
		return nil, fmt.Errorf("container %q: cannot exec in a paused container (resume it first)", id)
	default:
		return nil, fmt.Errorf("container %q: cannot exec: container not running (it is %s)", id, status)
	}
	p, err := execProcess(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("container %q: exec: %w", id, err)
	}
	// A terminal comes from --tty or process.json's terminal (which is
	// how containerd asks for one).
	if ctx.Bool("tty") {
		p.Terminal = true
	}
	if p.Terminal && ctx.Bool("detach") && ctx.String("console-socket") == "" {
		return nil, fmt.Errorf("container %q: exec: a terminal process with --detach needs --console-socket", id)
	}
	if ctx.String("console-socket") != "" && !p.Terminal {
		return nil, fmt.Errorf("container %q: exec: --console-socket is only for a terminal process (--tty)", id)
	}
	stdio, err := execStdio(p, ctx.String("console-socket"))
	if err != nil {
		return nil, fmt.Errorf("container %q: exec: %w", id, err)
	}
	defer stdio.close()
	fds := []int{int(stdio.in.Fd()), int(stdio.out.Fd()), int(stdio.err.Fd())}
	for fd := 3; fd < 3+preserve; fd++ {
		fds = append(fds, fd)
	}
	conn, err := callExec(c.ControlSocket(), p, fds)
	if err != nil {
		return nil, fmt.Errorf("container %q: exec: %w", id, err)
	}
	return conn, nil
}

// execStdio returns the process's streams: this command's own, or for
// --tty with a console socket the slave of a new pty whose master goes
// to the socket.
func execStdio(p *specs.Process, consoleSocket string) (*stdioFiles, error) {
	return containerStdio(&specs.Spec{Process: p}, consoleSocket)
}

// execProcess returns the process to run: --process's file as it is
// (checked), or COMMAND with the container's process as defaults and
// the flags over them.
func execProcess(ctx *cli.Context, st *spec.State) (*specs.Process, error) {
	args := ctx.Args().Tail()
	if f := ctx.String("process"); f != "" {
		if len(args) > 0 {
			return nil, errors.New("give either --process or COMMAND, not both")
		}
		return loadProcess(f)
	}
	if len(args) == 0 {
		return nil, errors.New("no command (give COMMAND or --process)")
	}
	base, err := spec.Load(st.Bundle)
	if err != nil {
		return nil, fmt.Errorf("the container's config: %w", err)
	}
	p := &specs.Process{Cwd: "/"}
	if base.Process != nil {
		p = base.Process
	}
	p.Args = args
	p.Terminal = ctx.Bool("tty")
	for _, kv := range ctx.StringSlice("env") {
		if !strings.Contains(kv, "=") {
			return nil, fmt.Errorf("--env %q: want K=V", kv)
		}
		p.Env = setEnv(p.Env, kv)
	}
	if cwd := ctx.String("cwd"); cwd != "" {
		p.Cwd = cwd
	}
	if u := ctx.String("user"); u != "" {
		uid, gid, err := parseUser(u)
		if err != nil {
			return nil, err
		}
		// A new user: the container user's groups are not theirs.
		p.User = specs.User{UID: uid, GID: gid, Umask: p.User.Umask}
	}
	for _, g := range ctx.StringSlice("additional-gids") {
		for _, f := range strings.Split(g, ",") {
			n, err := strconv.ParseUint(f, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("--additional-gids %q: not a number", f)
			}
			p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(n))
		}
	}
	if caps := ctx.StringSlice("cap"); len(caps) > 0 {
		if p.Capabilities == nil {
			p.Capabilities = &specs.LinuxCapabilities{}
		}
		c := p.Capabilities
		c.Bounding = append(c.Bounding, caps...)
		c.Effective = append(c.Effective, caps...)
		c.Permitted = append(c.Permitted, caps...)
	}
	if ctx.Bool("no-new-privs") {
		p.NoNewPrivileges = true
	}
	return p, checkProcess(p)
}

// loadProcess reads and checks a process.json.
func loadProcess(file string) (*specs.Process, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--process: %w", err)
	}
	var p specs.Process
	if err := json.Unmarshal(data, &p); err != nil {
		// encoding/json names the field of a type mismatch
		// ("Process.user.uid").
		return nil, fmt.Errorf("--process %s: %w", file, err)
	}
	if err := checkProcess(&p); err != nil {
		return nil, fmt.Errorf("--process %s: %w", file, err)
	}
	return &p, nil
}

// checkProcess checks what the sentry would otherwise refuse less
// clearly, naming the field.
func checkProcess(p *specs.Process) error {
	if len(p.Args) == 0 || p.Args[0] == "" {
		return errors.New("process.args: must name a program")
	}
	if p.Cwd == "" {
		return errors.New("process.cwd: must be set")
	}
	if !path.IsAbs(p.Cwd) {
		return fmt.Errorf("process.cwd %q: must be absolute", p.Cwd)
	}
	for i, kv := range p.Env {
		if !strings.Contains(kv, "=") {
			return fmt.Errorf("process.env[%d] %q: want K=V", i, kv)
		}
	}
	if _, _, err := processLimits(p); err != nil {
		return fmt.Errorf("process: %w", err)
	}
	return nil
}

// setEnv sets kv ("K=V") in env, replacing K's earlier value.
func setEnv(env []string, kv string) []string {
	k := kv[:strings.IndexByte(kv, '=')+1]
	out := env[:0:0]
	for _, e := range env {
		if !strings.HasPrefix(e, k) {
			out = append(out, e)
		}
	}
	return append(out, kv)
}

// parseUser parses --user's UID[:GID] (GID defaults to 0, as runc).
func parseUser(s string) (uid, gid uint32, err error) {
	us, gs, _ := strings.Cut(s, ":")
	u, err := strconv.ParseUint(us, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("--user %q: UID must be a number", s)
	}
	var g uint64
	if gs != "" {
		if g, err = strconv.ParseUint(gs, 10, 32); err != nil {
			return 0, 0, fmt.Errorf("--user %q: GID must be a number", s)
		}
	}
	return uint32(u), uint32(g), nil
}

// writePidFile writes pid to file (nothing when file is "").
func writePidFile(file string, pid int) error {
	if file == "" {
		return nil
	}
	pf, err := filepath.Abs(file)
	if err == nil {
		err = spec.WriteFileAtomic(pf, []byte(strconv.Itoa(pid)), 0o644)
	}
	if err != nil {
		return fmt.Errorf("--pid-file %s: %w", file, err)
	}
	return nil
}
