package main

import "github.com/urfave/cli/v2"

var startCommand = &cli.Command{
	Name:      "start",
	Usage:     "run a created container's process",
	ArgsUsage: "ID",
	Action: func(ctx *cli.Context) error {
		id, err := oneID(ctx)
		if err != nil {
			return err
		}
		return startContainer(opts(ctx), id)
	},
}
