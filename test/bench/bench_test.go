// Package bench runs the same workloads natively and under moat and
// reports moat's cost as a ratio to native. It is not part of the pass/fail
// suite: run it with `make bench` (go test -run '^$' -bench . ./test/bench).
package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"moat/test/harness"
)

// workload is one program with its arguments; "@DATA" is a small file.
type workload struct {
	name string
	prog string
	args []string
	reps int // runs per mode; the mean is reported
}

var workloads = []workload{
	{"getpid x1e5", "getpid_loop", []string{"100000"}, 3},
	{"open+read+close x1e4", "openread_loop", []string{"@DATA", "10000"}, 3},
	{"cold start (true)", "true", nil, 10},
}

// BenchmarkRatios prints, for each workload, the mean wall time natively,
// under `moat do` and (cold start only) under `moat run`, and the ratios.
// It does its own repetitions, so b.N is not used; run it with -benchtime 1x.
func BenchmarkRatios(b *testing.B) {
	if err := harness.Prereqs(); err != nil {
		b.Skipf("skipping: %v", err)
	}
	dir := b.TempDir()
	moat, err := harness.BuildMoat(dir)
	if err != nil {
		b.Fatal(err)
	}
	progs, err := harness.CompilePrograms("test/bench/programs", dir)
	if err != nil {
		b.Fatal(err)
	}
	data := filepath.Join(dir, "data.txt")
	if err := os.WriteFile(data, make([]byte, 4096), 0o644); err != nil {
		b.Fatal(err)
	}
	bundle := filepath.Join(dir, "bundle")
	if err := os.MkdirAll(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
		b.Fatal(err)
	}
	trueBin, _ := os.ReadFile(progs["true"])
	if err := os.WriteFile(filepath.Join(bundle, "rootfs", "true"), trueBin, 0o755); err != nil {
		b.Fatal(err)
	}
	config := `{"ociVersion":"1.0.2","process":{"args":["/true"],"cwd":"/","env":["PATH=/"],"user":{"uid":0,"gid":0}},` +
		`"root":{"path":"rootfs","readonly":true},"linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"ipc"},{"type":"uts"}]}}`
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(config), 0o644); err != nil {
		b.Fatal(err)
	}

	fmt.Printf("\n%-24s %12s %12s %8s %12s %8s\n", "workload", "native", "moat do", "ratio", "moat run", "ratio")
	for _, w := range workloads {
		args := make([]string, len(w.args))
		for i, a := range w.args {
			if a == "@DATA" {
				a = data
			}
			args[i] = a
		}
		prog := progs[w.prog]
		native, err := mean(w.reps, prog, args...)
		if err != nil {
			b.Fatalf("%s natively: %v", w.name, err)
		}
		root := filepath.Join(dir, "root")
		do, err := mean(w.reps, moat, append([]string{"--root", root, "do", "--", prog}, args...)...)
		if err != nil {
			b.Errorf("%s under moat do: %v", w.name, err)
			continue
		}
		line := fmt.Sprintf("%-24s %12v %12v %7.1fx", w.name, native.Round(time.Microsecond), do.Round(time.Microsecond), ratio(do, native))
		if w.prog == "true" {
			run, err := mean(w.reps, moat, "--root", root, "run", "--bundle", bundle, "bench-true")
			if err != nil {
				b.Errorf("%s under moat run: %v", w.name, err)
			} else {
				line += fmt.Sprintf(" %12v %7.1fx", run.Round(time.Microsecond), ratio(run, native))
			}
		}
		fmt.Println(line)
	}
}

// mean runs the command reps times and returns the mean wall time; any
// failure aborts, since a failed run's time means nothing.
func mean(reps int, name string, args ...string) (time.Duration, error) {
	var total time.Duration
	for i := 0; i < reps; i++ {
		start := time.Now()
		r := harness.Run(harness.Opts{Timeout: 120 * time.Second}, name, args...)
		total += time.Since(start)
		if r.Exit != 0 {
			return 0, fmt.Errorf("%s: %v", name, r)
		}
	}
	return total / time.Duration(reps), nil
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }
