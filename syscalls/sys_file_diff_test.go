package syscalls_test

import "testing"

// TestFileSyscallsDifferential runs file_ops natively on a read-only root
// and in moat, and compares outputs and exit statuses. The root holds a
// data directory, symlinks of every kind (relative, absolute, to a
// directory, looping, dangling, climbing out), and a file next to the
// root that must stay invisible.
func TestFileSyscallsDifferential(t *testing.T) {
	needDiffHost(t)
	root := tree{
		progs: []string{"file_ops"},
		dirs:  []string{"data"},
		files: map[string]file{
			"data/hello": {data: "hello, world\n"},
			"data/other": {},
			"../outside": {data: "host file\n"},
		},
		links: map[string]string{
			"link": "data/hello", "dirlink": "data", "loop1": "loop2", "loop2": "loop1",
			"dangling": "nowhere", "escape": "../../..", "abs": "/",
		},
	}.make(t)
	diffRun(t, readOnlyView(t, root), root, []string{"file_ops"})
}
