package main

import (
	"errors"

	"github.com/urfave/cli/v2"

	"moat/spec"
)

var deleteCommand = &cli.Command{
	Name:      "delete",
	Usage:     "delete a container: kill what is left of its sandbox and remove its state",
	ArgsUsage: "ID",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "delete even a running container (SIGKILL)"},
	},
	Action: func(ctx *cli.Context) error {
		id, err := oneID(ctx)
		if err != nil {
			return err
		}
		err = deleteContainer(opts(ctx), id, ctx.Bool("force"))
		if errors.Is(err, spec.ErrNotExist) && ctx.Bool("force") {
			// runc's delete --force of an unknown container succeeds.
			return nil
		}
		return err
	},
}
