package main

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

var killCommand = &cli.Command{
	Name:      "kill",
	Usage:     "send a signal (default SIGTERM) to a container's init, or with --all to all its processes",
	ArgsUsage: "ID [SIGNAL]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "signal every process of the container"},
	},
	Action: func(ctx *cli.Context) error {
		if ctx.NArg() < 1 || ctx.NArg() > 2 {
			return fmt.Errorf("kill: expected ID [SIGNAL], got %d arguments", ctx.NArg())
		}
		id, err := oneIDOf(ctx.Args().First())
		if err != nil {
			return err
		}
		sig := unix.SIGTERM
		if ctx.NArg() == 2 {
			if sig, err = parseSignal(ctx.Args().Get(1)); err != nil {
				return err
			}
		}
		c, st, err := openContainer(opts(ctx), id)
		if err != nil {
			return err
		}
		defer c.Unlock()
		status, _ := containerStatus(c, st)
		if status != specs.StateCreated && status != specs.StateRunning && status != statePaused {
			return fmt.Errorf("container %q: container not running", id)
		}
		req := controlRequest{Op: opKill, Signal: int(sig), All: ctx.Bool("all")}
		if _, err := callSentry(c.ControlSocket(), req); err != nil {
			return fmt.Errorf("container %q: kill: %w", id, err)
		}
		return nil
	},
}
