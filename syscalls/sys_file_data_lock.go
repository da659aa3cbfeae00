package syscalls

import (
	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/vfs"
	"moat/sentry/vfs/lock"

	"golang.org/x/sys/unix"
)

// lockMand is flock's obsolete LOCK_MAND: Linux ignores such requests
// (returns 0 at once, even for a bad descriptor).
const lockMand = 32

// flockSize is sizeof(struct flock) on 64-bit Linux: l_type and l_whence
// (16 bits each), padding, l_start and l_len (64 bits), l_pid (32 bits),
// padding.
const flockSize = 32

// sysFlock implements flock(2): EINVAL for an unknown operation (checked
// before the descriptor), EBADF, EWOULDBLOCK with LOCK_NB on a conflict;
// a blocked request gives way to a signal (restarted per SA_RESTART).
func sysFlock(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	cmd := a.Uint(1)
	if cmd&lockMand != 0 {
		return 0, nil
	}
	var typ lock.Type
	switch cmd &^ unix.LOCK_NB {
	case unix.LOCK_SH:
		typ = lock.Read
	case unix.LOCK_EX:
		typ = lock.Write
	case unix.LOCK_UN:
		typ = lock.Unlock
	default:
		return 0, unix.EINVAL
	}
	f, err := dataFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	var b lock.Blocker
	if cmd&unix.LOCK_NB == 0 {
		b = t
	}
	return 0, interrupted(f.Flock(typ, b))
}

// fcntlLock handles fcntl's record-lock commands; ok is false for other
// commands. f is the descriptor's file (the caller holds a reference).
func fcntlLock(t *kernel.Task, f *vfs.File, cmd int32, arg uintptr) (ret uintptr, ok bool, err error) {
	switch cmd {
	case unix.F_GETLK, unix.F_SETLK, unix.F_SETLKW, unix.F_OFD_GETLK, unix.F_OFD_SETLK, unix.F_OFD_SETLKW:
	default:
		return 0, false, nil
	}
	if f.Flags()&unix.O_PATH != 0 {
		return 0, true, unix.EBADF
	}
	raw := t.Scratch()[:flockSize]
	if err := copyInAll(t, arg, raw); err != nil {
		return 0, true, err
	}
	ofd := cmd == unix.F_OFD_GETLK || cmd == unix.F_OFD_SETLK || cmd == unix.F_OFD_SETLKW
	var owner any = t.FDTable()
	if ofd {
		owner = f
	}
	getlk := cmd == unix.F_GETLK || cmd == unix.F_OFD_GETLK
	// F_GETLK checks the type first; F_SETLK after the range.
	typ, typErr := lockType(int16(le.Uint16(raw)))
	if getlk && (typErr != nil || typ == lock.Unlock) {
		return 0, true, unix.EINVAL
	}
	rng, err := lockRange(f, int16(le.Uint16(raw[2:])), int64(le.Uint64(raw[8:])), int64(le.Uint64(raw[16:])))
	if err != nil {
		return 0, true, err
	}
	if typErr != nil {
		return 0, true, typErr
	}
	pid := int32(le.Uint32(raw[24:]))
	if getlk {
		if ofd && pid != 0 {
			return 0, true, unix.EINVAL
		}
		k, err := f.LockKey()
		if err != nil {
			return 0, true, err
		}
		c, found := vfs.Locks().Test(k, owner, typ, rng)
		if !found {
			le.PutUint16(raw, unix.F_UNLCK)
			return 0, true, copyOutAll(t, arg, raw)
		}
		putFlock(raw, c)
		return 0, true, copyOutAll(t, arg, raw)
	}
	if typ == lock.Read && !f.Readable() || typ == lock.Write && !f.Writable() {
		return 0, true, unix.EBADF
	}
	if ofd && pid != 0 {
		return 0, true, unix.EINVAL
	}
	k, err := f.LockKey()
	if err != nil {
		return 0, true, err
	}
	var b lock.Blocker
	if cmd == unix.F_SETLKW || cmd == unix.F_OFD_SETLKW {
		b = t
	}
	req := lock.Record{Type: typ, Range: rng, Owner: owner, PID: t.PID(), OFD: ofd}
	return 0, true, interrupted(vfs.Locks().Set(k, req, b))
}

// lockType decodes l_type.
func lockType(v int16) (lock.Type, error) {
	switch v {
	case unix.F_RDLCK:
		return lock.Read, nil
	case unix.F_WRLCK:
		return lock.Write, nil
	case unix.F_UNLCK:
		return lock.Unlock, nil
	}
	return 0, unix.EINVAL
}

// lockRange turns l_whence, l_start and l_len into a range as Linux's
// flock_to_posix_lock does: EINVAL for a bad whence or a start before 0,
// EOVERFLOW when the end is beyond the largest offset; l_len 0 means "to
// the end", a negative l_len the bytes before start.
func lockRange(f *vfs.File, whence int16, start, length int64) (lock.Range, error) {
	var base int64
	switch whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		// Files that cannot seek (pipes) have position 0.
		if pos, err := f.Seek(0, unix.SEEK_CUR); err == nil {
			base = pos
		}
	case unix.SEEK_END:
		st, err := f.Stat()
		if err != nil {
			return lock.Range{}, err
		}
		base = st.Size
	default:
		return lock.Range{}, unix.EINVAL
	}
	s := base + start
	if start > 0 && s < base || s < 0 {
		return lock.Range{}, unix.EINVAL
	}
	switch {
	case length > 0:
		if length-1 > lock.OffsetMax-s {
			return lock.Range{}, unix.EOVERFLOW
		}
		return lock.Range{Start: s, End: s + length - 1}, nil
	case length < 0:
		end := s - 1
		s += length
		if s < 0 {
			return lock.Range{}, unix.EINVAL
		}
		return lock.Range{Start: s, End: end}, nil
	}
	return lock.Range{Start: s, End: lock.OffsetMax}, nil
}

// putFlock writes a conflicting lock into a struct flock as F_GETLK
// reports it: whence SEEK_SET, l_len 0 for "to the end", l_pid -1 for an
// OFD lock.
func putFlock(raw []byte, c lock.Record) {
	typ := int16(unix.F_RDLCK)
	if c.Type == lock.Write {
		typ = unix.F_WRLCK
	}
	le.PutUint16(raw, uint16(typ))
	le.PutUint16(raw[2:], unix.SEEK_SET)
	le.PutUint64(raw[8:], uint64(c.Range.Start))
	var l int64
	if c.Range.End != lock.OffsetMax {
		l = c.Range.End - c.Range.Start + 1
	}
	le.PutUint64(raw[16:], uint64(l))
	pid := c.PID
	if c.OFD {
		pid = -1
	}
	le.PutUint32(raw[24:], uint32(pid))
}
