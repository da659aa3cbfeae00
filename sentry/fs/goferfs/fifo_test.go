package goferfs

import (
	"os"
	"path/filepath"
	"testing"

	"moat/gofer"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// TestFIFOMeetsBySentryPipe opens a host FIFO through two names (a hard
// link) and checks both ends meet in one sentry pipe, that the host FIFO
// itself is never opened, and Linux's open rules.
func TestFIFOMeetsBySentryPipe(t *testing.T) {
	top := t.TempDir()
	hostFIFO := filepath.Join(top, "f")
	if err := unix.Mkfifo(hostFIFO, 0o666); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := os.Link(hostFIFO, filepath.Join(top, "g")); err != nil {
		t.Fatal(err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	cs, ss := os.NewFile(uintptr(fds[0]), "client"), os.NewFile(uintptr(fds[1]), "server")
	done := make(chan error, 1)
	go func() { done <- gofer.Serve(top, ss, nil) }()
	c, err := gofer.NewClient(cs)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.Close(); <-done; ss.Close() }()
	v, err := vfs.New(New(c), vfs.MountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	open := func(path string, flags int) (*vfs.File, error) {
		return v.OpenAt(root, v.Root(), v.Root(), path, flags, 0)
	}
	if _, err := open("/f", unix.O_WRONLY|unix.O_NONBLOCK); err != unix.ENXIO {
		t.Fatalf("writer without reader: %v, want ENXIO", err)
	}
	r, err := open("/f", unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		t.Fatalf("reader: %v", err)
	}
	defer r.DecRef()
	// The host FIFO has no reader: the sentry's reader is not on it.
	if fd, err := unix.Open(hostFIFO, unix.O_WRONLY|unix.O_NONBLOCK, 0); err != unix.ENXIO {
		if err == nil {
			unix.Close(fd)
		}
		t.Fatalf("host open of the FIFO: %v, want ENXIO (no host reader)", err)
	}
	w, err := open("/g", unix.O_WRONLY|unix.O_NONBLOCK)
	if err != nil {
		t.Fatalf("writer through the hard link: %v", err)
	}
	if _, err := w.Write([]byte("met")); err != nil {
		t.Fatal(err)
	}
	w.DecRef()
	buf := make([]byte, 8)
	n, err := r.Read(buf)
	if err != nil || string(buf[:n]) != "met" {
		t.Fatalf("read %q, %v; want met", buf[:n], err)
	}
	st, err := r.Stat()
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Fatalf("fstat: mode %#o, %v", st.Mode, err)
	}
}
