package main

import (
	"encoding/json"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
)

var stateCommand = &cli.Command{
	Name:      "state",
	Usage:     "print a container's OCI state as JSON",
	ArgsUsage: "ID",
	Action: func(ctx *cli.Context) error {
		id, err := oneID(ctx)
		if err != nil {
			return err
		}
		c, st, err := openContainer(opts(ctx), id)
		if err != nil {
			return err
		}
		defer c.Unlock()
		out := st.State
		out.Status, _ = containerStatus(c, st)
		if out.Status == specs.StateStopped {
			// The PID is no longer the container's.
			out.Pid = 0
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	},
}
