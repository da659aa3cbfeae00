package syscalls

import (
	"time"

	"moat/platform/arch"
	"moat/sentry/kernel"
	"moat/sentry/kernel/ipc"
	"moat/sentry/mm"

	"golang.org/x/sys/unix"
)

// System V IPC (sysvipc(7)): the objects live in the sandbox's IPC
// namespace (sentry/kernel/ipc); these handlers copy arguments in and
// out and map shared memory through mm.

// shmat flags.
const (
	shmRdonly = 0o10000
	shmRnd    = 0o20000
	shmRemap  = 0o40000
	shmExec   = 0o100000
	// shmLBA is SHMLBA: the page size on amd64 and arm64.
	shmLBA = mm.PageSize
)

// ipcBufSize bounds the structures the ctl calls read or write.
const ipcBufSize = 128

// sysShmget implements shmget(2).
func sysShmget(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	id, err := ipc.For(t.Kernel()).ShmGet(ipc.CredOf(t), int32(a.Int(0)), uint64(a[1]), int(a.Int(2)))
	return uintptr(id), err
}

// sysShmat implements shmat(2): the segment is mapped shared at addr
// (rounded down with SHM_RND; MAP_FIXED only with SHM_REMAP, else an
// overlap is EINVAL) or where mmap would put it.
func sysShmat(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	id, addr, flg := int32(a.Int(0)), a[1], int(a.Int(2))
	mflags := unix.MAP_SHARED
	if addr != 0 {
		if addr&(shmLBA-1) != 0 {
			if flg&shmRnd == 0 {
				return 0, unix.EINVAL
			}
			addr &^= shmLBA - 1
			if addr == 0 && flg&shmRemap != 0 {
				return 0, unix.EINVAL
			}
		}
		if flg&shmRemap != 0 {
			mflags |= unix.MAP_FIXED
		} else {
			mflags |= unix.MAP_FIXED_NOREPLACE
		}
	} else if flg&shmRemap != 0 {
		return 0, unix.EINVAL
	}
	ro, exec := flg&shmRdonly != 0, flg&shmExec != 0
	ns := ipc.For(t.Kernel())
	m, size, err := ns.ShmAttach(ipc.CredOf(t), id, ro, exec)
	if err != nil {
		return 0, err
	}
	// The attachment ShmAttach took keeps the segment alive while it is
	// mapped; the mapping's own reference then holds it.
	defer m.Release()
	prot := unix.PROT_READ
	if !ro {
		prot |= unix.PROT_WRITE
	}
	if exec {
		prot |= unix.PROT_EXEC
	}
	if addr != 0 && addr+uintptr(size) < addr {
		return 0, unix.EINVAL
	}
	got, err := t.MM().MMap(mm.MMapOpts{Addr: addr, Length: uintptr(size), Prot: prot, Flags: mflags, File: m})
	if err == unix.EEXIST {
		return 0, unix.EINVAL
	}
	return got, err
}

// sysShmdt implements shmdt(2): addr must be where a segment was
// attached; every piece of that attachment is unmapped.
func sysShmdt(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	addr := a[0]
	if addr&(mm.PageSize-1) != 0 {
		return 0, unix.EINVAL
	}
	maps := t.MM().FileMappings(addr, addr+1)
	if len(maps) == 0 || maps[0].Start != addr || maps[0].Offset != 0 {
		return 0, unix.EINVAL
	}
	seg, ok := maps[0].File.(ipc.ShmMapping)
	if !ok {
		return 0, unix.EINVAL
	}
	end := addr + uintptr(seg.Size())
	if end < addr {
		end = ^uintptr(0)
	}
	for _, m := range t.MM().FileMappings(addr, end) {
		if !seg.SameSegment(m.File) || m.Offset != int64(m.Start-addr) {
			continue
		}
		if err := t.MM().MUnmap(m.Start, min(m.End, end)-m.Start); err != nil {
			return 0, err
		}
	}
	ipc.For(t.Kernel()).ShmDetached(seg, t.PID())
	return 0, nil
}

// sysShmctl implements shmctl(2).
func sysShmctl(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	id, cmd, addr := int32(a.Int(0)), int(a.Int(1)), a[2]
	if id < 0 && cmd != ipc.IPCInfo && cmd != ipc.ShmInfo {
		return 0, unix.EINVAL
	}
	b := make([]byte, ipcBufSize)
	var out int
	switch cmd {
	case ipc.IPCSet:
		if err := copyInAll(t, addr, b[:112]); err != nil {
			return 0, err
		}
	case ipc.IPCStat, ipc.ShmStat, ipc.ShmStatAny:
		out = 112
	case ipc.IPCInfo:
		out = 72 // struct shminfo64
	case ipc.ShmInfo:
		out = 48 // struct shm_info
	}
	r, err := ipc.For(t.Kernel()).ShmCtl(ipc.CredOf(t), id, cmd, b)
	if err != nil {
		return 0, err
	}
	if out > 0 {
		if err := copyOutAll(t, addr, b[:out]); err != nil {
			return 0, err
		}
	}
	return uintptr(r), nil
}

// sysSemget implements semget(2).
func sysSemget(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	id, err := ipc.For(t.Kernel()).SemGet(ipc.CredOf(t), int32(a.Int(0)), int(a.Int(1)), int(a.Int(2)))
	return uintptr(id), err
}

// sysSemop implements semop(2).
func sysSemop(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return semop(t, int32(a.Int(0)), a[1], a[2], 0)
}

// sysSemtimedop implements semtimedop(2): the timeout is relative;
// EAGAIN when it expires.
func sysSemtimedop(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	return semop(t, int32(a.Int(0)), a[1], a[2], a[3])
}

