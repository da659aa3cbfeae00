package dev

import (
	"testing"

	"moat/sentry/kernel/tty"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// memIO is an IOContext over a byte slice at address 0.
type memIO []byte

func (m memIO) CopyIn(addr uintptr, dst []byte) (int, error)  { return copy(dst, m[addr:]), nil }
func (m memIO) CopyOut(addr uintptr, src []byte) (int, error) { return copy(m[addr:], src), nil }

// TestPtyPair opens a pair through devpts, checks the lock, then types a
// line with an erase at the master and reads it from the slave, and the
// echo from the master.
func TestPtyPair(t *testing.T) {
	fsi, err := NewPts([]string{"ptmxmode=0666", "mode=0620", "gid=5"})
	if err != nil {
		t.Fatal(err)
	}
	p := fsi.(*Pts)
	mi, err := p.open(&vfs.Creds{UID: 1000, GID: 1000})
	if err != nil {
		t.Fatal(err)
	}
	m := vfs.NewFile(mi, unix.O_RDWR|unix.O_NONBLOCK, vfs.Location{})
	defer m.DecRef()
	io := make(memIO, 64)
	if _, err := m.Ioctl(0x80045430, 0, io); err != nil || io[0] != 0 {
		t.Fatalf("TIOCGPTN = %v, %d", err, io[0])
	}
	si, err := p.slaveInode(0)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := si.Stat(); st.Mode != unix.S_IFCHR|0o620 || st.Uid != 1000 || st.Gid != 5 || st.Rdev != unix.Mkdev(136, 0) {
		t.Errorf("slave stat mode %o uid %d gid %d rdev %x", st.Mode, st.Uid, st.Gid, st.Rdev)
	}
	if _, err := si.Open(unix.O_RDWR); err != unix.EIO {
		t.Fatalf("open of a locked slave = %v, want EIO", err)
	}
	io[0] = 0
	if _, err := m.Ioctl(0x40045431, 0, io); err != nil {
		t.Fatal(err)
	}
	simpl, err := si.Open(unix.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	s := vfs.NewFile(simpl, unix.O_RDWR|unix.O_NONBLOCK, vfs.Location{})
	if _, err := m.Write([]byte("ab\x7fc\r")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 32)
	n, err := s.Read(b)
	if err != nil || string(b[:n]) != "ac\n" {
		t.Errorf("slave read %q, %v; want \"ac\\n\"", b[:n], err)
	}
	n, _ = m.Read(b)
	if want := "ab\b \bc\r\n"; string(b[:n]) != want {
		t.Errorf("echo %q, want %q", b[:n], want)
	}
	if _, err := s.Write([]byte("x\n")); err != nil {
		t.Fatal(err)
	}
	n, _ = m.Read(b)
	if string(b[:n]) != "x\r\n" {
		t.Errorf("master read %q, want \"x\\r\\n\"", b[:n])
	}
	s.DecRef()
	if _, err := m.Read(b); err != unix.EIO {
		t.Errorf("master read after the slave closed = %v, want EIO", err)
	}
	var _ tty.Terminal = simpl.(*tty.Slave)
}
