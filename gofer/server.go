package gofer

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"golang.org/x/sys/unix"
)

// node is one file the server holds: an O_PATH|O_NOFOLLOW descriptor. A
// non-root node keeps its parent and its name so Open can reopen it with
// openat(parent, name, O_NOFOLLOW) without ever resolving a path.
type node struct {
	fd     int
	parent *node  // nil for an attached root
	name   string // the component walked from parent
	// refs counts the FID that names this node plus every node walked
	// from it (which keep it as parent). The descriptor closes at zero.
	refs int
	// tree is the attach point the node was walked from: the root or one
	// bind mount. It says whether writes are allowed, and links and
	// renames never cross trees (EXDEV).
	tree *tree
}

// tree is one attach point the server serves.
type tree struct {
	name     string // "/" for the root, else the bind mount's destination
	readOnly bool
}

// server is the state of one connection. It is used by one goroutine only.
type server struct {
	rootfd int // O_PATH descriptor of the served tree
	root   *tree
	mounts map[string]*BindMount
	sock   int
	log    *slog.Logger

	greeted   bool
	noOpenat2 bool // the host kernel lacks openat2 (ENOSYS once seen)
	fids      map[FID]*node

	enc  encoder
	rbuf []byte
	oob  []byte
}

// Serve answers the gofer protocol on sock for the directory tree at root,
// read-only and without bind mounts, until the peer closes its end (then
// it returns nil) or the socket fails. See ServeTree.
func Serve(root string, sock *os.File, log *slog.Logger) error {
	return ServeTree(Tree{Root: root, ReadOnly: true}, sock, log)
}

// Tree is what one gofer serves: a root directory, writable or not, and
// the bind mounts opened (before confinement) by OpenBindMount.
type Tree struct {
	// Root is the served root directory; after Confine it is "/". Its
	// last component must not be a symlink.
	Root string
	// ReadOnly refuses every write under Root with EROFS (root.readonly).
	ReadOnly bool
	// Mounts are the bind mounts, attached by destination. ServeTree
	// closes them when it returns.
	Mounts []*BindMount
}

// ServeTree answers the gofer protocol on sock for t until the peer
// closes its end (then it returns nil) or the socket fails. sock must be
// a connected SOCK_SEQPACKET socket. Requests are handled one at a time,
// on the calling goroutine, so the host calls all come from the thread
// Confine locked. The process umask is set to 0: the sentry applies the
// application's. log may be nil.
func ServeTree(t Tree, sock *os.File, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	defer func() {
		for _, m := range t.Mounts {
			m.Close()
		}
	}()
	rootfd, err := unix.Open(t.Root, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("gofer: opening root %q: %w", t.Root, err)
	}
	unix.Umask(0)
	s := &server{
		rootfd: rootfd,
		root:   &tree{name: "/", readOnly: t.ReadOnly},
		mounts: make(map[string]*BindMount, len(t.Mounts)),
		sock:   int(sock.Fd()), // Fd puts the socket in blocking mode.
		log:    log,
		fids:   make(map[FID]*node),
		enc:    encoder{b: make([]byte, 0, MaxMessage)},
		rbuf:   make([]byte, MaxMessage),
		oob:    make([]byte, unix.CmsgSpace(4*4)),
	}
	for _, m := range t.Mounts {
		s.mounts[m.dest] = m
	}
	defer s.closeAll()
	err = s.loop()
	// sock must stay reachable (and open) until the loop is done with
	// its raw descriptor.
	_ = sock.Close()
	return err
}

