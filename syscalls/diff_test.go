package syscalls_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// diffPrograms are the testdata programs of the differential tests, each
// compiled statically (with pthreads) into one root directory.
var diffPrograms = []string{"proc_wait", "proc_exec", "proc_threads", "proc_signals", "proc_execfmt", "proc_fp"}

// diffRoot compiles the differential programs into a fresh root directory
// and adds the files the exec tests use.
func diffRoot(t *testing.T) string {
	t.Helper()
	exe := func(data string) file { return file{data, 0o755} }
	root := tree{
		progs:  diffPrograms,
		cflags: []string{"-pthread", "-lm"},
		dirs:   []string{"d"},
		files: map[string]file{
			"notexec": {"\x7fELF not really", 0o644},
			"garbage": exe("this is no program\n"),
			"script":  exe("#!/proc_exec  scriptarg \n"),
			"loop1":   exe("#!/loop2\n"),
			"loop2":   exe("#!/loop1\n"),
			// proc_execfmt's scripts: sc1 runs it, scN runs sc(N-1).
			"sc1":         exe("#!/proc_execfmt\n"),
			"sc2":         exe("#!/sc1\n"),
			"sc3":         exe("#!/sc2\n"),
			"sc4":         exe("#!/sc3\n"),
			"sc5":         exe("#!/sc4\n"),
			"sc6":         exe("#!/sc5\n"),
			"emptyinterp": exe("#!"),
			"blankinterp": exe("#! \t \n"),
			"longarg":     exe("#!/proc_execfmt " + strings.Repeat("a", 300) + "\n"),
			"longname":    exe("#!/" + strings.Repeat("x", 300) + "\n"),
			"relscript":   exe("#!proc_execfmt rel\n"),
		},
	}.make(t)
	// xonly is proc_execfmt with only execute bits: exec needs no read
	// permission.
	copyFile(t, filepath.Join(root, "proc_execfmt"), filepath.Join(root, "xonly"), 0o111)
	return root
}

// TestDifferential runs each program natively and in moat and compares
// the outputs and exit statuses line by line.
func TestDifferential(t *testing.T) {
	needDiffHost(t)
	root := diffRoot(t)
	for _, name := range diffPrograms {
		t.Run(name, func(t *testing.T) {
			diffRun(t, root, root, []string{name})
		})
	}
}
