package vfs

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// fileRootFS is a file system whose root is a single regular file, as a
// bind mount of one file is.
func fileRootFS(data string) *memFS { return &memFS{root: reg(0o644, data)} }

func TestMountSingleFile(t *testing.T) {
	tests := []struct {
		name    string
		at      string
		fs      *memFS
		wantErr error
	}{
		{name: "file on file", at: "/etc/passwd", fs: fileRootFS("bound")},
		{name: "file on directory", at: "/mnt", fs: fileRootFS("x"), wantErr: unix.ENOTDIR},
		{name: "directory on file", at: "/etc/passwd", fs: &memFS{root: dir(0o755, nil)}, wantErr: unix.ENOTDIR},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := newTestVFS(t)
			err := v.Mount(mustLookup(t, v, tc.at), tc.fs, MountOptions{})
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("Mount on %s = %v, want %v", tc.at, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			l := mustLookup(t, v, tc.at)
			if l.Mount().ReadOnly() {
				t.Error("path resolution did not cross into the file mount")
			}
			if got := where(v, l); got != tc.at {
				t.Errorf("Getcwd of the mounted file = %q, want %q", got, tc.at)
			}
			f, err := v.OpenAt(rootCreds, v.Root(), v.Root(), tc.at, unix.O_RDONLY, 0)
			if err != nil {
				t.Fatalf("open the mounted file: %v", err)
			}
			defer f.DecRef()
			buf := make([]byte, 16)
			n, _ := f.Read(buf)
			if got := string(buf[:n]); got != "bound" {
				t.Errorf("read %q through the mount, want the mounted file's %q", got, "bound")
			}
			// The mounted file is no directory to walk through.
			if _, err := v.LookupAt(rootCreds, v.Root(), v.Root(), tc.at+"/x", true); err != unix.ENOTDIR {
				t.Errorf("walk through the mounted file = %v, want ENOTDIR", err)
			}
		})
	}
}
