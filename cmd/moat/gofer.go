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
		&cli.BoolFlag{Name: "writable", Usage: "serve the root read-write (config.json root.readonly false); read-only without it"},
		&cli.StringSliceFlag{Name: "mount", Usage: "bind mount `DEST=SRC[:ro]`: serve host SRC (a directory or a file) for container path DEST"},
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
		// Bind sources are host paths: open them all before Confine
		// hides the host.
		var mounts []*gofer.BindMount
		for _, spec := range ctx.StringSlice("mount") {
			dest, src, ro, err := gofer.ParseMountFlag(spec)
			if err == nil {
				var m *gofer.BindMount
				m, err = gofer.OpenBindMount(dest, src, ro)
				mounts = append(mounts, m)
			}
			if err != nil {
				for _, m := range mounts {
					if m != nil {
						m.Close()
					}
				}
				return err
			}
		}
		writable := ctx.Bool("writable")
		if err := gofer.Confine(ctx.String("root"), !writable, mounts); err != nil {
			return err
		}
		// Confine pivoted into the root: it is "/" now. ServeTree runs
		// on this goroutine, which Confine locked to its thread.
		t := gofer.Tree{Root: "/", ReadOnly: !writable, Mounts: mounts}
		return gofer.ServeTree(t, sock, quietLogger(opts(ctx)))
	},
}
