package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
)

var doCommand = &cli.Command{
	Name:      "do",
	Usage:     "run a host command in a sandbox whose root is the host's / (read-only); exit with its status",
	ArgsUsage: "[--] CMD [ARG...]",
	// Everything after "do" is the command line: its flags are its own.
	SkipFlagParsing: true,
	Action: func(ctx *cli.Context) error {
		args := ctx.Args().Slice()
		if len(args) > 0 && args[0] == "--" {
			args = args[1:]
		}
		if len(args) == 0 {
			return errors.New("do: no command given (moat do [--] CMD [ARG...])")
		}
		co, err := doOptions(args)
		if err != nil {
			return err
		}
		return runContainer(opts(ctx), co, false)
	},
}

// doOptions makes the configuration of a `moat do` sandbox: the host's
// root under an in-memory overlay (writes never reach the host), the
// sandbox's own /proc, /dev, /dev/pts, /dev/shm and /sys, the caller's
// environment, working directory and credentials, hostname "moat", and
// the host network (no network namespace).
func doOptions(args []string) (createOptions, error) {
	// Look the command up now for an early, clear error; the sentry
	// resolves it again in the root it sees, which is the same tree.
	if !strings.Contains(args[0], "/") {
		if _, err := exec.LookPath(args[0]); err != nil {
			return createOptions{}, fmt.Errorf("exec: %q: executable file not found in $PATH", args[0])
		}
	}
	cwd, err := os.Getwd()
	if err != nil {
		return createOptions{}, fmt.Errorf("do: working directory: %w", err)
	}
	var gids []uint32
	if groups, err := os.Getgroups(); err == nil {
		for _, g := range groups {
			gids = append(gids, uint32(g))
		}
	}
	s := &specs.Spec{
		Version: specs.Version,
		// The host's root, its writes kept in the sentry's memory:
		// the program may write anywhere and sees its own changes,
		// the host sees none of them.
		Root:        &specs.Root{Path: "/"},
		Annotations: map[string]string{overlayAnnotation: overlayMemory},
		Mounts:      doMounts(),
		Process: &specs.Process{
			Args: args,
			Env:  os.Environ(),
			Cwd:  cwd,
			User: specs.User{UID: uint32(os.Getuid()), GID: uint32(os.Getgid()), AdditionalGids: gids},
		},
		Hostname: "moat",
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{
			{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace}, {Type: specs.MountNamespace},
		}},
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return createOptions{}, err
	}
	id := fmt.Sprintf("do-%d-%s", os.Getpid(), hex.EncodeToString(rnd[:]))
	return createOptions{id: id, config: s}, nil
}

// doMounts are the mounts of a `moat do` sandbox: the sandbox's own
// kernel views instead of the host's (/proc, /sys, /dev with the
// standard devices, /dev/pts, /dev/shm). /tmp stays the host's, seen
// through the overlay: the program reads what is there, and its own
// files vanish with the sandbox.
func doMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
	}
}
