package syscalls_test

import "testing"

// TestFileDataDifferential runs file_data natively on a read-only root
// and in moat, and compares outputs and exit statuses.
func TestFileDataDifferential(t *testing.T) {
	needDiffHost(t)
	root := tree{
		progs: []string{"file_data"},
		dirs:  []string{"data"},
		files: map[string]file{"data/hello": {data: "hello, world\n"}},
	}.make(t)
	diffRun(t, readOnlyView(t, root), root, []string{"file_data"})
}
