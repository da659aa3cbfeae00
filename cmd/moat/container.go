package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"moat/spec"
)

// createOptions say what to create.
type createOptions struct {
	id, bundle, pidFile, consoleSocket string
	// config, when set, is written to the state directory as the
	// container's config.json in place of a bundle's (moat do): the
	// sentry always reads its configuration from a directory.
	config *specs.Spec
}

// syncReady is what the sentry writes on the sync pipe once it is set up;
// anything else it writes there is the error that stopped it.
const syncReady = "ready"

// createContainer validates the bundle, makes the state directory and
// starts the sentry, and returns once the sentry reported ready. The
// returned command is the sentry, a child of this process: run waits for
// it, create lets it go. On any error nothing is left behind: no state
// directory, no process.
func createContainer(o *options, co createOptions) (_ *exec.Cmd, err error) {
	if err := spec.ValidateID(co.id); err != nil {
		return nil, err
	}
	s := co.config
	if s == nil {
		// Load before touching --root: a bad bundle leaves nothing.
		if s, err = spec.Load(co.bundle); err != nil {
			return nil, err
		}
		if co.bundle, err = spec.BundleDir(co.bundle); err != nil {
			return nil, err
		}
	}
	if _, _, err := processLimits(s.Process); err != nil {
		return nil, err
	}
	c, err := o.stateRoot().Create(co.id)
	if err != nil {
		return nil, err
	}
	defer c.Unlock()
	var sentry *exec.Cmd
	// hooksRan: a create hook failed or ran; the spec then destroys the
	// container and runs the poststop hooks, as delete would.
	hooksRan := false
	var st *spec.State
	defer func() {
		if err == nil {
			return
		}
		if sentry != nil && sentry.Process != nil {
			sentry.Process.Kill()
			sentry.Wait()
		}
		c.Remove()
		if hooksRan {
			st.Status = specs.StateStopped
			runHooksWarn(o.log, spec.HookPoststop, spec.HooksOf(st.Hooks, spec.HookPoststop), st.State)
		}
	}()
	if co.config != nil {
		data, err := json.Marshal(co.config)
		if err != nil {
			return nil, fmt.Errorf("container %q: config: %w", co.id, err)
		}
		if err := spec.WriteFileAtomic(filepath.Join(c.Dir, spec.ConfigName), data, 0o600); err != nil {
			return nil, err
		}
		co.bundle = c.Dir
	}
	st = &spec.State{
		State: specs.State{
			Version:     specs.Version,
			ID:          co.id,
			Status:      specs.StateCreating,
			Bundle:      co.bundle,
			Annotations: s.Annotations,
		},
		Created: time.Now().UTC(),
		Rootfs:  s.Root.Path,
		Owner:   os.Geteuid(),
		Hooks:   s.Hooks,
	}
	if err := c.WriteState(st); err != nil {
		return nil, err
	}
	stdio, err := containerStdio(s, co.consoleSocket)
	if err != nil {
		return nil, err
	}
	defer stdio.close()
	sentry, err = startSentry(o, c.Dir, co, s, stdio)
	if err != nil {
		return nil, err
	}
	st.Pid = sentry.Process.Pid
	start, _, err := spec.ProcStartTime(st.Pid)
	if err != nil {
		return nil, fmt.Errorf("sandbox process %d: %w", st.Pid, err)
	}
	st.StartTime = start
	st.Status = specs.StateCreated
	if err := c.WriteState(st); err != nil {
		return nil, err
	}
	hooksRan = true
	// prestart hooks run in start: see startSandbox.
	for _, kind := range []spec.HookKind{spec.HookCreateRuntime, spec.HookCreateContainer} {
		if err := runHooks(kind, spec.HooksOf(s.Hooks, kind), st.State); err != nil {
			return nil, fmt.Errorf("container %q: %w", co.id, err)
		}
	}
	if co.pidFile != "" {
		pf, err := filepath.Abs(co.pidFile)
		if err == nil {
			err = spec.WriteFileAtomic(pf, []byte(strconv.Itoa(st.Pid)), 0o644)
		}
		if err != nil {
			return nil, fmt.Errorf("--pid-file %s: %w", co.pidFile, err)
		}
	}
	return sentry, nil
}

