package main

import (
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

var runCommand = &cli.Command{
	Name:      "run",
	Usage:     "create and start a container, wait for it and delete it; exit with its status",
	ArgsUsage: "ID",
	Flags: append(bundleFlags[:len(bundleFlags):len(bundleFlags)],
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the container runs"},
	),
	Action: func(ctx *cli.Context) error {
		co, err := bundleOptions(ctx)
		if err != nil {
			return err
		}
		return runContainer(opts(ctx), co, ctx.Bool("detach"))
	},
}

// runContainer is run and do: create, start, and unless detach, wait for
// the sentry and delete the container. The error is an exitStatus
// carrying the container's status (128+N for signal N) when it ran.
func runContainer(o *options, co createOptions, detach bool) error {
	sentry, err := createContainer(o, co)
	if err != nil {
		return err
	}
	if err := startContainer(o, co.id); err != nil {
		return errors.Join(err, deleteContainer(o, co.id, true))
	}
	if detach {
		return sentry.Process.Release()
	}
	// SIGINT and SIGQUIT come from the terminal, which sends them to the
	// sentry too (same process group): like a shell waiting for its
	// child, run lets the child decide. Signals sent to run itself are
	// passed to the sentry, which passes them to the container's init.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGHUP, unix.SIGUSR1, unix.SIGUSR2)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				if s == unix.SIGINT || s == unix.SIGQUIT {
					continue
				}
				sentry.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	sentry.Wait()
	close(done)
	ws, _ := sentry.ProcessState.Sys().(syscall.WaitStatus)
	if err := deleteContainer(o, co.id, true); err != nil {
		o.log.Warn("delete after run", "id", co.id, "err", err)
	}
	return exitStatus(waitStatusCode(ws))
}
