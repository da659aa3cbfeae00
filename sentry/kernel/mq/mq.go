// Package mq holds POSIX message queues (mq_overview(7)): the sandbox's
// registry of named queues (its IPC namespace has one), the queues with
// their priorities, limits and notification, and the open queue
// descriptions that mq_open returns and the mqueue file system's files
// are. The system calls are in syscalls/sys_ipc_mq.go; the file system
// mounted at /dev/mqueue is sentry/fs/mqueue, a view of the same
// registry.
//
// Locking: Registry.mu, then Queue.mu, then the queue's wait queue lock
// (Notify is called with Queue.mu held). A notification's Fire callback
// runs after Queue.mu is released.
package mq

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"moat/sentry/fs/fsutil"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Linux's limits (ipc/mqueue.c, include/linux/ipc_namespace.h) and the
// defaults of /proc/sys/fs/mqueue.
const (
	// DefaultMaxMsg and DefaultMsgSize are the attributes of a queue
	// created without attributes (msg_default, msgsize_default).
	DefaultMaxMsg  = 10
	DefaultMsgSize = 8192
	// MsgMax and MsgSizeMax bound what an unprivileged creator may ask
	// for (msg_max, msgsize_max).
	MsgMax     = 10
	MsgSizeMax = 8192
	// HardMsgMax and HardMsgSizeMax bound everyone (HARD_MSGMAX,
	// HARD_MSGSIZEMAX).
	HardMsgMax     = 65536
	HardMsgSizeMax = 16 << 20
	// QueuesMax is queues_max: more queues fail with ENOSPC for a creator
	// without CAP_SYS_RESOURCE.
	QueuesMax = 256
	// PrioMax is MQ_PRIO_MAX: priorities are below it.
	PrioMax = 32768
	// NameMax is NAME_MAX.
	NameMax = 255
)

// Attr is struct mq_attr's meaningful part.
type Attr struct {
	Flags   int64 // O_NONBLOCK or 0
	MaxMsg  int64
	MsgSize int64
	CurMsgs int64
}

// Registry is the queues of one IPC namespace, by name (without the
// leading slash).
type Registry struct {
	mu     sync.Mutex
	queues map[string]*Queue
	dev    uint64
	ino    uint64
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{queues: map[string]*Queue{}, dev: fsutil.NewAnonDev(), ino: 1}
}

// Dev returns the device number the queues' inodes report.
func (r *Registry) Dev() uint64 { return r.dev }

// Names returns the names of the queues, sorted.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.queues))
	for n := range r.queues {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Lookup returns the queue name, or nil.
func (r *Registry) Lookup(name string) *Queue {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.queues[name]
}

// ValidName checks a queue name as the kernel's lookup does: ENOENT for
// "" (getname refuses empty paths), EACCES for "." and ".." and names
// with a slash, ENAMETOOLONG beyond NAME_MAX.
func ValidName(name string) error {
	if name == "" {
		return unix.ENOENT
	}
	if len(name) > NameMax {
		return unix.ENAMETOOLONG
	}
	if name == "." || name == ".." {
		return unix.EACCES
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			return unix.EACCES
		}
	}
	return nil
}

// Owner is who creates a queue: its owner, and whether it may exceed
// the unprivileged limits (CAP_SYS_RESOURCE).
type Owner struct {
	UID, GID   uint32
	Privileged bool
}

// CheckAttr checks the attributes of a queue to create, as mq_open does:
// EINVAL for non-positive values and values over the limits that apply
// to the creator.
func CheckAttr(a Attr, privileged bool) error {
	if a.MaxMsg <= 0 || a.MsgSize <= 0 {
		return unix.EINVAL
	}
	if privileged {
		if a.MaxMsg > HardMsgMax || a.MsgSize > HardMsgSizeMax {
			return unix.EINVAL
		}
		return nil
	}
	if a.MaxMsg > MsgMax || a.MsgSize > MsgSizeMax {
		return unix.EINVAL
	}
	return nil
}