// startSentry re-executes moat as `moat sandbox` and waits for it to
// report ready (or its error) on the sync pipe.
func startSentry(o *options, stateDir string, co createOptions, s *specs.Spec, stdio *stdioFiles) (*exec.Cmd, error) {
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("sync pipe: %w", err)
	}
	defer syncR.Close()
	args := append([]string{"moat"}, o.globalArgs()...)
	args = append(args, "sandbox", "--id", co.id, "--bundle", co.bundle, "--state-dir", stateDir)
	// New mount, IPC and UTS namespaces: the sentry pivots into an empty
	// root and must not change the host's mounts doing so. Not a new PID
	// namespace: the stubs get one of their own from the platform, and
	// the sentry must be able to re-raise its init's fatal signal on
	// itself, which the init of a PID namespace cannot (the kernel
	// ignores signals it has no handler for). The sentry must outlive
	// create (containerd's shim, as subreaper, reaps it): the
	// parent-death signal only covers create dying before the sentry is
	// ready, and the sentry clears it then.
	flags := uintptr(unix.CLONE_NEWNS | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS)
	if spec.HasNewNetworkNamespace(s) {
		flags |= unix.CLONE_NEWNET
	}
	// A console's slave (stdin, the child's fd 0) becomes the sentry's
	// controlling terminal, in a session of its own.
	attr := &unix.SysProcAttr{Cloneflags: flags, Pdeathsig: unix.SIGKILL,
		Setsid: stdio.console, Setctty: stdio.console, Ctty: 0}
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        args,
		Env:         []string{},
		Stdin:       stdio.in,
		Stdout:      stdio.out,
		Stderr:      stdio.err,
		ExtraFiles:  []*os.File{syncW}, // fd 3
		SysProcAttr: attr,
	}
	err = startInNetNS(cmd, spec.NetworkNamespacePath(s))
	syncW.Close()
	if err != nil {
		return nil, fmt.Errorf("starting sandbox: %w", err)
	}
	line, rerr := bufio.NewReader(syncR).ReadString('\n')
	line = strings.TrimSuffix(line, "\n")
	if line == syncReady {
		return cmd, nil
	}
	// Either the sentry reported its error and exits, or it died
	// before it could say anything.
	cmd.Process.Kill()
	werr := cmd.Wait()
	if line != "" {
		return nil, errors.New(line)
	}
	if rerr != nil && werr != nil {
		return nil, fmt.Errorf("sandbox died while starting: %v", werr)
	}
	return nil, fmt.Errorf("sandbox died while starting")
}

// stdioFiles are the container's standard streams as the sentry gets them.
type stdioFiles struct {
	in, out, err *os.File
	// owned are files to close once the sentry has them.
	owned []*os.File
	// console: in is a console pty's slave, which the sentry takes as
	// its controlling terminal (its own session), so a ^C typed at the
	// console reaches it as SIGINT and goes to the app's foreground job.
	console bool
}

func (s *stdioFiles) close() {
	for _, f := range s.owned {
		f.Close()
	}
}

// containerStdio returns the streams for the sentry: moat's own, or for
// a terminal container with a console socket, the slave of a new pty
// whose master goes to the console socket.
func containerStdio(s *specs.Spec, consoleSocket string) (*stdioFiles, error) {
	if consoleSocket == "" || s.Process == nil || !s.Process.Terminal {
		return &stdioFiles{in: os.Stdin, out: os.Stdout, err: os.Stderr}, nil
	}
	master, slave, err := openPty()
	if err != nil {
		return nil, err
	}
	defer master.Close()
	if err := sendConsole(consoleSocket, master); err != nil {
		slave.Close()
		return nil, err
	}
	return &stdioFiles{in: slave, out: slave, err: slave, owned: []*os.File{slave}, console: true}, nil
}

// openPty opens a new pseudo-terminal pair.
func openPty() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("console: %w", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err == nil {
		err = unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0)
	}
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("console: /dev/ptmx: %w", err)
	}
	name := "/dev/pts/" + strconv.Itoa(n)
	s, err := os.OpenFile(name, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("console: %w", err)
	}
	return m, s, nil
}

// sendConsole passes the pty master to the console socket with
// SCM_RIGHTS, as runc does for containerd.
func sendConsole(path string, master *os.File) error {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("console socket %s: %w", path, err)
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return fmt.Errorf("console socket %s: %w", path, err)
	}
	rights := unix.UnixRights(int(master.Fd()))
	if err := unix.Sendmsg(fd, []byte(master.Name()), rights, nil, 0); err != nil {
		return fmt.Errorf("console socket %s: %w", path, err)
	}
	return nil
}

// containerStatus returns the container's status and the sandbox PIDs of
// its processes. The sentry knows whether the init runs; when it is gone
// (exited, killed, or a zombie waiting for its parent) the container is
// stopped: the sentry writes nothing to disk, it cannot see the host.
//
// Preconditions: the container is locked.
func containerStatus(c *spec.Container, st *spec.State) (specs.ContainerState, []int) {
	if st.Status == specs.StateCreating {
		// The caller holds the lock, which create keeps until the
		// state says created: a "creating" state it can read is what a
		// create that died half-way left (its sentry died with it).
		return specs.StateStopped, nil
	}
	if !st.Alive() {
		return specs.StateStopped, nil
	}
	resp, err := callSentry(c.ControlSocket(), controlRequest{Op: opState})
	if err != nil {
		// Alive but not answering: it is still running something (or
		// exiting); report the last status known.
		return st.Status, nil
	}
	return specs.ContainerState(resp.Status), resp.Pids
}

