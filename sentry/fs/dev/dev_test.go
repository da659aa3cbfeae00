package dev

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestDevices(t *testing.T) {
	for _, tc := range []struct {
		name     string
		minor    uint32
		readN    int
		readByte byte
		writeErr error
	}{
		{"null", 3, 0, 0, nil},
		{"zero", 5, 8, 0, nil},
		{"full", 7, 8, 0, unix.ENOSPC},
	} {
		f, err := Drivers{}.OpenDevice(unix.S_IFCHR|0o666, unix.Mkdev(1, tc.minor), unix.O_RDWR)
		if err != nil {
			t.Fatalf("%s: open: %v", tc.name, err)
		}
		buf := []byte{1, 1, 1, 1, 1, 1, 1, 1}
		n, err := f.Read(nil, buf)
		if err != nil || n != tc.readN || (n > 0 && buf[0] != tc.readByte) {
			t.Errorf("%s: read = %d, %v, %v", tc.name, n, err, buf)
		}
		if _, err := f.Write(nil, buf); err != tc.writeErr {
			t.Errorf("%s: write = %v, want %v", tc.name, err, tc.writeErr)
		}
		if _, err := f.Ioctl(nil, 0x5401, 0, nil); err != unix.ENOTTY {
			t.Errorf("%s: ioctl = %v, want ENOTTY", tc.name, err)
		}
	}
	// /dev/tty is a placeholder the open system call replaces.
	if f, err := (Drivers{}).OpenDevice(unix.S_IFCHR, unix.Mkdev(5, 0), unix.O_RDWR); err != nil {
		t.Errorf("open /dev/tty = %v", err)
	} else if _, ok := f.(CurrentTTY); !ok {
		t.Errorf("open /dev/tty = %T, want CurrentTTY", f)
	}
	f, _ := Drivers{}.OpenDevice(unix.S_IFCHR, unix.Mkdev(1, 9), unix.O_RDONLY)
	a, b := make([]byte, 32), make([]byte, 32)
	f.Read(nil, a)
	f.Read(nil, b)
	if string(a) == string(b) {
		t.Error("urandom gave the same bytes twice")
	}
	st, _ := f.Stat(nil)
	if st.Rdev != unix.Mkdev(1, 9) || st.Mode&unix.S_IFMT != unix.S_IFCHR {
		t.Errorf("urandom stat rdev %x mode %o", st.Rdev, st.Mode)
	}
}

func TestZeroMapsAnonymous(t *testing.T) {
	for minor, want := range map[uint32]bool{3: false, 5: true, 7: false, 9: false} {
		f, err := Drivers{}.OpenDevice(unix.S_IFCHR|0o666, unix.Mkdev(1, minor), unix.O_RDWR)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.(*File).MapsAnonymous(); got != want {
			t.Errorf("1:%d MapsAnonymous = %v, want %v", minor, got, want)
		}
	}
}