// loop reads and answers requests until EOF.
func (s *server) loop() error {
	for {
		n, oobn, flags, err := recvRetry(s.sock, s.rbuf, s.oob)
		if err == unix.ECONNRESET {
			return nil
		}
		if err != nil {
			return fmt.Errorf("gofer: receiving request: %w", err)
		}
		// The client never passes descriptors; drop any it did.
		fds, _ := parseRights(s.oob[:oobn])
		closeAll(fds)
		if n == 0 {
			// SOCK_SEQPACKET reads 0 only at EOF: no message is empty.
			return nil
		}
		req, derr := decodeRequest(s.rbuf[:n])
		var rep reply
		fd := -1
		switch {
		case flags&unix.MSG_TRUNC != 0:
			rep = errReply(unix.EMSGSIZE)
		case derr != nil:
			s.log.Warn("gofer: malformed request", "op", req.op, "tag", req.tag, "err", derr)
			rep = errReply(unix.EPROTO)
		default:
			rep, fd = s.handle(&req)
		}
		rep.tag = req.tag
		s.enc.reply(&rep)
		var pass []int
		if fd >= 0 {
			pass = []int{fd}
		}
		err = sendRetry(s.sock, s.enc.b, pass)
		if fd >= 0 {
			_ = unix.Close(fd)
		}
		if err == unix.EPIPE || err == unix.ECONNRESET {
			return nil
		}
		if err != nil {
			return fmt.Errorf("gofer: sending %v: %w", rep.op, err)
		}
	}
}

// errReply builds an Rerror.
func errReply(e unix.Errno) reply { return reply{op: opRerror, errno: uint32(e)} }

// handle runs one request. The returned descriptor, when not -1, travels
// with the reply and is closed by the caller after sending.
func (s *server) handle(req *request) (reply, int) {
	if req.op != opTversion && !s.greeted {
		return errReply(unix.EPROTO), -1
	}
	var rep reply
	fd := -1
	var err error
	switch req.op {
	case opTversion:
		rep, err = s.version(req)
	case opTattach:
		rep, err = s.attach(req)
	case opTwalk:
		rep, err = s.walk(req)
	case opTstat:
		rep, err = s.stat(req)
	case opTreadlink:
		rep, err = s.readlink(req)
	case opTopen:
		rep, fd, err = s.open(req)
	case opTclunk:
		rep, err = s.clunk(req)
	default:
		rep, fd, err = s.handleWrite(req)
	}
	if err != nil {
		var e unix.Errno
		if !errors.As(err, &e) {
			s.log.Warn("gofer: request failed", "op", req.op, "fid", req.fid, "err", err)
			e = unix.EIO
		}
		return errReply(e), -1
	}
	return rep, fd
}

func (s *server) version(req *request) (reply, error) {
	if req.flags < 1 || req.msize < headerSize+attrSize {
		return reply{}, unix.EPROTO
	}
	s.greeted = true
	return reply{op: opRversion, vers: min(req.flags, Version), msize: min(req.msize, MaxMessage)}, nil
}

// newFID checks that id can name a new node.
func (s *server) newFID(id FID) error {
	if id == 0 {
		return unix.EBADF
	}
	if _, ok := s.fids[id]; ok {
		return unix.EEXIST
	}
	return nil
}

func (s *server) lookup(id FID) (*node, error) {
	n, ok := s.fids[id]
	if !ok {
		return nil, unix.EBADF
	}
	return n, nil
}

func (s *server) attach(req *request) (reply, error) {
	if err := s.newFID(req.fid); err != nil {
		return reply{}, err
	}
	fd, err := unix.Openat(s.rootfd, ".", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return reply{}, err
	}
	a, err := fstat(fd)
	if err != nil {
		_ = unix.Close(fd)
		return reply{}, err
	}
	s.fids[req.fid] = &node{fd: fd, refs: 1, tree: s.root}
	return reply{op: opRattach, attr: a}, nil
}

func (s *server) walk(req *request) (reply, error) {
	dir, err := s.lookup(req.fid)
	if err != nil {
		return reply{}, err
	}
	if err := s.newFID(req.newID); err != nil {
		return reply{}, err
	}
	if err := checkName(req.name); err != nil {
		return reply{}, err
	}
	fd, err := s.openBeneath(dir.fd, req.name, unix.O_PATH)
	if err != nil {
		return reply{}, err
	}
	a, err := fstat(fd)
	if err != nil {
		_ = unix.Close(fd)
		return reply{}, err
	}
	dir.refs++
	s.fids[req.newID] = &node{fd: fd, parent: dir, name: req.name, refs: 1, tree: dir.tree}
	return reply{op: opRwalk, attr: a}, nil
}

