package kernel

import (
	"testing"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

func newTestFile() *vfs.File { return vfs.NewFile(nil, unix.O_RDONLY, vfs.Location{}) }

func TestFDTableLowestFree(t *testing.T) {
	ft := NewFDTable()
	f := newTestFile()
	for want := int32(0); want < 3; want++ {
		fd, err := ft.Install(f, 0, false, 1024)
		if err != nil || fd != want {
			t.Fatalf("Install = %d, %v; want %d", fd, err, want)
		}
	}
	if err := ft.Close(1); err != nil {
		t.Fatal(err)
	}
	if fd, _ := ft.Install(f, 0, false, 1024); fd != 1 {
		t.Errorf("after close(1), Install = %d, want 1", fd)
	}
	if fd, _ := ft.Install(f, 10, true, 1024); fd != 10 {
		t.Errorf("F_DUPFD 10 = %d, want 10", fd)
	}
	if fd, _ := ft.Install(f, 0, false, 1024); fd != 3 {
		t.Errorf("Install after F_DUPFD 10 = %d, want 3", fd)
	}
	if ce, _ := ft.CloseOnExec(10); !ce {
		t.Error("fd 10 lost FD_CLOEXEC")
	}
}

func TestFDTableErrors(t *testing.T) {
	f := newTestFile()
	cases := []struct {
		name string
		run  func(ft *FDTable) error
		want error
	}{
		{"get unopened", func(ft *FDTable) error { _, err := ft.Get(5); return err }, unix.EBADF},
		{"get negative", func(ft *FDTable) error { _, err := ft.Get(-1); return err }, unix.EBADF},
		{"close unopened", func(ft *FDTable) error { return ft.Close(0) }, unix.EBADF},
		{"nofile exhausted", func(ft *FDTable) error {
			for i := 0; i < 4; i++ {
				if _, err := ft.Install(f, 0, false, 4); err != nil {
					return err
				}
			}
			_, err := ft.Install(f, 0, false, 4)
			return err
		}, unix.EMFILE},
		{"dupfd at limit", func(ft *FDTable) error { _, err := ft.Install(f, 4, false, 4); return err }, unix.EINVAL},
		{"dup2 beyond limit", func(ft *FDTable) error { return ft.Replace(4, f, false, 4) }, unix.EBADF},
		{"setfd unopened", func(ft *FDTable) error { return ft.SetCloseOnExec(3, true) }, unix.EBADF},
	}
	for _, c := range cases {
		if err := c.run(NewFDTable()); err != c.want {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

func TestFDTableReplace(t *testing.T) {
	ft := NewFDTable()
	a, b := newTestFile(), newTestFile()
	if _, err := ft.Install(a, 0, true, 1024); err != nil {
		t.Fatal(err)
	}
	if err := ft.Replace(0, b, false, 1024); err != nil {
		t.Fatal(err)
	}
	got, err := ft.Get(0)
	if err != nil || got != b {
		t.Fatalf("Get(0) = %p, %v; want the replacing file", got, err)
	}
	got.DecRef()
	if ce, _ := ft.CloseOnExec(0); ce {
		t.Error("dup2 kept FD_CLOEXEC of the replaced descriptor")
	}
	if err := ft.Replace(7, a, false, 1024); err != nil {
		t.Fatal(err)
	}
	if fds := ft.FDs(); len(fds) != 2 || fds[0] != 0 || fds[1] != 7 {
		t.Errorf("FDs = %v, want [0 7]", fds)
	}
	if fd, _ := ft.Install(a, 0, false, 1024); fd != 1 {
		t.Errorf("Install = %d, want 1", fd)
	}
}