// Create makes the queue name with mode (permission bits, umask already
// applied) and attributes a (nil: the defaults). EEXIST if it exists;
// ENOSPC past QueuesMax for an unprivileged owner.
func (r *Registry) Create(name string, mode uint32, a *Attr, o Owner) (*Queue, error) {
	attr := Attr{MaxMsg: DefaultMaxMsg, MsgSize: DefaultMsgSize}
	if a != nil {
		if err := CheckAttr(*a, o.Privileged); err != nil {
			return nil, err
		}
		attr.MaxMsg, attr.MsgSize = a.MaxMsg, a.MsgSize
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.queues[name]; ok {
		return nil, unix.EEXIST
	}
	if len(r.queues) >= QueuesMax && !o.Privileged {
		return nil, unix.ENOSPC
	}
	r.ino++
	now := fsutil.Now()
	q := &Queue{
		reg: r, ino: r.ino, name: name, maxMsg: attr.MaxMsg, msgSize: attr.MsgSize,
		mode: mode & 0o777, uid: o.UID, gid: o.GID, atime: now, mtime: now, ctime: now,
	}
	r.queues[name] = q
	return q, nil
}

// Unlink removes name from the registry; the queue lives on while it is
// open. ENOENT if absent; EPERM when uid may not remove it (the mqueue
// root is sticky: only the queue's owner, or a privileged caller).
func (r *Registry) Unlink(name string, uid uint32, privileged bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	q, ok := r.queues[name]
	if !ok {
		return unix.ENOENT
	}
	q.mu.Lock()
	owner := q.uid
	q.mu.Unlock()
	if !privileged && uid != owner && uid != 0 {
		return unix.EPERM
	}
	delete(r.queues, name)
	q.unlinked = true
	return nil
}

// linkName is the queue's name as /proc/[pid]/fd shows a descriptor of
// it: its path in the mqueue file system.
func (q *Queue) linkName() string {
	q.reg.mu.Lock()
	defer q.reg.mu.Unlock()
	if q.unlinked {
		return "/" + q.name + " (deleted)"
	}
	return "/" + q.name
}

// message is one queued message.
type message struct {
	prio uint32
	data []byte
}

// Notification is a process's mq_notify registration.
type Notification struct {
	// PID is the registered process; Signo the signal (0 for
	// SIGEV_NONE: the registration is consumed without a signal).
	PID   int32
	Signo int32
	// Fire delivers the notification; it is called once, without the
	// queue's lock, with the sender's PID and real UID.
	Fire func(senderPID int32, senderUID uint32)
}

// Queue is one message queue.
type Queue struct {
	reg *Registry
	ino uint64
	// name is the queue's name in the registry; unlinked is set (under
	// Registry.mu) once mq_unlink removed it.
	name     string
	unlinked bool

	// mu guards the fields below.
	mu       sync.Mutex
	maxMsg   int64
	msgSize  int64
	msgs     []message // highest priority first, FIFO within one
	bytes    int64
	mode     uint32
	uid, gid uint32
	notify   *Notification
	// receivers counts tasks blocked in a receive: a notification is
	// not sent while one waits (the message goes to it).
	receivers           int
	atime, mtime, ctime unix.Timespec

	queue vfs.WaitQueue
}

// Attr returns the queue's attributes (Flags is left 0: it belongs to
// the open description).
func (q *Queue) Attr() Attr {
	q.mu.Lock()
	defer q.mu.Unlock()
	return Attr{MaxMsg: q.maxMsg, MsgSize: q.msgSize, CurMsgs: int64(len(q.msgs))}
}

// Perm returns the queue's mode and owner.
func (q *Queue) Perm() (mode, uid, gid uint32) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.mode, q.uid, q.gid
}

// SetPerm changes the mode bits and owner (chmod, chown on /dev/mqueue).
func (q *Queue) SetPerm(mode, uid, gid uint32) {
	q.mu.Lock()
	q.mode, q.uid, q.gid = mode&0o7777, uid, gid
	q.ctime = fsutil.Now()
	q.mu.Unlock()
}

// fileSize is the size a queue's inode reports whatever it holds
// (FILENT_SIZE: Linux sets it at creation and never changes it).
const fileSize = 80

// Stat returns the queue's inode metadata: a regular file of fileSize
// bytes, as on Linux's mqueue file system.
func (q *Queue) Stat() unix.Stat_t {
	q.mu.Lock()
	defer q.mu.Unlock()
	a := fsutil.Attr{
		Dev: q.reg.dev, Ino: q.ino, Nlink: 1, Mode: unix.S_IFREG | q.mode,
		UID: q.uid, GID: q.gid, Size: fileSize, Blksize: 4096,
		Atime: q.atime, Mtime: q.mtime, Ctime: q.ctime,
	}
	return a.Stat()
}

// Info returns the line read(2) of the queue's file gives.
func (q *Queue) Info() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var kind, signo, pid int32
	if n := q.notify; n != nil {
		pid = n.PID
		if n.Signo == 0 {
			kind = 1 // SIGEV_NONE
		} else {
			signo = n.Signo
		}
	}
	return fmt.Sprintf("QSIZE:%-10d NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n", q.bytes, kind, signo, pid)
}

