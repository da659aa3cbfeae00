package sys

import (
	"testing"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

func TestCPUFiles(t *testing.T) {
	for _, tc := range []struct {
		ncpu int
		want string
	}{{1, "0\n"}, {4, "0-3\n"}, {0, "0\n"}} {
		v, err := vfs.New(New(tc.ncpu), vfs.MountOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		c := &vfs.Creds{}
		f, err := v.OpenAt(c, v.Root(), v.Root(), "/devices/system/cpu/online", unix.O_RDONLY, 0)
		if err != nil {
			t.Fatalf("ncpu %d: open: %v", tc.ncpu, err)
		}
		buf := make([]byte, 64)
		n, _ := f.Read(buf)
		f.DecRef()
		if got := string(buf[:n]); got != tc.want {
			t.Errorf("ncpu %d: online = %q, want %q", tc.ncpu, got, tc.want)
		}
		if _, err := v.OpenAt(c, v.Root(), v.Root(), "/devices/system/cpu/online", unix.O_WRONLY, 0); err == nil {
			t.Errorf("ncpu %d: /sys opened for writing", tc.ncpu)
		}
	}
}
