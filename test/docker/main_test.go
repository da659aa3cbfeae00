//go:build docker

package docker

import (
	"archive/tar"
	"bufio"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"moat/test/harness"
)

// Where the private daemons keep their state: fixed names, so a run that
// was killed is recognised (and its leftovers cleared) by the next one,
// and nothing is shared with a Docker or containerd the machine runs.
const (
	containerdRoot  = "/var/lib/moat-test-containerd"
	containerdState = "/run/moat-test-containerd"
	containerdSock  = containerdState + "/containerd.sock"
	dockerRoot      = "/var/lib/moat-test-docker"
	dockerExecRoot  = "/run/moat-test-docker-exec"
	dockerSock      = "/run/moat-test-docker.sock"
	dockerPidFile   = "/run/moat-test-docker.pid"
	// ctrNamespace is the containerd namespace of the ctr cases; the
	// runc shim keeps runtime state under /run/containerd/runc/NS.
	ctrNamespace = "moat-test"
	shimRuncRoot = "/run/containerd/runc/" + ctrNamespace

	// image is the busybox image in Docker, ctrImage the same in
	// containerd (docker save names it that way).
	image    = "moat-busybox:test"
	ctrImage = "docker.io/library/moat-busybox:test"

	// bridgeName is the private dockerd's bridge, which the tests make
	// (and remove) themselves so that nothing of the machine's own
	// networking is touched; bridgeCIDR is its address. Docker gives its
	// containers addresses on it (iptables stays off: no NAT, only the
	// host and the containers talk).
	bridgeName = "moatbr0"
	bridgeCIDR = "172.31.213.1/24"
)

// env is what the tests share; envErr says why there is none.
var (
	env    *environment
	envErr error
)

type environment struct {
	moat string
	// workDir holds the moat binary, the image tarballs and the daemons'
	// configuration and logs.
	workDir               string
	containerd, dockerd   *exec.Cmd
	containerdLog, dlog   string
	dockerBin, ctrBin     string
	containerdDone, dDone chan error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "moat-docker-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "docker:", err)
		os.Exit(1)
	}
	env, envErr = setup(dir)
	if envErr != nil {
		fmt.Fprintln(os.Stderr, "docker: not running the tests:", envErr)
	}
	code := m.Run()
	if env != nil {
		if err := env.teardown(); err != nil {
			fmt.Fprintln(os.Stderr, "docker: teardown:", err)
			code = 1
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// needEnv returns the environment or skips (fails with CI=true) with the
// reason there is none.
func needEnv(t *testing.T) *environment {
	t.Helper()
	if env != nil {
		return env
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(envErr)
	}
	t.Skip(envErr)
	return nil
}

// setup checks the machine, builds moat and the image, and starts the
// daemons. On error it leaves nothing running.
func setup(dir string) (_ *environment, err error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("the Docker tests need root")
	}
	if err := harness.Prereqs(); err != nil {
		return nil, err
	}
	e := &environment{workDir: dir}
	for _, b := range []struct {
		name string
		dst  *string
	}{{"dockerd", nil}, {"containerd", nil}, {"containerd-shim-runc-v2", nil}, {"ctr", &e.ctrBin}, {"docker", &e.dockerBin}} {
		p, err := exec.LookPath(b.name)
		if err != nil {
			return nil, fmt.Errorf("%s not found (make test-docker installs docker.io, containerd and runc)", b.name)
		}
		if b.dst != nil {
			*b.dst = p
		}
	}
	// Debian's docker.io puts its CLI in /usr/bin; prefer it to another
	// one earlier in PATH, which may speak a newer API than this dockerd.
	if _, err := os.Stat("/usr/bin/docker"); err == nil {
		e.dockerBin = "/usr/bin/docker"
	}
	bb, err := staticBusybox()
	if err != nil {
		return nil, err
	}
	if e.moat, err = harness.BuildMoat(dir); err != nil {
		return nil, err
	}
	if err := clearLeftovers(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			if terr := e.teardown(); terr != nil {
				fmt.Fprintln(os.Stderr, "docker: teardown after failed setup:", terr)
			}
		}
	}()
	if err := makeBridge(); err != nil {
		return nil, err
	}
	if err := e.startContainerd(); err != nil {
		return nil, err
	}
	if err := e.startDockerd(); err != nil {
		return nil, err
	}
	rootfsTar := filepath.Join(dir, "busybox-rootfs.tar")
	if err := writeBusyboxTar(bb, rootfsTar); err != nil {
		return nil, err
	}
	if r := e.docker("import", rootfsTar, image); r.Exit != 0 {
		return nil, fmt.Errorf("docker import: %v", r)
	}
	saved := filepath.Join(dir, "busybox-image.tar")
	if r := e.docker("save", "-o", saved, image); r.Exit != 0 {
		return nil, fmt.Errorf("docker save: %v", r)
	}
	if r := e.ctr("image", "import", saved); r.Exit != 0 {
		return nil, fmt.Errorf("ctr image import: %v", r)
	}
	return e, nil
}

