package main

import (
	"fmt"
	"time"

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
		if err := checkOwnMountNS("gofer"); err != nil {
			return err
		}
		sock, err := inheritedFile(goferFD, "gofer socket")
		if err != nil {
			return fmt.Errorf("gofer: %w (this verb is started by the sandbox)", err)
		}
		// Load the local time zone (log records format times) while
		// /etc/localtime is still the host's, not the served tree's.
		time.Now().Zone()
		if err := gofer.Confine(ctx.String("root")); err != nil {
			return err
		}
		// Confine pivoted into the root: it is "/" now. Serve runs on
		// this goroutine, which Confine locked to its thread.
		return gofer.Serve("/", sock, quietLogger(opts(ctx)))
	},
}
