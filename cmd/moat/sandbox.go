package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"moat/gofer"
	"moat/platform"
	"moat/sentry/filter"
	"moat/sentry/kernel"
	"moat/sentry/socket/hostinet"
	"moat/spec"
	"moat/syscalls"
)

// syncFD is the descriptor of the sync pipe create passes the sentry.
const syncFD = 3

var sandboxCommand = &cli.Command{
	Name:   "sandbox",
	Usage:  "(internal) the sentry's process",
	Hidden: true,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "id", Required: true},
		&cli.StringFlag{Name: "bundle", Required: true},
		&cli.StringFlag{Name: "state-dir", Required: true},
	},
	Action: sandboxMain,
}

// sandboxMain is the sentry's process. It sets the sandbox up, reports
// ready (or the error) to create over the sync pipe, serves the control
// socket, and exits the way the container's init did.
func sandboxMain(ctx *cli.Context) error {
	// This runs on the main thread (main.go's init locks it there). That
	// matters twice: the gofer's parent-death signal fires when the
	// thread that started it exits, and the main thread never exits
	// before the process; and the parent-death signal create set on the
	// sentry is an attribute of this thread, which setupSandbox clears.
	o := opts(ctx)
	if err := checkOwnMountNS("sandbox"); err != nil {
		return err
	}
	syncPipe, err := inheritedFile(syncFD, "sync pipe")
	if err != nil {
		return fmt.Errorf("sandbox: %w (this verb is started by create)", err)
	}
	sb, err := setupSandbox(o, ctx.String("id"), ctx.String("bundle"), ctx.String("state-dir"))
	if err != nil {
		// create prints the error; the sentry stays quiet so it is
		// printed once.
		fmt.Fprintln(syncPipe, strings.ReplaceAll(err.Error(), "\n", " "))
		os.Exit(1)
	}
	if _, err := fmt.Fprintln(syncPipe, syncReady); err != nil {
		// create is gone: nobody will ever start or delete this.
		os.Exit(1)
	}
	syncPipe.Close()
	st := sb.run()
	exitLike(st)
	return nil
}

// sentryKernel is what the control server needs of the kernel (an
// interface so the server's state machine can be tested alone).
type sentryKernel interface {
	Start() error
	Wait() kernel.ExitStatus
	Signal(sig unix.Signal, all bool) error
	Processes() []int
}

// inheritedFile returns descriptor fd, which the parent must have passed.
func inheritedFile(fd int, name string) (*os.File, error) {
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
		return nil, fmt.Errorf("no %s on descriptor %d", name, fd)
	}
	return os.NewFile(uintptr(fd), name), nil
}

// sandbox is the sentry's state once set up.
type sandbox struct {
	log     *slog.Logger
	k       sentryKernel
	plat    platform.Platform
	root    *gofer.Client
	control *controlServer
}

