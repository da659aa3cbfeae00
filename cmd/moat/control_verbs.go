package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
)

var pauseCommand = &cli.Command{
	Name:      "pause",
	Usage:     "suspend every process of a running container (state: paused)",
	ArgsUsage: "ID",
	Action: func(ctx *cli.Context) error {
		return pauseResume(ctx, opPause)
	},
}

var resumeCommand = &cli.Command{
	Name:      "resume",
	Usage:     "resume a paused container",
	ArgsUsage: "ID",
	Action: func(ctx *cli.Context) error {
		return pauseResume(ctx, opResume)
	},
}

// pauseResume sends op (opPause or opResume) to the container's sentry.
func pauseResume(ctx *cli.Context, op string) error {
	id, err := oneID(ctx)
	if err != nil {
		return err
	}
	c, st, err := openContainer(opts(ctx), id)
	if err != nil {
		return err
	}
	defer c.Unlock()
	if status, _ := containerStatus(c, st); status != specs.StateRunning && status != statePaused {
		return fmt.Errorf("container %q: cannot %s: container not running (it is %s)", id, op, status)
	}
	if _, err := callSentry(c.ControlSocket(), controlRequest{Op: op}); err != nil {
		return fmt.Errorf("container %q: %s: %w", id, op, err)
	}
	return nil
}

// The JSON of runc's events (libcontainer's types): the parts moat fills.

// event is one line of moat events.
type event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

// stats are a container's statistics.
type stats struct {
	CPU    cpuStats    `json:"cpu"`
	Memory memoryStats `json:"memory"`
	Pids   pidsStats   `json:"pids"`
}

type cpuStats struct {
	Usage cpuUsage `json:"usage,omitempty"`
}

type cpuUsage struct {
	// Total, Kernel and User are in nanoseconds.
	Total  uint64 `json:"total,omitempty"`
	Kernel uint64 `json:"kernel"`
	User   uint64 `json:"user"`
}

type memoryStats struct {
	Usage memoryEntry `json:"usage,omitempty"`
}

type memoryEntry struct {
	Limit   uint64 `json:"limit"`
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

type pidsStats struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

var eventsCommand = &cli.Command{
	Name:      "events",
	Usage:     "print a container's statistics as runc's JSON events: once with --stats, else every --interval until it stops",
	ArgsUsage: "ID",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "stats", Usage: "print one stats event and exit"},
		&cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "time between stats events"},
	},
	Action: func(ctx *cli.Context) error {
		id, err := oneID(ctx)
		if err != nil {
			return err
		}
		interval := ctx.Duration("interval")
		if interval <= 0 {
			return fmt.Errorf("--interval %s: must be positive", interval)
		}
		enc := json.NewEncoder(os.Stdout)
		for {
			s, err := containerStats(opts(ctx), id)
			if err != nil {
				return err
			}
			if err := enc.Encode(event{Type: "stats", ID: id, Data: s}); err != nil {
				return err
			}
			if ctx.Bool("stats") {
				return nil
			}
			time.Sleep(interval)
		}
	},
}

// containerStats gathers the statistics of a running (or paused)
// container: pids.current is the number of threads in the sandbox (the
// cgroup's pids.current counts tasks); memory and CPU are those of the
// sandbox's host processes (sentry, gofer, stubs), which is what the
// container costs the host.
func containerStats(o *options, id string) (*stats, error) {
	c, st, err := openContainer(o, id)
	if err != nil {
		return nil, err
	}
	defer c.Unlock()
	status, _ := containerStatus(c, st)
	if status != specs.StateRunning && status != statePaused {
		return nil, fmt.Errorf("container %q: container not running (it is %s)", id, status)
	}
	resp, err := callSentry(c.ControlSocket(), controlRequest{Op: opState})
	if err != nil {
		return nil, fmt.Errorf("container %q: events: %w", id, err)
	}
	var s stats
	s.Pids.Current = uint64(resp.Tasks)
	for _, pid := range hostProcessTree(st.Pid) {
		s.Memory.Usage.Usage += procRSS(pid)
		user, sys := procCPU(pid)
		s.CPU.Usage.User += user
		s.CPU.Usage.Kernel += sys
	}
	s.CPU.Usage.Total = s.CPU.Usage.User + s.CPU.Usage.Kernel
	return &s, nil
}