// openContainer opens and locks an existing container and reads its
// state.
func openContainer(o *options, id string) (*spec.Container, *spec.State, error) {
	c, err := o.stateRoot().Open(id)
	if err != nil {
		return nil, nil, err
	}
	st, err := c.ReadState()
	if err != nil {
		c.Unlock()
		return nil, nil, err
	}
	return c, st, nil
}

// startContainer makes the sentry of a created container run its init,
// then runs the poststart hooks.
func startContainer(o *options, id string) error {
	st, err := startSandbox(o, id)
	if err != nil && st != nil {
		// A prestart hook failed and the container is destroyed: the
		// life cycle goes on with the poststop hooks, as after delete.
		runHooksWarn(o.log, spec.HookPoststop, spec.HooksOf(st.Hooks, spec.HookPoststop), st.State)
		return err
	}
	if err != nil {
		return err
	}
	// Without the lock: a hook may well ask `moat state` about the
	// container. A failed poststart hook is a warning (runtime-spec 1.0,
	// which the OCI validation suite checks), not an error of start.
	runHooksWarn(o.log, spec.HookPoststart, spec.HooksOf(st.Hooks, spec.HookPoststart), st.State)
	return nil
}

// startSandbox does start's work under the container's lock and returns
// the state as start left it. When a prestart hook fails it destroys the
// container and returns its last state with the error.
//
// prestart hooks run here, before the init's program is loaded, and not
// in create as runtime-spec 1.0.2 moved them: the OCI validation suite
// (runtime-tools 0.9) checks the 1.0.0 timing, "after the start
// operation is called but before the user-specified program command is
// executed", and either timing comes before the container's first
// instruction, which is all a hook that sets up the sandbox's network
// namespace (its PID is the sentry's) needs.
func startSandbox(o *options, id string) (*spec.State, error) {
	c, st, err := openContainer(o, id)
	if err != nil {
		return nil, err
	}
	defer c.Unlock()
	status, _ := containerStatus(c, st)
	switch status {
	case specs.StateCreated:
	case specs.StateStopped:
		return nil, fmt.Errorf("container %q: cannot start a container that has stopped", id)
	default:
		return nil, fmt.Errorf("container %q: cannot start a container that is %s", id, status)
	}
	if err := runHooks(spec.HookPrestart, spec.HooksOf(st.Hooks, spec.HookPrestart), st.State); err != nil {
		err = fmt.Errorf("container %q: %w", id, err)
		if kerr := killSentry(st); kerr != nil {
			return nil, errors.Join(err, fmt.Errorf("container %q: %w", id, kerr))
		}
		if rerr := c.Remove(); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		st.Status = specs.StateStopped
		return st, err
	}
	if _, err := callSentry(c.ControlSocket(), controlRequest{Op: opStart}); err != nil {
		return nil, fmt.Errorf("container %q: start: %w", id, err)
	}
	st.Status = specs.StateRunning
	return st, c.WriteState(st)
}

// deleteContainer tears a container down: kills what is left of its
// sandbox and removes its state directory. Without force a running
// container is refused, like runc; a created one is killed.
func deleteContainer(o *options, id string, force bool) error {
	c, st, err := openContainer(o, id)
	if err != nil {
		return err
	}
	defer c.Unlock()
	status, _ := containerStatus(c, st)
	if (status == specs.StateRunning || status == statePaused) && !force {
		return fmt.Errorf("container %q: cannot delete a %s container (stop it first, or use --force)", id, status)
	}
	if err := killSentry(st); err != nil {
		return fmt.Errorf("container %q: %w", id, err)
	}
	if err := c.Remove(); err != nil {
		return err
	}
	// The container is gone; poststop hooks run before delete returns,
	// and their failures are only warnings.
	st.Status = specs.StateStopped
	runHooksWarn(o.log, spec.HookPoststop, spec.HooksOf(st.Hooks, spec.HookPoststop), st.State)
	return nil
}

// killSentry SIGKILLs the sentry if it is still the process create
// started, and waits until it is dead. The gofer and the stubs die with
// it (parent-death signal, EOF on their sockets, PTRACE_O_EXITKILL).
func killSentry(st *spec.State) error {
	if !st.Ours() {
		return nil
	}
	if err := unix.Kill(st.Pid, unix.SIGKILL); err != nil && err != unix.ESRCH {
		return fmt.Errorf("kill sandbox %d: %w", st.Pid, err)
	}
	// It is not our child (create exited), so it cannot be waited for:
	// poll until it is gone or a zombie its parent has yet to reap.
	deadline := time.Now().Add(10 * time.Second)
	for st.Alive() {
		if time.Now().After(deadline) {
			return fmt.Errorf("sandbox %d did not die", st.Pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}