// Readiness implements the poll side of vfs.Waitable for the queue.
func (q *Queue) readiness(mask vfs.EventMask) vfs.EventMask {
	q.mu.Lock()
	defer q.mu.Unlock()
	var r vfs.EventMask
	if len(q.msgs) > 0 {
		r |= vfs.EventIn | vfs.EventRdNorm
	}
	if int64(len(q.msgs)) < q.maxMsg {
		r |= vfs.EventOut | vfs.EventWrNorm
	}
	return r & mask
}

// trySend queues data or returns EAGAIN when full. It returns the
// notification to fire, if any.
func (q *Queue) trySend(data []byte, prio uint32) (*Notification, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if int64(len(q.msgs)) >= q.maxMsg {
		return nil, unix.EAGAIN
	}
	// Insert after every message of the same or a higher priority.
	i := sort.Search(len(q.msgs), func(i int) bool { return q.msgs[i].prio < prio })
	q.msgs = append(q.msgs, message{})
	copy(q.msgs[i+1:], q.msgs[i:])
	q.msgs[i] = message{prio: prio, data: data}
	q.bytes += int64(len(data))
	now := fsutil.Now()
	q.atime, q.mtime, q.ctime = now, now, now
	var n *Notification
	if len(q.msgs) == 1 && q.receivers == 0 && q.notify != nil {
		n, q.notify = q.notify, nil
	}
	q.queue.Notify(vfs.EventIn | vfs.EventRdNorm)
	return n, nil
}

// tryReceive takes the oldest message of the highest priority, or
// EAGAIN when empty.
func (q *Queue) tryReceive() (message, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.msgs) == 0 {
		return message{}, unix.EAGAIN
	}
	m := q.msgs[0]
	q.msgs[0] = message{}
	q.msgs = q.msgs[1:]
	q.bytes -= int64(len(m.data))
	now := fsutil.Now()
	q.atime, q.ctime = now, now
	q.queue.Notify(vfs.EventOut | vfs.EventWrNorm)
	return m, nil
}

// wait runs try until it stops returning EAGAIN, sleeping on the queue
// for mask until deadline (zero: never) or an interruption.
func (q *Queue) wait(mask vfs.EventMask, in vfs.Interruptible, deadline time.Time, recv bool, try func() error) error {
	w := vfs.NewWaitEntry(mask)
	q.queue.Register(w)
	defer q.queue.Unregister(w)
	if recv {
		q.mu.Lock()
		q.receivers++
		q.mu.Unlock()
		defer func() {
			q.mu.Lock()
			q.receivers--
			q.mu.Unlock()
		}()
	}
	for {
		err := try()
		if err != unix.EAGAIN {
			return err
		}
		if err := vfs.Block(in, w.C(), deadline); err != nil {
			return err
		}
	}
}

// Send queues data (the caller's copy, len checked by the caller
// against MsgSize) with prio, waiting while the queue is full unless
// nonblock. deadline is the absolute timeout (zero: none); ETIMEDOUT
// when it passes, EINTR on a signal.
func (q *Queue) Send(data []byte, prio uint32, nonblock bool, deadline time.Time, in vfs.Interruptible, senderPID int32, senderUID uint32) error {
	var n *Notification
	try := func() (err error) { n, err = q.trySend(data, prio); return err }
	err := try()
	if err == unix.EAGAIN && !nonblock {
		err = q.wait(vfs.EventOut, in, deadline, false, try)
	}
	if err == nil && n != nil && n.Fire != nil {
		n.Fire(senderPID, senderUID)
	}
	return err
}

// Receive takes a message and returns its text and priority, waiting
// while the queue is empty unless nonblock. (The caller has checked its
// buffer holds MsgSize bytes.)
func (q *Queue) Receive(nonblock bool, deadline time.Time, in vfs.Interruptible) ([]byte, uint32, error) {
	var m message
	try := func() (err error) { m, err = q.tryReceive(); return err }
	err := try()
	if err == unix.EAGAIN && !nonblock {
		err = q.wait(vfs.EventIn, in, deadline, true, try)
	}
	if err != nil {
		return nil, 0, err
	}
	return m.data, m.prio, nil
}

// SetNotify registers n (nil: remove the registration of process pid).
// EBUSY when another process is registered.
func (q *Queue) SetNotify(n *Notification, pid int32) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if n == nil {
		if q.notify != nil && q.notify.PID == pid {
			q.notify = nil
		}
		return nil
	}
	if q.notify != nil {
		return unix.EBUSY
	}
	q.notify = n
	return nil
}

// DropNotify removes pid's registration, as closing a descriptor of the
// queue does on Linux (mqueue_flush_file).
func (q *Queue) DropNotify(pid int32) { _ = q.SetNotify(nil, pid) }