// procRSS returns the resident memory of host process pid in bytes
// (0 if it is gone).
func procRSS(pid int) uint64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				kb, _ := strconv.ParseUint(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// clockTick is the unit of /proc/PID/stat's times: USER_HZ, 100 on
// every Linux architecture moat runs on.
const clockTick = 10 * time.Millisecond

// procCPU returns the user and system time of host process pid (all
// its threads) in nanoseconds.
func procCPU(pid int) (user, sys uint64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0
	}
	// The fields after the command name, which may hold anything but
	// ends at the last ')': state is field 3, utime 14, stime 15.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, 0
	}
	u, _ := strconv.ParseUint(f[11], 10, 64)
	k, _ := strconv.ParseUint(f[12], 10, 64)
	return u * uint64(clockTick), k * uint64(clockTick)
}

var updateCommand = &cli.Command{
	Name:  "update",
	Usage: "update a container's resource limits (moat enforces none: only an empty update succeeds)",
	Description: `moat does not apply linux.resources (no cgroups for the sandbox), so it
cannot change them either: update checks its input and fails naming the
limits it was asked to change. An update that changes nothing succeeds.`,
	ArgsUsage: "ID",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "resources", Aliases: []string{"r"}, Usage: "runtime-spec linux.resources JSON `FILE` (- for standard input)"},
		&cli.StringFlag{Name: "blkio-weight"},
		&cli.StringFlag{Name: "cpu-period"},
		&cli.StringFlag{Name: "cpu-quota"},
		&cli.StringFlag{Name: "cpu-share"},
		&cli.StringFlag{Name: "cpu-rt-period"},
		&cli.StringFlag{Name: "cpu-rt-runtime"},
		&cli.StringFlag{Name: "cpuset-cpus"},
		&cli.StringFlag{Name: "cpuset-mems"},
		&cli.StringFlag{Name: "kernel-memory"},
		&cli.StringFlag{Name: "kernel-memory-tcp"},
		&cli.StringFlag{Name: "memory"},
		&cli.StringFlag{Name: "memory-reservation"},
		&cli.StringFlag{Name: "memory-swap"},
		&cli.StringFlag{Name: "pids-limit"},
		&cli.StringFlag{Name: "l3-cache-schema"},
		&cli.StringFlag{Name: "mem-bw-schema"},
	},
	Action: func(ctx *cli.Context) error {
		id, err := oneID(ctx)
		if err != nil {
			return err
		}
		var asked []string
		if f := ctx.String("resources"); f != "" {
			var r io.Reader = os.Stdin
			if f != "-" {
				file, err := os.Open(f)
				if err != nil {
					return fmt.Errorf("--resources: %w", err)
				}
				defer file.Close()
				r = file
			}
			var res specs.LinuxResources
			if err := json.NewDecoder(io.LimitReader(r, 1<<20)).Decode(&res); err != nil && err != io.EOF {
				return fmt.Errorf("--resources %s: %w", f, err)
			}
			asked = append(asked, setResourceFields(res)...)
		}
		for _, fl := range ctx.Command.Flags {
			name := fl.Names()[0]
			if name != "resources" && ctx.IsSet(name) {
				asked = append(asked, "--"+name)
			}
		}
		c, st, err := openContainer(opts(ctx), id)
		if err != nil {
			return err
		}
		defer c.Unlock()
		if status, _ := containerStatus(c, st); status == specs.StateStopped {
			return fmt.Errorf("container %q: cannot update a stopped container", id)
		}
		if len(asked) > 0 {
			return fmt.Errorf("container %q: update: moat enforces no resource limits, so it cannot change %s", id, strings.Join(asked, ", "))
		}
		return nil
	},
}

// setResourceFields names the fields of r that are set (JSON names).
func setResourceFields(r specs.LinuxResources) []string {
	var names []string
	v := reflect.ValueOf(r)
	for i := 0; i < v.NumField(); i++ {
		if !v.Field(i).IsZero() {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}
