package mm

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// zeroFile is a /dev/zero open with flags: no host descriptor, and
// mappings that are anonymous memory.
type zeroFile struct{ flags int }

func (z zeroFile) HostFD() int                 { return -1 }
func (z zeroFile) MapName() string             { return "/dev/zero" }
func (z zeroFile) OpenFlags() int              { return z.flags }
func (z zeroFile) MapDevIno() (uint64, uint64) { return unix.Mkdev(0, 5), 7 }
func (z zeroFile) MapsAnonymous() bool         { return true }

func TestMapZeroDevice(t *testing.T) {
	tests := []struct {
		name      string
		flags     int // open flags
		mapFlags  int
		prot      int
		wantErr   error
		wantName  string
		wantInode uint64
	}{
		{name: "private", flags: unix.O_RDONLY, mapFlags: unix.MAP_PRIVATE, prot: rw, wantName: "/dev/zero", wantInode: 7},
		{name: "shared", flags: unix.O_RDWR, mapFlags: unix.MAP_SHARED, prot: rw, wantName: "/dev/zero (deleted)"},
		{name: "shared writable, read-only open", flags: unix.O_RDONLY, mapFlags: unix.MAP_SHARED, prot: rw, wantErr: unix.EACCES},
		{name: "write-only open", flags: unix.O_WRONLY, mapFlags: unix.MAP_PRIVATE, prot: unix.PROT_READ, wantErr: unix.EACCES},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, as := newFake()
			a, err := m.MMap(MMapOpts{Length: 2 * PageSize, Prot: tc.prot, Flags: tc.mapFlags, File: zeroFile{tc.flags}})
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("MMap = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			consistent(t, m, as)
			buf := []byte{1, 2, 3}
			if _, err := as.ReadAt(buf, a); err != nil || buf[0]|buf[1]|buf[2] != 0 {
				t.Errorf("read of the mapping = %v, %v: want zeros", buf, err)
			}
			es := m.Maps()
			if len(es) != 1 || es[0].Name != tc.wantName || es[0].Inode != tc.wantInode {
				t.Fatalf("maps = %+v, want one entry named %q, inode %d", es, tc.wantName, tc.wantInode)
			}
			if shared := es[0].Perms[3] == 's'; shared != (tc.mapFlags == unix.MAP_SHARED) {
				t.Errorf("maps perms %q: shared is %v", es[0].Perms, shared)
			}
		})
	}
}

func TestMProtectNoExecFile(t *testing.T) {
	f := openTestFile(t, make([]byte, PageSize), unix.O_RDONLY)
	for _, noExec := range []bool{false, true} {
		m, _ := newFake()
		a := mustMap(t, m, MMapOpts{Length: PageSize, Prot: unix.PROT_READ, Flags: unix.MAP_PRIVATE, File: f, NoExec: noExec})
		err := m.MProtect(a, PageSize, unix.PROT_READ|unix.PROT_EXEC)
		if want := map[bool]error{false: nil, true: unix.EACCES}[noExec]; err != want {
			t.Errorf("noexec %v: mprotect PROT_EXEC = %v, want %v", noExec, err, want)
		}
	}
}
