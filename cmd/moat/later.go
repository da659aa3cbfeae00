package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// laterVerbs are runc verbs moat will implement in a later issue. They are
// registered so containerd and people get a clear refusal, not "unknown
// command".
var laterVerbs = []struct{ name, usage string }{
	{"checkpoint", "checkpoint a running container"},
}

// laterCommands returns one refusing command per later verb.
func laterCommands() []*cli.Command {
	var cmds []*cli.Command
	for _, v := range laterVerbs {
		name := v.name
		cmds = append(cmds, &cli.Command{
			Name:  name,
			Usage: v.usage + " (not supported yet)",
			// Whatever flags runc's verb takes must not turn the refusal
			// into a usage error.
			SkipFlagParsing: true,
			Action: func(*cli.Context) error {
				return fmt.Errorf("%s is not supported yet", name)
			},
		})
	}
	return cmds
}
