package ipc

import (
	"time"

	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Message queue limits: Linux's defaults.
const (
	MsgMax = 8192
	MsgMnb = 16384
	MsgMni = 32000
	msgSsz = 16
	msgSeg = 0xffff
)

// msgrcv flags and msgctl commands.
const (
	MsgNoError = 0o10000
	MsgExcept  = 0o20000
	MsgCopy    = 0o40000
	MsgStat    = 11
	MsgInfo    = 12
	MsgStatAny = 13
)

type message struct {
	mtype int64
	data  []byte
}

// MsgQueue is a System V message queue.
type MsgQueue struct {
	p              Perm
	msgs           []message
	cbytes, qbytes uint64
	lspid, lrpid   int32
	stime, rtime   time.Time
	w              waiter
}

func (q *MsgQueue) perm() *Perm { return &q.p }

// MsgGet implements msgget(2).
func (ns *Namespace) MsgGet(c Cred, key int32, flg int) (int32, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return get(&ns.msg, c, key, flg, func(*MsgQueue) error { return nil }, func() (*MsgQueue, error) {
		return &MsgQueue{qbytes: MsgMnb}, nil
	})
}

// MsgSnd implements msgsnd(2): data is the message text (the caller
// checked its size against MsgMax). It sleeps while the queue is full
// unless IPC_NOWAIT (EAGAIN); EINTR on a signal, EIDRM if the queue is
// removed meanwhile.
func (ns *Namespace) MsgSnd(c Cred, in vfs.Blocker, id int32, mtype int64, data []byte, flg int) error {
	if mtype < 1 {
		return unix.EINVAL
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	q, err := ns.msg.byID(id)
	if err != nil {
		return err
	}
	if !q.p.Permits(c, 2) {
		return unix.EACCES
	}
	n := uint64(len(data))
	for {
		if q.p.removed {
			return unix.EIDRM
		}
		if q.cbytes+n <= q.qbytes && uint64(len(q.msgs))+1 <= q.qbytes {
			break
		}
		if flg&IPCNoWait != 0 {
			return unix.EAGAIN
		}
		ch := q.w.wait()
		ns.mu.Unlock()
		err := in.Block(ch, time.Time{})
		ns.mu.Lock()
		if err != nil {
			return err
		}
	}
	q.msgs = append(q.msgs, message{mtype: mtype, data: data})
	q.cbytes += n
	q.lspid = c.PID
	q.stime = time.Now()
	q.w.wake()
	return nil
}

// find returns the index of the message msgrcv's msgtyp and MSG_EXCEPT
// select, or -1.
func (q *MsgQueue) find(msgtyp int64, flg int) int {
	switch {
	case msgtyp == 0:
		if len(q.msgs) > 0 {
			return 0
		}
	case msgtyp > 0:
		for i, m := range q.msgs {
			if (m.mtype == msgtyp) != (flg&MsgExcept != 0) {
				return i
			}
		}
	default:
		best := -1
		for i, m := range q.msgs {
			if m.mtype <= -msgtyp && (best < 0 || m.mtype < q.msgs[best].mtype) {
				best = i
			}
		}
		return best
	}
	return -1
}

// MsgRcv implements msgrcv(2): it returns the message's type and text
// (cut to size with MSG_NOERROR, else E2BIG), sleeping while none
// matches unless IPC_NOWAIT (ENOMSG).
func (ns *Namespace) MsgRcv(c Cred, in vfs.Blocker, id int32, size int, msgtyp int64, flg int) (int64, []byte, error) {
	if flg&MsgCopy != 0 {
		// MSG_COPY is for checkpoint/restore tools: as a kernel
		// without CONFIG_CHECKPOINT_RESTORE.
		return 0, nil, unix.ENOSYS
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	q, err := ns.msg.byID(id)
	if err != nil {
		return 0, nil, err
	}
	if !q.p.Permits(c, 4) {
		return 0, nil, unix.EACCES
	}
	for {
		if q.p.removed {
			return 0, nil, unix.EIDRM
		}
		if i := q.find(msgtyp, flg); i >= 0 {
			m := q.msgs[i]
			if len(m.data) > size {
				if flg&MsgNoError == 0 {
					return 0, nil, unix.E2BIG
				}
				m.data = m.data[:size]
			}
			q.cbytes -= uint64(len(q.msgs[i].data))
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			q.lrpid = c.PID
			q.rtime = time.Now()
			q.w.wake()
			return m.mtype, m.data, nil
		}
		if flg&IPCNoWait != 0 {
			return 0, nil, unix.ENOMSG
		}
		ch := q.w.wait()
		ns.mu.Unlock()
		err := in.Block(ch, time.Time{})
		ns.mu.Lock()
		if err != nil {
			return 0, nil, err
		}
	}
}

// msqid64DSSize is sizeof(struct msqid64_ds) on 64-bit Linux.
const msqid64DSSize = 120

// MsgCtl implements msgctl(2); buf holds the structure cmd reads or
// fills (at least 120 bytes). resource says whether the caller has
// CAP_SYS_RESOURCE (raising msg_qbytes past MSGMNB).
func (ns *Namespace) MsgCtl(c Cred, id int32, cmd int, buf []byte, resource bool) (int32, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	switch cmd {
	case IPCInfo, MsgInfo:
		clear(buf[:32])
		vals := []int32{MsgMni * MsgMnb / 1024, MsgMnb, MsgMax, MsgMnb, MsgMni, msgSsz, MsgMnb}
		if cmd == MsgInfo {
			var msgs, bytes int
			for _, q := range ns.msg.objs {
				msgs += len(q.msgs)
				bytes += int(q.cbytes)
			}
			vals[0], vals[1], vals[6] = int32(len(ns.msg.objs)), int32(msgs), int32(bytes)
		}
		for i, v := range vals {
			le.PutUint32(buf[i*4:], uint32(v))
		}
		le.PutUint16(buf[28:], msgSeg)
		return int32(max(ns.msg.highest(), 0)), nil
	case IPCStat, MsgStat, MsgStatAny:
		var q *MsgQueue
		var err error
		if cmd == IPCStat {
			q, err = ns.msg.byID(id)
		} else {
			q, err = ns.msg.byIndex(id)
		}
		if err != nil {
			return 0, err
		}
		if cmd != MsgStatAny && !q.p.Permits(c, 4) {
			return 0, unix.EACCES
		}
		clear(buf[:msqid64DSSize])
		q.p.Encode(buf)
		le.PutUint64(buf[48:], uint64(unixTime(q.stime)))
		le.PutUint64(buf[56:], uint64(unixTime(q.rtime)))
		le.PutUint64(buf[64:], uint64(unixTime(q.p.changeTime)))
		le.PutUint64(buf[72:], q.cbytes)
		le.PutUint64(buf[80:], uint64(len(q.msgs)))
		le.PutUint64(buf[88:], q.qbytes)
		le.PutUint32(buf[96:], uint32(q.lspid))
		le.PutUint32(buf[100:], uint32(q.lrpid))
		if cmd == IPCStat {
			return 0, nil
		}
		return q.p.ID, nil
	case IPCSet, IPCRmid:
		q, err := ns.msg.byID(id)
		if err != nil {
			return 0, err
		}
		if !q.p.mayChange(c) {
			return 0, unix.EPERM
		}
		if cmd == IPCRmid {
			ns.msg.remove(q)
			q.w.wake()
			return 0, nil
		}
		qb := le.Uint64(buf[88:])
		if qb > MsgMnb && qb > q.qbytes && !resource {
			return 0, unix.EPERM
		}
		q.p.setFrom(buf)
		q.qbytes = qb
		q.p.changeTime = time.Now()
		// More room may let senders go on.
		q.w.wake()
		return 0, nil
	}
	return 0, unix.EINVAL
}
