package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
)

var psCommand = &cli.Command{
	Name:      "ps",
	Usage:     "list the processes of a container: sandbox PIDs (table), or the sandbox's host PIDs (json, as containerd reads it)",
	ArgsUsage: "ID",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table (sandbox PIDs) or json (host PIDs of the sandbox's processes, as containerd reads it)"},
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
		if status != specs.StateRunning && status != specs.StateCreated && status != statePaused {
			return fmt.Errorf("container %q: container not running", id)
		}
		if format == "json" {
			// containerd (`ctr task ps`, `docker top`) reads host PIDs,
			// as runc's cgroup gives them: the sandbox's host
			// processes (sentry, gofer, stubs), not the PIDs the
			// application sees.
			return json.NewEncoder(os.Stdout).Encode(hostProcessTree(st.Pid))
		}
		fmt.Println("PID")
		for _, p := range pids {
			fmt.Println(p)
		}
		return nil
	},
}

// hostProcessTree returns root and its descendants on the host, in
// breadth-first order, from /proc/PID/task/TID/children. A process that
// exits meanwhile just drops out of the list.
func hostProcessTree(root int) []int {
	pids := []int{root}
	seen := map[int]bool{root: true}
	for i := 0; i < len(pids); i++ {
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pids[i]))
		if err != nil {
			continue
		}
		for _, t := range tasks {
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pids[i], t.Name()))
			if err != nil {
				continue
			}
			for _, f := range strings.Fields(string(data)) {
				if p, err := strconv.Atoi(f); err == nil && !seen[p] {
					seen[p] = true
					pids = append(pids, p)
				}
			}
		}
	}
	return pids
}
