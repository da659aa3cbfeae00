package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"moat/spec"
)

var specCommand = &cli.Command{
	Name:      "spec",
	Usage:     "write a default config.json into a bundle",
	ArgsUsage: " ",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Value: ".", Usage: "bundle `DIR`"},
		&cli.BoolFlag{Name: "rootless", Usage: "a configuration for an unprivileged user"},
	},
	Action: func(ctx *cli.Context) error {
		if ctx.NArg() != 0 {
			return fmt.Errorf("spec: takes no arguments, got %q", ctx.Args().Slice())
		}
		dir, err := spec.BundleDir(ctx.String("bundle"))
		if err != nil {
			return err
		}
		data, err := json.MarshalIndent(spec.Default(ctx.Bool("rootless")), "", "\t")
		if err != nil {
			return err
		}
		path := filepath.Join(dir, spec.ConfigName)
		// O_EXCL: an existing config.json is someone's work; never
		// overwrite it.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: already exists", spec.ConfigName)
		}
		if err != nil {
			return err
		}
		_, err = f.Write(append(data, '\n'))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	},
}