// openBeneath opens the single component name in dirfd without following
// a symlink. openat2 adds RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS as a
// wall behind checkName and O_NOFOLLOW: should a bad name ever get past
// checkName, the kernel still refuses to leave dirfd.
func (s *server) openBeneath(dirfd int, name string, flags int) (int, error) {
	flags |= unix.O_NOFOLLOW | unix.O_CLOEXEC
	if !s.noOpenat2 {
		fd, err := unix.Openat2(dirfd, name, &unix.OpenHow{
			Flags:   uint64(flags),
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
		})
		if err != unix.ENOSYS {
			return fd, err
		}
		s.noOpenat2 = true
	}
	return unix.Openat(dirfd, name, flags, 0)
}

func (s *server) stat(req *request) (reply, error) {
	n, err := s.lookup(req.fid)
	if err != nil {
		return reply{}, err
	}
	a, err := fstat(n.fd)
	if err != nil {
		return reply{}, err
	}
	return reply{op: opRstat, attr: a}, nil
}

func (s *server) readlink(req *request) (reply, error) {
	n, err := s.lookup(req.fid)
	if err != nil {
		return reply{}, err
	}
	var buf [maxTarget + 1]byte
	// readlinkat on an O_PATH descriptor with an empty path reads the
	// link the descriptor names (Linux ≥ 2.6.39); it fails ENOENT on
	// anything else, which readlink(2) spells EINVAL.
	m, err := unix.Readlinkat(n.fd, "", buf[:])
	if err == unix.ENOENT {
		return reply{}, unix.EINVAL
	}
	if err != nil {
		return reply{}, err
	}
	if m > maxTarget {
		return reply{}, unix.ENAMETOOLONG
	}
	return reply{op: opRreadlink, target: string(buf[:m])}, nil
}

// openAllowed are the open(2) flags Open accepts. O_CLOEXEC and O_NOFOLLOW
// are accepted and always applied; O_NONBLOCK is applied only as asked.
const openAllowed = unix.O_ACCMODE | unix.O_DIRECTORY | unix.O_NONBLOCK | unix.O_NOCTTY |
	unix.O_LARGEFILE | unix.O_NOATIME | unix.O_DIRECT | unix.O_SYNC | unix.O_DSYNC |
	unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_EXCL

// openWriteFlags are the flags Open accepts on a writable tree only.
const openWriteFlags = unix.O_TRUNC | unix.O_APPEND

// checkOpenFlags refuses writes to a read-only tree (EROFS), creation
// (Tcreate's job) and flags it does not know (EINVAL).
func checkOpenFlags(flags int, readOnly bool) error {
	switch {
	case flags&unix.O_ACCMODE == unix.O_ACCMODE:
		return unix.EINVAL
	case flags&unix.O_TMPFILE == unix.O_TMPFILE:
		return unix.EOPNOTSUPP
	case flags&unix.O_CREAT != 0:
		return unix.EINVAL
	case readOnly && (flags&unix.O_ACCMODE != unix.O_RDONLY || flags&openWriteFlags != 0):
		return unix.EROFS
	case flags&^(openAllowed|openWriteFlags) != 0:
		// O_PATH among them: the sentry keeps O_PATH files itself.
		return unix.EINVAL
	}
	return nil
}

// open reopens a node for I/O.
func (s *server) open(req *request) (reply, int, error) {
	n, err := s.lookup(req.fid)
	if err != nil {
		return reply{}, -1, err
	}
	flags := int(req.flags)
	if err := checkOpenFlags(flags, n.tree.readOnly); err != nil {
		return reply{}, -1, err
	}
	want, err := fstat(n.fd)
	if err != nil {
		return reply{}, -1, err
	}
	if err := openableType(want.Mode); err != nil {
		return reply{}, -1, err
	}
	if want.Mode&unix.S_IFMT == unix.S_IFDIR && (flags&unix.O_ACCMODE != unix.O_RDONLY || flags&unix.O_TRUNC != 0) {
		return reply{}, -1, unix.EISDIR
	}
	fd, err := s.reopen(n, &want, flags)
	if err != nil {
		return reply{}, -1, err
	}
	return reply{op: opRopen}, fd, nil
}

