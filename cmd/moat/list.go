package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"moat/spec"
)

var listCommand = &cli.Command{
	Name:      "list",
	Aliases:   []string{"ls"},
	Usage:     "list containers",
	ArgsUsage: " ",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the IDs"},
	},
	Action: func(ctx *cli.Context) error {
		o := opts(ctx)
		format := ctx.String("format")
		if format != "table" && format != "json" {
			return fmt.Errorf("--format %q: want table or json", format)
		}
		ids, err := o.stateRoot().List()
		if err != nil {
			return err
		}
		var states []spec.State
		for _, id := range ids {
			c, st, err := openContainer(o, id)
			if err != nil {
				// Deleted while we listed.
				continue
			}
			st.Status, _ = containerStatus(c, st)
			c.Unlock()
			states = append(states, *st)
		}
		if ctx.Bool("quiet") {
			for _, st := range states {
				fmt.Println(st.ID)
			}
			return nil
		}
		if format == "json" {
			if states == nil {
				states = []spec.State{}
			}
			return json.NewEncoder(os.Stdout).Encode(states)
		}
		w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
		fmt.Fprintln(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER")
		for _, st := range states {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", st.ID, st.Pid, st.Status, st.Bundle,
				st.Created.Format(time.RFC3339Nano), owner(st.Owner))
		}
		return w.Flush()
	},
}

// owner names a uid as list prints it.
func owner(uid int) string {
	if uid == 0 {
		return "root"
	}
	return fmt.Sprintf("#%d", uid)
}
