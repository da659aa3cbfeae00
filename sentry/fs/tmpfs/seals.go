package tmpfs

import (
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Seal bits (linux/fcntl.h); F_SEAL_EXEC is Linux 6.3's.
const (
	sealSeal        = unix.F_SEAL_SEAL
	sealShrink      = unix.F_SEAL_SHRINK
	sealGrow        = unix.F_SEAL_GROW
	sealWrite       = unix.F_SEAL_WRITE
	sealFutureWrite = unix.F_SEAL_FUTURE_WRITE
	sealExec        = 0x20

	// AllSeals are the seals fcntl may add.
	AllSeals = sealSeal | sealShrink | sealGrow | sealWrite | sealFutureWrite | sealExec

	// hostSeals are the seals the host must enforce as well: the
	// application's shared mappings of the file are host mappings of
	// its memfd, made by the stub, so only the host can refuse a
	// writable mapping after F_SEAL_WRITE or find one that blocks it.
	hostSeals = sealShrink | sealGrow | sealWrite | sealFutureWrite
)

// MemfdFlags are the memfd_create flags that shape a new file.
type MemfdFlags struct {
	// AllowSealing is MFD_ALLOW_SEALING: the file starts without
	// F_SEAL_SEAL, so seals can be added.
	AllowSealing bool
	// NoExec is MFD_NOEXEC_SEAL: no execute bits and F_SEAL_EXEC, so
	// they can never be set.
	NoExec bool
}

// NewMemfd returns an open file with no name in fs, as memfd_create
// makes, owned by uid and gid. Its data is in a host memfd from the
// start, made sealable when the file is, so seals can be mirrored on it.
func (fs *Filesystem) NewMemfd(uid, gid uint32, flags MemfdFlags) (vfs.FileImpl, error) {
	fs.mu.Lock()
	if fs.inodes >= fs.maxInodes {
		fs.mu.Unlock()
		return nil, unix.ENOSPC
	}
	mode := uint32(0o777)
	seals := uint32(sealSeal)
	if flags.AllowSealing || flags.NoExec {
		seals = 0
	}
	if flags.NoExec {
		mode &^= 0o111
		seals |= sealExec
	}
	i := fs.newInodeLocked(unix.S_IFREG|mode, uid, gid)
	i.anon, i.nlink = true, 0
	i.seals = seals
	hostFlags := unix.MFD_CLOEXEC
	if seals&sealSeal == 0 {
		hostFlags |= unix.MFD_ALLOW_SEALING
	}
	fd, err := unix.MemfdCreate("moat-memfd", hostFlags)
	if err != nil {
		fs.inodes--
		fs.mu.Unlock()
		return nil, unix.ENFILE
	}
	i.memfd = fd
	fs.mu.Unlock()
	return i.Open(unix.O_RDWR)
}

// Seals implements vfs.Sealable. A tmpfs file that is no memfd has
// F_SEAL_SEAL from birth, as on Linux.
func (r *regularFile) Seals() uint32 {
	r.i.fs.mu.Lock()
	defer r.i.fs.mu.Unlock()
	return r.i.seals
}

// AddSeals implements vfs.Sealable.
func (r *regularFile) AddSeals(_ *vfs.File, seals uint32) error {
	i := r.i
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if i.seals&sealSeal != 0 {
		return unix.EPERM
	}
	// F_SEAL_EXEC on an executable file implies the write seals: W^X
	// from the start (memfd_add_seals).
	if seals&sealExec != 0 && i.mode&0o111 != 0 {
		seals |= sealShrink | sealGrow | sealWrite | sealFutureWrite
	}
	if host := seals & hostSeals &^ i.seals; host != 0 {
		if i.memfd < 0 {
			// Only memfds can be unsealed, and they have a
			// sealable host memfd from the start.
			return unix.EPERM
		}
		if _, err := unix.FcntlInt(uintptr(i.memfd), unix.F_ADD_SEALS, int(host)); err != nil {
			if err == unix.EBUSY {
				return unix.EBUSY
			}
			return unix.EIO
		}
	}
	i.seals |= seals
	return nil
}

// writeSealedLocked reports the bytes of a write of n at off that the
// seals let through: none (EPERM) under F_SEAL_WRITE or
// F_SEAL_FUTURE_WRITE; under F_SEAL_GROW, those in whole pages up to the
// size, since Linux checks each page-sized piece of a write and stops at
// the first that would grow the file.
//
// Preconditions: i.fs.mu is locked.
func (i *Inode) writeSealedLocked(off int64, n int) (int, error) {
	if i.seals&(sealWrite|sealFutureWrite) != 0 {
		return 0, unix.EPERM
	}
	if i.seals&sealGrow == 0 || off+int64(n) <= i.size {
		return n, nil
	}
	end := roundDown(i.size)
	if end <= off {
		return 0, unix.EPERM
	}
	return int(min(int64(n), end-off)), nil
}

// resizeSealedLocked checks a change of size against the seals.
//
// Preconditions: i.fs.mu is locked.
func (i *Inode) resizeSealedLocked(size int64) error {
	if size < i.size && i.seals&sealShrink != 0 || size > i.size && i.seals&sealGrow != 0 {
		return unix.EPERM
	}
	return nil
}

var _ vfs.Sealable = (*regularFile)(nil)

// AnonInode implements vfs.AnonFile: a memfd's inode, which fchmod
// reaches without a path.
func (r *regularFile) AnonInode() vfs.Inode { return r.i }
