package syscalls

import (
	"sync"

	"moat/platform/arch"
	"moat/sentry/fs/tmpfs"
	"moat/sentry/kernel"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// memfdNameMax is the longest name memfd_create takes: NAME_MAX less
// the "memfd:" prefix Linux gives it.
const memfdNameMax = 255 - len("memfd:")

// memfdFlags are the flags memfd_create accepts here.
const memfdFlags = unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING | unix.MFD_NOEXEC_SEAL | unix.MFD_EXEC

// memfdFS holds the sentry's memfds, as Linux keeps them on an
// internal tmpfs mount; made on first use. One sentry serves one
// sandbox, so one per process is one per sandbox.
var memfdFS = sync.OnceValue(func() *tmpfs.Filesystem { return tmpfs.New(tmpfs.Options{}) })

// sysMemfdCreate implements memfd_create(2): an anonymous tmpfs file
// whose data is in a host memfd, so it can be mapped and shared.
func sysMemfdCreate(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	flags := a.Uint(1)
	if flags&^memfdFlags != 0 || flags&unix.MFD_EXEC != 0 && flags&unix.MFD_NOEXEC_SEAL != 0 {
		return 0, unix.EINVAL
	}
	name, err := t.CopyInString(a[0], memfdNameMax+1)
	if err == unix.ENAMETOOLONG {
		// Linux measures the name with strnlen_user and says EINVAL.
		return 0, unix.EINVAL
	}
	if err != nil {
		return 0, err
	}
	if len(name) > memfdNameMax {
		return 0, unix.EINVAL
	}
	c := t.Credentials().VFS()
	impl, err := memfdFS().NewMemfd(c.UID, c.GID, tmpfs.MemfdFlags{
		AllowSealing: flags&unix.MFD_ALLOW_SEALING != 0,
		NoExec:       flags&unix.MFD_NOEXEC_SEAL != 0,
	})
	if err != nil {
		return 0, err
	}
	f := vfs.NewFile(impl, unix.O_RDWR|unix.O_LARGEFILE, vfs.Location{})
	fd, err := t.FDTable().Install(f, 0, flags&unix.MFD_CLOEXEC != 0, nofile(t))
	f.DecRef()
	if err != nil {
		return 0, err
	}
	return uintptr(fd), nil
}