// staticBusybox returns the host's busybox if it is static (the image has
// no libc).
func staticBusybox() (string, error) {
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		static := true
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				static = false
			}
		}
		f.Close()
		if static {
			return p, nil
		}
	}
	return "", errors.New("no static busybox at /bin/busybox (apt-get install busybox-static)")
}

// writeBusyboxTar writes the image's root file system: bin/busybox with a
// symlink per applet, /etc/passwd and /etc/group for root, and the empty
// mount points Docker expects.
func writeBusyboxTar(bb, out string) error {
	list, err := exec.Command(bb, "--list").Output()
	if err != nil {
		return fmt.Errorf("%s --list: %w", bb, err)
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	now := time.Now()
	dir := func(name string, mode int64) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, ModTime: now})
	}
	file := func(name string, mode int64, body []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(body)), ModTime: now}); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	// /run is there because containerd's default spec mounts a tmpfs on
	// it and moat cannot yet make a missing mount point (the official
	// busybox image has none: see README, "With containerd").
	for _, d := range []string{"bin", "etc", "proc", "sys", "dev", "root", "run"} {
		if err := dir(d, 0o755); err != nil {
			return err
		}
	}
	if err := dir("tmp", 0o1777); err != nil {
		return err
	}
	if err := file("bin/busybox", 0o755, data); err != nil {
		return err
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet == "busybox" {
			continue
		}
		h := &tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + applet, Linkname: "busybox", Mode: 0o777, ModTime: now}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
	}
	if err := file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\n")); err != nil {
		return err
	}
	if err := file("etc/group", 0o644, []byte("root:x:0:\n")); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}