// setupSandbox does, in this order: make mounts private; start the gofer;
// create the platform (its zygote, already running as the sandbox's
// unprivileged identity); open the control socket; build the kernel and
// resolve the executable; pivot into an empty root; switch every thread
// to the sandbox's identity (no capability left); set no_new_privs;
// install the sentry's seccomp filter.
// Everything that needs the host file system or privilege happens before
// the pivot, everything after it runs boxed in.
func setupSandbox(o *options, id, bundle, stateDir string) (_ *sandbox, err error) {
	log := quietLogger(o)
	// No core file of the sentry: it holds the container's secrets and
	// exitLike may make it die of SIGSEGV or SIGABRT on purpose.
	unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	// Nothing this namespace mounts or unmounts from here on may
	// propagate to the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return nil, fmt.Errorf("sandbox: make mounts private: %w", err)
	}
	s, err := spec.Load(bundle)
	if err != nil {
		return nil, err
	}
	lastCap := lastCapability()
	// The Go runtime loads the local time zone the first time a time is
	// formatted (every log record): from /etc/localtime, which after the
	// pivot is out of reach and opening it kills the sentry. Load it now.
	time.Now().Zone()

	sb := &sandbox{log: log}
	defer func() {
		if err != nil {
			sb.close()
		}
	}()
	if err := makeMountPoints(s, bundle); err != nil {
		return nil, err
	}
	goferArgs := append(goferRootArgs(s), goferMountArgs(s, bundle)...)
	sock, err := startGofer(o, s.Root.Path, goferArgs, log)
	if err != nil {
		return nil, err
	}
	if sb.root, err = gofer.NewClient(sock); err != nil {
		sock.Close()
		return nil, err
	}
	sp, err := lookupPlatform(o.platform)
	if err != nil {
		return nil, err
	}
	ident, err := sandboxIdentity()
	if err != nil {
		return nil, err
	}
	// The stubs take the sandbox's identity first: the sentry, once it
	// has it too, can still trace them, never the other way round.
	if sb.plat, err = sp.start(ident); err != nil {
		return nil, fmt.Errorf("platform %s: %w", o.platform, err)
	}
	if sb.control, err = listenControl(stateDir + "/" + spec.ControlSock); err != nil {
		return nil, err
	}
	caps, rlimits, err := processLimits(s.Process)
	if err != nil {
		return nil, err
	}
	appFilter, err := specSeccomp(s)
	if err != nil {
		return nil, err
	}
	cfg := kernel.Config{
		Platform:       sb.plat,
		Root:           sb.root,
		Stdio:          [3]int{0, 1, 2},
		Args:           s.Process.Args,
		Env:            s.Process.Env,
		Cwd:            s.Process.Cwd,
		UID:            s.Process.User.UID,
		GID:            s.Process.User.GID,
		AdditionalGIDs: s.Process.User.AdditionalGids,
		Umask:          s.Process.User.Umask,
		Caps:           caps,
		NoNewPrivs:     s.Process.NoNewPrivileges,
		Seccomp:        appFilter,
		Rlimits:        rlimits,
		Hostname:       s.Hostname,
		Table:          syscalls.Table(),
		Log:            log,
	}
	if err := mountConfig(&cfg, s); err != nil {
		return nil, err
	}
	if o.strace {
		cfg.Strace = o.logOut
	}
	k, err := kernel.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	sb.k = k
	// Like runc, create fails on a command that does not exist rather
	// than start a container that cannot run.
	if _, err := k.ResolveExecutable(); err != nil {
		return nil, err
	}
	// A network namespace of the sandbox's own starts with lo down;
	// bringing it up needs CAP_NET_ADMIN, which the identity switch
	// drops. (Importing hostinet also registers AF_INET and AF_INET6.)
	if spec.HasNewNetworkNamespace(s) {
		if err := hostinet.LoopbackUp(); err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
	}
	if err := pivotToEmptyRoot(stateDir); err != nil {
		return nil, err
	}
	if err := switchIdentity(ident, lastCap); err != nil {
		return nil, err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("sandbox: no_new_privs: %w", err)
	}
	// create made the sentry die with it (a create killed half-way
	// must not leave a sandbox nobody knows of); from now on the sentry
	// outlives create. (The identity switch cleared it already: the
	// kernel drops a parent-death signal on a uid change. Clear it
	// explicitly anyway, should the switch ever become a no-op.) The window between this and "ready" reaching
	// create is only the filter's installation.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, 0, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("sandbox: clear parent-death signal: %w", err)
	}
	if err := filter.Install(sp.hostRules()); err != nil {
		return nil, err
	}
	log.Debug("sandbox ready", "id", id, "args", s.Process.Args)
	return sb, nil
}

// quietLogger is the logger of the sandbox's processes (sentry, gofer).
// Without --log their stderr is the container's, so only errors (or
// everything with --debug) go there, to keep the container's output its
// own.
func quietLogger(o *options) *slog.Logger {
	if o.logPath != "" {
		return o.log
	}
	level := slog.LevelError
	if o.debug {
		level = slog.LevelDebug
	}
	h, err := logHandler(os.Stderr, o.logFormat, level)
	if err != nil {
		return o.log
	}
	return slog.New(h)
}

