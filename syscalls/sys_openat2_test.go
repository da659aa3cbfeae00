package syscalls

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestOpenFlags2(t *testing.T) {
	const cached = 0x20
	tests := []struct {
		name      string
		how       openHow
		wantFlags int
		wantMode  uint32
		err       unix.Errno
	}{
		{name: "plain", how: openHow{flags: unix.O_RDONLY}, wantFlags: oLargefile},
		{name: "cloexec kept", how: openHow{flags: unix.O_RDWR | unix.O_CLOEXEC}, wantFlags: unix.O_RDWR | unix.O_CLOEXEC | oLargefile},
		{name: "create", how: openHow{flags: unix.O_CREAT | unix.O_WRONLY, mode: 0o7755}, wantFlags: unix.O_CREAT | unix.O_WRONLY | oLargefile, wantMode: 0o7755},
		{name: "unknown flag", how: openHow{flags: 1 << 30}, err: unix.EINVAL},
		{name: "upper half", how: openHow{flags: 1 << 40}, err: unix.EINVAL},
		{name: "unknown resolve", how: openHow{resolve: 0x40}, err: unix.EINVAL},
		{name: "beneath and in root", how: openHow{resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_IN_ROOT}, err: unix.EINVAL},
		{name: "mode without create", how: openHow{mode: 0o644}, err: unix.EINVAL},
		{name: "mode beyond 07777", how: openHow{flags: unix.O_CREAT, mode: 0o10644}, err: unix.EINVAL},
		{name: "directory and create", how: openHow{flags: unix.O_CREAT | unix.O_DIRECTORY}, err: unix.EINVAL},
		{name: "tmpfile read-only", how: openHow{flags: unix.O_TMPFILE}, err: unix.EINVAL},
		{name: "tmpfile without O_DIRECTORY", how: openHow{flags: unix.O_TMPFILE&^unix.O_DIRECTORY | unix.O_RDWR}, err: unix.EINVAL},
		{name: "tmpfile", how: openHow{flags: unix.O_TMPFILE | unix.O_RDWR, mode: 0o600}, wantFlags: unix.O_TMPFILE | unix.O_RDWR | oLargefile, wantMode: 0o600},
		{name: "path", how: openHow{flags: unix.O_PATH | unix.O_NOFOLLOW | unix.O_DIRECTORY | unix.O_CLOEXEC}, wantFlags: unix.O_PATH | unix.O_NOFOLLOW | unix.O_DIRECTORY | unix.O_CLOEXEC},
		{name: "path with O_RDWR", how: openHow{flags: unix.O_PATH | unix.O_RDWR}, err: unix.EINVAL},
		{name: "path with O_LARGEFILE", how: openHow{flags: unix.O_PATH | oLargefile}, err: unix.EINVAL},
		{name: "__O_SYNC gets O_DSYNC", how: openHow{flags: unix.O_SYNC &^ unix.O_DSYNC}, wantFlags: unix.O_SYNC | oLargefile},
		{name: "cached", how: openHow{resolve: cached}, wantFlags: oLargefile},
		{name: "cached create", how: openHow{flags: unix.O_CREAT, resolve: cached}, err: unix.EAGAIN},
		{name: "cached trunc", how: openHow{flags: unix.O_TRUNC, resolve: cached}, err: unix.EAGAIN},
		{name: "cached tmpfile", how: openHow{flags: unix.O_TMPFILE | unix.O_RDWR, resolve: cached}, err: unix.EAGAIN},
		{name: "EINVAL before EAGAIN", how: openHow{flags: unix.O_CREAT, mode: 0o10000, resolve: cached}, err: unix.EINVAL},
	}
	for _, tc := range tests {
		flags, mode, err := openFlags2(tc.how)
		if tc.err != 0 {
			if err != tc.err {
				t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || flags != tc.wantFlags || mode != tc.wantMode {
			t.Errorf("%s: got %#o, %#o, %v; want %#o, %#o", tc.name, flags, mode, err, tc.wantFlags, tc.wantMode)
		}
	}
}
