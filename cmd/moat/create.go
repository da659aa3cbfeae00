package main

import (
	"github.com/urfave/cli/v2"
)

// bundleFlags are the flags create and run share.
var bundleFlags = []cli.Flag{
	&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Value: ".", Usage: "bundle `DIR` holding config.json and the root file system"},
	&cli.StringFlag{Name: "pid-file", Usage: "write the sandbox's host PID to `FILE`"},
	&cli.StringFlag{Name: "console-socket", Usage: "send the pty master of a terminal container to this AF_UNIX socket `PATH`"},
	&cli.BoolFlag{Name: "no-pivot", Usage: "accepted for runc compatibility; moat always pivots"},
	&cli.BoolFlag{Name: "no-new-keyring", Usage: "accepted for runc compatibility; the sandbox has no host keyring"},
}

// bundleOptions reads the bundle flags of create and run.
func bundleOptions(ctx *cli.Context) (createOptions, error) {
	id, err := oneID(ctx)
	if err != nil {
		return createOptions{}, err
	}
	return createOptions{
		id:            id,
		bundle:        ctx.String("bundle"),
		pidFile:       ctx.String("pid-file"),
		consoleSocket: ctx.String("console-socket"),
	}, nil
}

var createCommand = &cli.Command{
	Name:      "create",
	Usage:     "create a container: start its sandbox, ready to run process.args",
	ArgsUsage: "ID",
	Flags:     bundleFlags,
	Action: func(ctx *cli.Context) error {
		co, err := bundleOptions(ctx)
		if err != nil {
			return err
		}
		sentry, err := createContainer(opts(ctx), co)
		if err != nil {
			return err
		}
		// The sentry outlives create: whoever is our parent's subreaper
		// (containerd's shim) reaps it.
		return sentry.Process.Release()
	},
}