// startContainerd starts a containerd of our own (no CRI plugin, which
// wants CNI) and waits until it answers.
func (e *environment) startContainerd() error {
	conf := filepath.Join(e.workDir, "containerd.toml")
	toml := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = %q
[debug]
  address = ""
[metrics]
  address = ""
`, containerdRoot, containerdState, containerdSock)
	if err := os.WriteFile(conf, []byte(toml), 0o644); err != nil {
		return err
	}
	e.containerdLog = filepath.Join(e.workDir, "containerd.log")
	cmd, done, err := startDaemon(e.containerdLog, "containerd", "--config", conf)
	if err != nil {
		return err
	}
	e.containerd, e.containerdDone = cmd, done
	return waitReady("containerd", e.containerdLog, done, func() bool { return e.ctr("version").Exit == 0 })
}

// startDockerd starts a dockerd on our containerd with moat registered as
// the runtime "moat", on the private bridge, without iptables rules.
func (e *environment) startDockerd() error {
	conf := filepath.Join(e.workDir, "daemon.json")
	if err := os.WriteFile(conf, []byte("{}\n"), 0o644); err != nil {
		return err
	}
	e.dlog = filepath.Join(e.workDir, "dockerd.log")
	cmd, done, err := startDaemon(e.dlog, "dockerd",
		"--config-file", conf,
		"--containerd", containerdSock,
		"--add-runtime", "moat="+e.moat,
		"--host", "unix://"+dockerSock,
		"--data-root", dockerRoot,
		"--exec-root", dockerExecRoot,
		"--pidfile", dockerPidFile,
		"--iptables=false", "--ip6tables=false", "--bridge", bridgeName)
	if err != nil {
		return err
	}
	e.dockerd, e.dDone = cmd, done
	return waitReady("dockerd", e.dlog, done, func() bool { return e.docker("version").Exit == 0 })
}

// startDaemon starts a daemon logging to logPath; done receives its wait
// error when it exits. It dies with the test binary (parent-death signal
// SIGTERM, so it still shuts down cleanly).
func startDaemon(logPath, name string, args ...string) (*exec.Cmd, chan error, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, nil, fmt.Errorf("starting %s: %w", name, err)
	}
	log.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return cmd, done, nil
}

// waitReady polls ready for 30 seconds, or until the daemon exits.
func waitReady(name, logPath string, done chan error, ready func() bool) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			done <- err
			return fmt.Errorf("%s exited while starting (%v); log:\n%s", name, err, tail(logPath))
		default:
		}
		if ready() {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer within 30s; log:\n%s", name, tail(logPath))
}

// tail returns the last lines of a log file.
func tail(path string) string {
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// docker runs the Docker CLI against our dockerd.
func (e *environment) docker(args ...string) harness.Result {
	return e.dockerOpts(harness.Opts{}, args...)
}

func (e *environment) dockerOpts(o harness.Opts, args ...string) harness.Result {
	o.Env = append(os.Environ(), "DOCKER_HOST=unix://"+dockerSock, "DOCKER_CONFIG="+e.workDir)
	if o.Timeout == 0 {
		o.Timeout = 60 * time.Second
	}
	return harness.Run(o, e.dockerBin, args...)
}

// ctr runs ctr against our containerd in the test namespace.
func (e *environment) ctr(args ...string) harness.Result {
	args = append([]string{"--address", containerdSock, "--namespace", ctrNamespace}, args...)
	return harness.Run(harness.Opts{Timeout: 60 * time.Second}, e.ctrBin, args...)
}

// teardown removes every container, stops the daemons, checks that no
// shim or sandbox is left and removes the daemons' directories.
func (e *environment) teardown() error {
	var errs []error
	if e.dockerd != nil {
		if r := e.docker("ps", "-aq"); r.Exit == 0 {
			for _, id := range strings.Fields(r.Stdout) {
				if r := e.docker("rm", "-f", id); r.Exit != 0 {
					errs = append(errs, fmt.Errorf("docker rm -f %s: %v", id, r))
				}
			}
		}
		errs = append(errs, stopDaemon("dockerd", e.dockerd, e.dDone))
	}
	if e.containerd != nil {
		if r := e.ctr("container", "ls", "-q"); r.Exit == 0 {
			for _, id := range strings.Fields(r.Stdout) {
				e.ctr("task", "delete", "--force", id)
				e.ctr("container", "rm", id)
			}
		}
		errs = append(errs, stopDaemon("containerd", e.containerd, e.containerdDone))
	}
	// Shims outlive containerd by design; with every container deleted
	// none should be left.
	if shims := ourShims(); len(shims) > 0 {
		errs = append(errs, fmt.Errorf("containerd shims left running: %v", shims))
		killAll(shims)
	}
	if e.moat != "" {
		if left := harness.WithExe(e.moat); len(left) > 0 {
			errs = append(errs, fmt.Errorf("moat processes left running: %v", left))
			for _, p := range left {
				unix.Kill(p.PID, unix.SIGKILL)
			}
		}
	}
	errs = append(errs, removeDirs(), removeBridge())
	return errors.Join(errs...)
}

// makeBridge creates the private dockerd's bridge, up, with bridgeCIDR.
func makeBridge() error {
	for _, args := range [][]string{
		{"link", "add", bridgeName, "type", "bridge"},
		{"addr", "add", bridgeCIDR, "dev", bridgeName},
		{"link", "set", bridgeName, "up"},
	} {
		if b, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, b)
		}
	}
	return nil
}

// removeBridge deletes the bridge if it is there.
func removeBridge() error {
	if _, err := os.Stat("/sys/class/net/" + bridgeName); err != nil {
		return nil
	}
	if b, err := exec.Command("ip", "link", "del", bridgeName).CombinedOutput(); err != nil {
		return fmt.Errorf("ip link del %s: %v: %s", bridgeName, err, b)
	}
	return nil
}

// stopDaemon sends SIGTERM and waits 30 seconds before SIGKILL.
func stopDaemon(name string, cmd *exec.Cmd, done chan error) error {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
	}
	cmd.Process.Kill()
	<-done
	return fmt.Errorf("%s ignored SIGTERM for 30s and was killed", name)
}

// ourShims returns the PIDs of runc shims serving our containerd (their
// command line names its socket).
func ourShims() []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + ent.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 0 && strings.HasSuffix(args[0], "containerd-shim-runc-v2") && strings.Contains(string(cmdline), containerdSock) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func killAll(pids []int) {
	for _, p := range pids {
		unix.Kill(p, unix.SIGKILL)
	}
}

// clearLeftovers stops the daemons and shims a killed earlier run left
// (recognised by our socket paths in their command lines) and removes its
// directories.
func clearLeftovers() error {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + ent.Name() + "/cmdline")
		if strings.Contains(string(cmdline), containerdSock) || strings.Contains(string(cmdline), dockerSock) {
			pids = append(pids, pid)
		}
	}
	if len(pids) > 0 {
		fmt.Fprintf(os.Stderr, "docker: killing processes an earlier run left: %v\n", pids)
		killAll(pids)
		time.Sleep(time.Second)
	}
	return errors.Join(removeDirs(), removeBridge())
}

// removeDirs detaches whatever is still mounted under the daemons'
// directories (deepest first) and removes them.
func removeDirs() error {
	dirs := []string{dockerRoot, dockerExecRoot, containerdRoot, containerdState, shimRuncRoot}
	var mounts []string
	if f, err := os.Open("/proc/self/mountinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 5 {
				continue
			}
			for _, d := range dirs {
				if fields[4] == d || strings.HasPrefix(fields[4], d+"/") {
					mounts = append(mounts, fields[4])
				}
			}
		}
		f.Close()
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		unix.Unmount(mounts[i], unix.MNT_DETACH)
	}
	var errs []error
	for _, d := range append(dirs, dockerSock, dockerPidFile) {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// withPty runs name with a new pty as its standard streams and returns
// what it wrote there and its exit status.
func withPty(t *testing.T, env []string, timeout time.Duration, name string, args ...string) (string, int) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err == nil {
		err = unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0)
	}
	if err != nil {
		t.Fatal(err)
	}
	slave, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		slave.Close()
		t.Fatal(err)
	}
	slave.Close()
	out := make(chan string, 1)
	go func() {
		// EIO once the last slave descriptor is closed.
		data, _ := io.ReadAll(master)
		out <- string(data)
	}()
	werr := cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if ctx.Err() != nil {
		t.Fatalf("%s timed out (%v)", name, werr)
	}
	select {
	case s := <-out:
		return s, code
	case <-time.After(10 * time.Second):
		t.Fatalf("%s exited but its pty stayed open", name)
	}
	return "", code
}
