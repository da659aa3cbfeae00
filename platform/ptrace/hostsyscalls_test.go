//go:build cgo

package ptrace

import (
	"testing"

	seccomp "github.com/seccomp/libseccomp-golang"
)

// TestHostSyscallsKnown checks every name the sentry filter will be given
// is one libseccomp knows.
func TestHostSyscallsKnown(t *testing.T) {
	for _, name := range HostSyscalls() {
		if _, err := seccomp.GetSyscallFromName(name); err != nil {
			t.Errorf("HostSyscalls: %q: %v", name, err)
		}
	}
}