func semop(t *kernel.Task, id int32, addr, n, tsAddr uintptr) (uintptr, error) {
	if n < 1 {
		return 0, unix.EINVAL
	}
	if n > ipc.SemOpm {
		return 0, unix.E2BIG
	}
	var deadline time.Time
	if tsAddr != 0 {
		ts, err := copyInValidTimespec(t, tsAddr)
		if err != nil {
			return 0, err
		}
		deadline = time.Now().Add(ts.duration())
	}
	b := make([]byte, n*6)
	if err := copyInAll(t, addr, b); err != nil {
		return 0, err
	}
	ops := make([]ipc.SemOp, n)
	for i := range ops {
		ops[i] = ipc.SemOp{Num: le.Uint16(b[i*6:]), Op: int16(le.Uint16(b[i*6+2:])), Flg: int16(le.Uint16(b[i*6+4:]))}
	}
	if id < 0 {
		return 0, unix.EINVAL
	}
	// semop is never restarted after a handler (signal(7)): EINTR.
	return 0, ipc.For(t.Kernel()).SemTimedOp(ipc.CredOf(t), t.ThreadGroup(), t, id, ops, deadline)
}

// sysSemctl implements semctl(2); the fourth argument is union semun,
// passed by value.
func sysSemctl(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	id, num, cmd, arg := int32(a.Int(0)), int(a.Int(1)), int(a.Int(2)), a[3]
	if id < 0 {
		return 0, unix.EINVAL
	}
	ns := ipc.For(t.Kernel())
	c := ipc.CredOf(t)
	b := make([]byte, ipcBufSize)
	var out int
	switch cmd {
	case ipc.IPCSet:
		if err := copyInAll(t, arg, b[:48]); err != nil {
			return 0, err
		}
	case ipc.IPCStat, ipc.SemStat, ipc.SemStatAn:
		out = ipc.SemDSSize()
	case ipc.IPCInfo, ipc.SemInfo:
		out = 40 // struct seminfo
	case ipc.GetAll, ipc.SetAll:
		n, err := ns.SemNum(id)
		if err != nil {
			return 0, err
		}
		b = make([]byte, 2*n)
		if cmd == ipc.SetAll {
			if err := copyInAll(t, arg, b); err != nil {
				return 0, err
			}
		} else {
			out = len(b)
		}
	}
	r, err := ns.SemCtl(c, id, num, cmd, int32(arg), b)
	if err != nil {
		return 0, err
	}
	if out > 0 {
		if err := copyOutAll(t, arg, b[:out]); err != nil {
			return 0, err
		}
	}
	return uintptr(r), nil
}

// sysMsgget implements msgget(2).
func sysMsgget(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	id, err := ipc.For(t.Kernel()).MsgGet(ipc.CredOf(t), int32(a.Int(0)), int(a.Int(1)))
	return uintptr(id), err
}

// sysMsgsnd implements msgsnd(2): struct msgbuf is a long type then the
// text.
func sysMsgsnd(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	id, addr, size, flg := int32(a.Int(0)), a[1], int64(a[2]), int(a.Int(3))
	if size < 0 || size > ipc.MsgMax || id < 0 {
		return 0, unix.EINVAL
	}
	mtype, err := copyInU64(t, addr)
	if err != nil {
		return 0, err
	}
	data := make([]byte, size)
	if err := copyInAll(t, addr+8, data); err != nil {
		return 0, err
	}
	// msgsnd is never restarted after a handler (signal(7)): EINTR.
	return 0, ipc.For(t.Kernel()).MsgSnd(ipc.CredOf(t), t, id, int64(mtype), data, flg)
}

// sysMsgrcv implements msgrcv(2).
func sysMsgrcv(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	id, addr, size, msgtyp, flg := int32(a.Int(0)), a[1], int64(a[2]), int64(a[3]), int(a.Int(4))
	if size < 0 || id < 0 {
		return 0, unix.EINVAL
	}
	// A receive never needs more than the largest message a queue can
	// hold; bound the app's size before it sizes anything.
	mtype, data, err := ipc.For(t.Kernel()).MsgRcv(ipc.CredOf(t), t, id, int(min(size, 1<<30)), msgtyp, flg)
	if err != nil {
		return 0, err
	}
	if err := copyOutU64(t, addr, uint64(mtype)); err != nil {
		return 0, err
	}
	if err := copyOutAll(t, addr+8, data); err != nil {
		return 0, err
	}
	return uintptr(len(data)), nil
}

// sysMsgctl implements msgctl(2).
func sysMsgctl(t *kernel.Task, a arch.SyscallArguments) (uintptr, error) {
	id, cmd, addr := int32(a.Int(0)), int(a.Int(1)), a[2]
	if id < 0 && cmd != ipc.IPCInfo && cmd != ipc.MsgInfo {
		return 0, unix.EINVAL
	}
	b := make([]byte, ipcBufSize)
	var out int
	switch cmd {
	case ipc.IPCSet:
		if err := copyInAll(t, addr, b[:120]); err != nil {
			return 0, err
		}
	case ipc.IPCStat, ipc.MsgStat, ipc.MsgStatAny:
		out = 120
	case ipc.IPCInfo, ipc.MsgInfo:
		out = 32 // struct msginfo
	}
	res := t.Credentials().HasCap(unix.CAP_SYS_RESOURCE)
	r, err := ipc.For(t.Kernel()).MsgCtl(ipc.CredOf(t), id, cmd, b, res)
	if err != nil {
		return 0, err
	}
	if out > 0 {
		if err := copyOutAll(t, addr, b[:out]); err != nil {
			return 0, err
		}
	}
	return uintptr(r), nil
}