// reopen opens the file n names with flags, for I/O. A directory is
// reopened through its own descriptor ("."), which names exactly that
// inode. Anything else is reopened by name from its parent; the name may
// have been replaced on the host since the walk, so the new descriptor
// must be the same inode as want (else ESTALE), and it is opened
// O_NONBLOCK so a FIFO swapped in cannot block the server. O_NONBLOCK is
// cleared afterwards unless flags ask for it. With O_TRUNC the file is
// opened without it and truncated only once it is known to be the right
// inode.
func (s *server) reopen(n *node, want *Attr, flags int) (int, error) {
	trunc := flags&unix.O_TRUNC != 0
	oflags := flags&^unix.O_TRUNC | unix.O_NOCTTY | unix.O_NONBLOCK
	var fd int
	var err error
	switch {
	case want.Mode&unix.S_IFMT == unix.S_IFDIR:
		fd, err = unix.Openat(n.fd, ".", oflags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	case n.parent == nil:
		return -1, fmt.Errorf("non-directory without a parent")
	default:
		fd, err = s.openBeneath(n.parent.fd, n.name, oflags)
	}
	if err != nil {
		return -1, err
	}
	got, err := fstat(fd)
	if err != nil {
		_ = unix.Close(fd)
		return -1, err
	}
	if got.Dev != want.Dev || got.Ino != want.Ino || got.Mode&unix.S_IFMT != want.Mode&unix.S_IFMT {
		_ = unix.Close(fd)
		return -1, unix.ESTALE
	}
	if trunc && got.Mode&unix.S_IFMT == unix.S_IFREG {
		if err := unix.Ftruncate(fd, 0); err != nil {
			_ = unix.Close(fd)
			return -1, err
		}
	}
	if flags&unix.O_NONBLOCK == 0 {
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err == nil {
			_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl&^unix.O_NONBLOCK)
		}
		if err != nil {
			_ = unix.Close(fd)
			return -1, err
		}
	}
	return fd, nil
}

// openableType says which file types Open hands out: regular files and
// directories. A symlink is ELOOP (the sentry follows links itself);
// devices are EACCES because the sentry's own /dev serves them, and FIFOs
// and sockets are EACCES until the sentry can drive them.
func openableType(mode uint32) error {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR:
		return nil
	case unix.S_IFLNK:
		return unix.ELOOP
	default:
		return unix.EACCES
	}
}

func (s *server) clunk(req *request) (reply, error) {
	n, err := s.lookup(req.fid)
	if err != nil {
		return reply{}, err
	}
	delete(s.fids, req.fid)
	release(n)
	return reply{op: opRclunk}, nil
}

// release drops one reference to n, closing it and releasing its parent
// when none are left.
func release(n *node) {
	for n != nil {
		n.refs--
		if n.refs > 0 {
			return
		}
		_ = unix.Close(n.fd)
		n = n.parent
	}
}

// closeAll forgets every FID when the connection ends.
func (s *server) closeAll() {
	for id, n := range s.fids {
		delete(s.fids, id)
		release(n)
	}
	_ = unix.Close(s.rootfd)
}

// fstat reads the metadata of fd, which may be an O_PATH descriptor.
func fstat(fd int) (Attr, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return Attr{}, err
	}
	return Attr{
		Dev: st.Dev, Ino: st.Ino, Nlink: uint64(st.Nlink), Rdev: st.Rdev,
		Mode: st.Mode, UID: st.Uid, GID: st.Gid,
		Size: st.Size, Blksize: int64(st.Blksize), Blocks: st.Blocks,
		AtimeSec: st.Atim.Sec, AtimeNsec: st.Atim.Nsec,
		MtimeSec: st.Mtim.Sec, MtimeNsec: st.Mtim.Nsec,
		CtimeSec: st.Ctim.Sec, CtimeNsec: st.Ctim.Nsec,
	}, nil
}
