package main

import (
	"encoding/json"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
)

var psCommand = &cli.Command{
	Name:      "ps",
	Usage:     "list the processes of a container (sandbox PIDs)",
	ArgsUsage: "ID",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json (the PID list, as containerd reads it)"},
	},
	Action: func(ctx *cli.Context) error {
		format := ctx.String("format")
		if format != "table" && format != "json" {
			return fmt.Errorf("--format %q: want table or json", format)
		}
		id, err := oneID(ctx)
		if err != nil {
			return err
		}
		c, st, err := openContainer(opts(ctx), id)
		if err != nil {
			return err
		}
		defer c.Unlock()
		status, pids := containerStatus(c, st)
		if status != specs.StateRunning && status != specs.StateCreated {
			return fmt.Errorf("container %q: container not running", id)
		}
		if pids == nil {
			pids = []int{}
		}
		if format == "json" {
			return json.NewEncoder(os.Stdout).Encode(pids)
		}
		fmt.Println("PID")
		for _, p := range pids {
			fmt.Println(p)
		}
		return nil
	},
}