// startGofer starts `moat gofer` serving rootfs (extra are its mount and
// read-only flags) and returns the sentry's end of their socket.
func startGofer(o *options, rootfs string, extra []string, log *slog.Logger) (*os.File, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("gofer socket: %w", err)
	}
	mine := os.NewFile(uintptr(pair[0]), "gofer")
	theirs := os.NewFile(uintptr(pair[1]), "gofer-server")
	defer theirs.Close()
	args := append([]string{"moat"}, o.globalArgs()...)
	args = append(args, "gofer", "--root", rootfs)
	args = append(args, extra...)
	var stderr io.Writer = os.Stderr
	if o.logPath != "" {
		stderr = nil
	}
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       args,
		Env:        []string{},
		Stderr:     stderr,
		ExtraFiles: []*os.File{theirs}, // fd 3
		SysProcAttr: &unix.SysProcAttr{
			// Its own mount namespace to pivot in; dies with the
			// sentry (and also on EOF of its socket); its own process
			// group so a terminal's ^C reaches the container, not it.
			Cloneflags: unix.CLONE_NEWNS,
			Pdeathsig:  unix.SIGKILL,
			Setpgid:    true,
		},
	}
	if err := cmd.Start(); err != nil {
		mine.Close()
		return nil, fmt.Errorf("starting gofer: %w", err)
	}
	log.Debug("gofer started", "pid", cmd.Process.Pid, "root", rootfs)
	// Not waited for: it exits with the sentry.
	cmd.Process.Release()
	return mine, nil
}

// lastCapability is the highest capability number the host kernel knows,
// read while /proc is still visible.
func lastCapability() int {
	data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
			return n
		}
	}
	return unix.CAP_LAST_CAP
}

// pivotToEmptyRoot makes an empty, read-only tmpfs the sentry's root and
// detaches the host's: from then on no path the sentry could open leads
// anywhere. The tmpfs is mounted over dir in this private namespace; the
// host keeps seeing dir (and the control socket bound in it) unchanged.
func pivotToEmptyRoot(dir string) error {
	if err := unix.Mount("moat-sentry", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=4k,nr_inodes=4,mode=0500"); err != nil {
		return fmt.Errorf("sandbox: empty root on %s: %w", dir, err)
	}
	if err := unix.Chdir(dir); err != nil {
		return fmt.Errorf("sandbox: chdir %s: %w", dir, err)
	}
	// pivot_root(".", ".") stacks the old root on top of the new one at
	// "/" (pivot_root(2), NOTES); unmounting "." then removes the old
	// root without needing a directory to park it in.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("sandbox: pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("sandbox: detach old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("sandbox: chdir /: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("sandbox: remount empty root read-only: %w", err)
	}
	return nil
}

// run serves the control socket until the container's init has exited,
// and returns its status.
func (sb *sandbox) run() kernel.ExitStatus {
	go sb.control.serve(sb)
	go sb.forwardSignals()
	st := <-sb.control.exited
	sb.close()
	return st
}

// close releases what the sentry holds: the stubs (platform), the gofer
// (EOF on its socket) and the control socket.
func (sb *sandbox) close() {
	if sb.control != nil {
		sb.control.close()
	}
	if sb.plat != nil {
		sb.plat.Close()
	}
	if sb.root != nil {
		sb.root.Close()
	}
}

// exitLike ends the sentry the way the init ended: with its exit code,
// or killed by the same signal, so that whoever waits for the sentry
// (containerd's shim, moat run) sees the container's status.
func exitLike(st kernel.ExitStatus) {
	if st.Signal == 0 {
		os.Exit(st.Code)
	}
	dieOfSignal(st.Signal)
	// A signal whose default action does not end a process.
	os.Exit(128 + int(st.Signal))
}

// dieOfSignal kills the sentry with sig. The Go runtime's own handler is
// not enough: it ignores SIGSEGV or SIGBUS that come from kill rather
// than a fault. So the signal gets its default action straight from the
// kernel, is unblocked on this thread, and is sent to this thread.
//
// Preconditions: the calling goroutine is locked to its thread.
func dieOfSignal(sig unix.Signal) {
	// struct sigaction all zero: SIG_DFL, no flags, empty mask. Four
	// words cover amd64's layout (with sa_restorer) and arm64's.
	setDefaultAction(sig)
	var set unix.Sigset_t
	set.Val[(sig-1)/64] |= 1 << ((uint(sig) - 1) % 64)
	unix.PthreadSigmask(unix.SIG_UNBLOCK, &set, nil)
	unix.Tgkill(unix.Getpid(), unix.Gettid(), sig)
}
