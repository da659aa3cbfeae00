package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Proc identifies one host process across PID reuse: its PID and its start
// time in clock ticks since boot (field 22 of /proc/PID/stat).
type Proc struct {
	PID   int
	Start uint64
	Comm  string
}

func (p Proc) String() string { return fmt.Sprintf("%d(%s)", p.PID, p.Comm) }

// stat reads the fields of /proc/PID/stat the tests need.
func stat(pid int) (ppid int, state byte, p Proc, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, Proc{}, err
	}
	s := string(data)
	// comm is in parentheses and may hold spaces or ')': cut at the last ')'.
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return 0, 0, Proc{}, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 20 {
		return 0, 0, Proc{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ppid, _ = strconv.Atoi(f[1])
	start, _ := strconv.ParseUint(f[19], 10, 64)
	return ppid, f[0][0], Proc{PID: pid, Start: start, Comm: s[open+1 : end]}, nil
}

// allPIDs lists the numeric entries of /proc.
func allPIDs() []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Tree returns pid and all its live descendants (zombies excluded).
func Tree(pid int) []Proc {
	children := map[int][]Proc{}
	var root *Proc
	for _, p := range allPIDs() {
		ppid, state, pr, err := stat(p)
		if err != nil || state == 'Z' {
			continue
		}
		if p == pid {
			root = &pr
		}
		children[ppid] = append(children[ppid], pr)
	}
	if root == nil {
		return nil
	}
	out := []Proc{*root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i].PID]...)
	}
	return out
}

// Alive returns the processes of ps that still run (same PID and start
// time, not a zombie).
func Alive(ps []Proc) []Proc {
	var live []Proc
	for _, p := range ps {
		_, state, now, err := stat(p.PID)
		if err != nil || state == 'Z' || now.Start != p.Start {
			continue
		}
		live = append(live, p)
	}
	return live
}

// WithExe returns the live processes whose executable is exe. The test
// binary of moat sits in a directory of its own, so this finds every
// sentry and gofer of this test run and nothing else.
func WithExe(exe string) []Proc {
	var ps []Proc
	for _, pid := range allPIDs() {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil || filepath.Clean(strings.TrimSuffix(link, " (deleted)")) != exe {
			continue
		}
		_, state, p, err := stat(pid)
		if err != nil || state == 'Z' {
			continue
		}
		ps = append(ps, p)
	}
	return ps
}
