package syscalls_test

import (
	"strings"
	"testing"
)

// TestDifferentialExecOnlyUser runs proc_execfmt as an unprivileged user,
// natively and in moat, starting from its execute-only copy /xonly (mode
// 0111): neither the init's exec nor its children's execve of /xonly
// may need read permission.
func TestDifferentialExecOnlyUser(t *testing.T) {
	needDiffHost(t)
	root := diffRoot(t)
	want := diffRun(t, root, root, []string{"xonly"}, asUser(65534, 65534))
	if !strings.Contains(want, "execute-only file: exit 7") {
		t.Errorf("native run did not exec /xonly:\n%s", want)
	}
}
