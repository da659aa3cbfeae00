// Command moat is a sandboxing OCI container runtime: the runc-compatible
// command line containerd and Docker drive, `moat do` for running one host
// command in a sandbox, and the hidden verbs that are the sandbox's own
// processes (`sandbox`, the sentry; `gofer`, the file server).
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"

	"github.com/urfave/cli/v2"

	"moat/spec"
)

// options are the global flags, parsed once in Before.
type options struct {
	root, logPath, logFormat, platform string
	debug, systemdCgroup, strace       bool
	// log is the logger every verb uses; logOut is where it writes.
	log    *slog.Logger
	logOut io.Writer
}

// exitStatus is an error that carries the process's exit status and no
// message: the container's own status passed through by run and do.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// init keeps the main goroutine on the main thread (a goroutine locked
// during package initialisation stays locked in main). The sandbox verb
// relies on it: see sandboxMain.
func init() { runtime.LockOSThread() }

func main() {
	app := newApp()
	err := app.Run(os.Args)
	os.Exit(report(app, err))
}

// report prints err the way containerd expects it (one "moat: ..." line
// on stderr, and an error record as the log's last line) and returns the
// exit status.
func report(app *cli.App, err error) int {
	if err == nil {
		return 0
	}
	var st exitStatus
	if errors.As(err, &st) {
		return int(st)
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	fmt.Fprintln(os.Stderr, "moat: "+msg)
	if o, ok := app.Metadata["options"].(*options); ok && o.logPath != "" {
		o.log.Error(msg)
	}
	return 1
}

// newApp builds the command line.
func newApp() *cli.App {
	app := &cli.App{
		Name:  "moat",
		Usage: "a sandboxing OCI container runtime",
		Description: "moat runs OCI containers the way runc does, except that the container never " +
			"talks to the host kernel: a user-space kernel (the sentry) answers its system calls.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "root", Value: spec.DefaultRoot, Usage: "directory for container state"},
			&cli.StringFlag{Name: "log", Usage: "log to `FILE` (default: stderr)"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
			&cli.BoolFlag{Name: "debug", Usage: "log debug messages"},
			&cli.BoolFlag{Name: "systemd-cgroup", Usage: "accepted for runc compatibility and ignored (moat sets up no cgroups yet)"},
			&cli.StringFlag{Name: "platform", Value: "ptrace", Usage: "how application code runs and traps: ptrace"},
			&cli.BoolFlag{Name: "strace", Usage: "log every application system call"},
		},
		Before: setup,
		Commands: []*cli.Command{
			specCommand, createCommand, startCommand, stateCommand, killCommand,
			deleteCommand, runCommand, listCommand, psCommand, doCommand, syscallsCommand,
			featuresCommand, sandboxCommand, goferCommand,
			execCommand, execProxyCommand, pauseCommand, resumeCommand, eventsCommand, updateCommand,
		},
		// Errors are printed by report, once, in one format.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return err
		},
		CommandNotFound: func(ctx *cli.Context, name string) {
			fmt.Fprintf(os.Stderr, "moat: %q is not a moat command (see moat --help)\n", name)
			os.Exit(1)
		},
		HideHelpCommand: true,
		Metadata:        map[string]any{},
	}
	app.Commands = append(app.Commands, laterCommands()...)
	return app
}

// setup parses the global flags and opens the log.
func setup(ctx *cli.Context) error {
	o := &options{
		root:          ctx.String("root"),
		logPath:       ctx.String("log"),
		logFormat:     ctx.String("log-format"),
		platform:      ctx.String("platform"),
		debug:         ctx.Bool("debug"),
		systemdCgroup: ctx.Bool("systemd-cgroup"),
		strace:        ctx.Bool("strace"),
		logOut:        os.Stderr,
	}
	ctx.App.Metadata["options"] = o
	level := slog.LevelInfo
	if o.debug {
		level = slog.LevelDebug
	}
	if o.logPath != "" {
		f, err := os.OpenFile(o.logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			o.log = slog.New(slog.NewTextHandler(os.Stderr, nil))
			return fmt.Errorf("log file %s: %w", o.logPath, err)
		}
		o.logOut = f
	}
	h, err := logHandler(o.logOut, o.logFormat, level)
	if err != nil {
		o.log = slog.New(slog.NewTextHandler(os.Stderr, nil))
		return err
	}
	o.log = slog.New(h)
	if o.systemdCgroup {
		o.log.Debug("--systemd-cgroup is accepted and ignored: moat sets up no cgroups yet")
	}
	return nil
}

// logHandler makes the slog handler for format. JSON records use runc's
// keys and lower-case levels ("level":"error","msg":...): containerd's
// shim reads the last error line of the log that way.
func logHandler(w io.Writer, format string, level slog.Level) (slog.Handler, error) {
	hopts := &slog.HandlerOptions{Level: level, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.LevelKey {
			return slog.String(slog.LevelKey, strings.ToLower(a.Value.String()))
		}
		return a
	}}
	switch format {
	case "text", "":
		return slog.NewTextHandler(w, hopts), nil
	case "json":
		return slog.NewJSONHandler(w, hopts), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// opts returns the global options parsed by setup.
func opts(ctx *cli.Context) *options {
	return ctx.App.Metadata["options"].(*options)
}

// globalArgs are the global flags to pass to a moat process this one
// starts (the sentry, the gofer), so they log the same way.
func (o *options) globalArgs() []string {
	args := []string{"--root", o.root, "--platform", o.platform, "--log-format", o.logFormat}
	if o.logPath != "" {
		args = append(args, "--log", o.logPath)
	}
	if o.debug {
		args = append(args, "--debug")
	}
	if o.strace {
		args = append(args, "--strace")
	}
	return args
}

// stateRoot is the --root directory.
func (o *options) stateRoot() spec.Root { return spec.Root{Dir: o.root} }

// oneID returns the single container ID argument of a verb.
func oneID(ctx *cli.Context) (string, error) {
	if ctx.NArg() != 1 {
		return "", fmt.Errorf("%s: expected one container ID, got %d arguments", ctx.Command.Name, ctx.NArg())
	}
	return oneIDOf(ctx.Args().First())
}

// oneIDOf validates a container ID argument.
func oneIDOf(id string) (string, error) {
	if err := spec.ValidateID(id); err != nil {
		return "", err
	}
	return id, nil
}
