package goferfs

import (
	"os"
	"testing"

	"moat/gofer"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// devRemote is a gofer whose root holds one character device, "null";
// opening anything on the host is a test failure.
type devRemote struct{ t *testing.T }

func (r devRemote) Attach() (gofer.FID, gofer.Attr, error) {
	return 1, gofer.Attr{Mode: unix.S_IFDIR | 0o755}, nil
}

func (r devRemote) Walk(dir gofer.FID, name string) (gofer.FID, gofer.Attr, error) {
	if name != "null" {
		return 0, gofer.Attr{}, unix.ENOENT
	}
	return 2, gofer.Attr{Mode: unix.S_IFCHR | 0o666, Rdev: unix.Mkdev(1, 3)}, nil
}

func (r devRemote) Stat(gofer.FID) (gofer.Attr, error) { return gofer.Attr{}, unix.EIO }
func (r devRemote) Readlink(gofer.FID) (string, error) { return "", unix.EINVAL }
func (r devRemote) Clunk(gofer.FID) error              { return nil }

func (r devRemote) Open(f gofer.FID, flags int) (*os.File, error) {
	r.t.Errorf("device node opened on the host (fid %d)", f)
	return nil, unix.EPERM
}

// recordingDrivers remembers the device asked for.
type recordingDrivers struct {
	mode uint32
	rdev uint64
}

func (d *recordingDrivers) OpenDevice(mode uint32, rdev uint64, flags int) (vfs.FileImpl, error) {
	d.mode, d.rdev = mode, rdev
	return nil, unix.ENXIO
}

func TestGoferDeviceNodes(t *testing.T) {
	for _, withDrivers := range []bool{false, true} {
		fs := New(devRemote{t})
		d := &recordingDrivers{}
		want := unix.EACCES // nodev without drivers
		if withDrivers {
			fs.SetDevices(d)
			want = unix.ENXIO // the drivers' answer
		}
		v, err := vfs.New(fs, vfs.MountOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.OpenAt(root, v.Root(), v.Root(), "/null", unix.O_RDWR, 0)
		if err != want {
			t.Errorf("drivers %v: open /null = %v, want %v", withDrivers, err, want)
		}
		if withDrivers && (d.rdev != unix.Mkdev(1, 3) || d.mode != unix.S_IFCHR|0o666) {
			t.Errorf("drivers asked for mode %o rdev %x, want the node's", d.mode, d.rdev)
		}
	}
}
