package harness

import (
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCloseInheritedFDs leaks a descriptor without FD_CLOEXEC, as a
// test's starter would, and checks a child no longer sees it.
func TestCloseInheritedFDs(t *testing.T) {
	fd, err := unix.Open("/dev/null", unix.O_RDONLY, 0) // no O_CLOEXEC: the leak
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	name := "/proc/self/fd/" + strconv.Itoa(fd)
	probe := func() Result { return Run(Opts{}, "/bin/sh", "-c", "test -e "+name+" && echo open || echo closed") }
	if r := probe(); r.Stdout != "open\n" {
		t.Fatalf("before: the child saw the leaked descriptor as %q (%v): the test proves nothing", r.Stdout, r.Err)
	}
	if err := CloseInheritedFDs(); err != nil {
		t.Fatal(err)
	}
	if r := probe(); r.Stdout != "closed\n" {
		t.Errorf("after CloseInheritedFDs the child still has descriptor %d: %q", fd, r.Stdout)
	}
	if _, err := os.Stat(name); err != nil {
		t.Errorf("CloseInheritedFDs closed descriptor %d in the parent: %v", fd, err)
	}
}
