package main

import (
	"errors"
	"os"

	"github.com/urfave/cli/v2"

	"moat/gofer"
)

// goferFD is the descriptor of the gofer's end of its socket to the
// sentry.
const goferFD = 3

var goferCommand = &cli.Command{
	Name:   "gofer",
	Usage:  "(internal) the file server of one sandbox",
	Hidden: true,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "root", Required: true, Usage: "directory tree to serve"},
	},
	Action: func(ctx *cli.Context) error {
		sock := os.NewFile(goferFD, "gofer-socket")
		if sock == nil {
			return errors.New("gofer: no socket (this verb is started by the sandbox)")
		}
		if err := gofer.Confine(ctx.String("root")); err != nil {
			return err
		}
		// Confine pivoted into the root: it is "/" now. Serve runs on
		// this goroutine, which Confine locked to its thread.
		return gofer.Serve("/", sock, opts(ctx).log)
	},
}
