package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"moat/sentry/kernel"
	"moat/syscalls"
)

var syscallsCommand = &cli.Command{
	Name:      "syscalls",
	Usage:     "print the system-call table: name, numbers on amd64 and arm64, support level",
	ArgsUsage: " ",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
	},
	Action: func(ctx *cli.Context) error {
		list := syscalls.List()
		switch ctx.String("format") {
		case "json":
			type row struct {
				Name    string `json:"name"`
				AMD64   int    `json:"amd64"`
				ARM64   int    `json:"arm64"`
				Support string `json:"support"`
				Errno   string `json:"errno,omitempty"`
				Note    string `json:"note,omitempty"`
			}
			rows := make([]row, 0, len(list))
			for _, in := range list {
				rows = append(rows, row{in.Name, in.AMD64, in.ARM64, supportName(in.Support), errnoName(in), in.Note})
			}
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(rows)
		case "table":
		default:
			return fmt.Errorf("--format %q: want table or json", ctx.String("format"))
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tAMD64\tARM64\tSUPPORT\tNOTE")
		for _, in := range list {
			support := supportName(in.Support)
			if e := errnoName(in); e != "" {
				support += " (" + e + ")"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", in.Name, number(in.AMD64), number(in.ARM64), support, in.Note)
		}
		return w.Flush()
	},
}

// number prints a syscall number, "-" where the architecture lacks it.
func number(n int) string {
	if n < 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

// supportName names a support level.
func supportName(s kernel.Support) string {
	switch s {
	case kernel.Supported:
		return "supported"
	case kernel.Partial:
		return "partial"
	case kernel.Refused:
		return "refused"
	}
	return fmt.Sprintf("support(%d)", int(s))
}

// errnoName names the errno a refused call returns.
func errnoName(in syscalls.Info) string {
	if in.Support != kernel.Refused || in.Errno == 0 {
		return ""
	}
	if name := unix.ErrnoName(in.Errno); name != "" {
		return name
	}
	return strconv.Itoa(int(in.Errno))
}
