package gofer

import (
	"strings"

	"golang.org/x/sys/unix"
)

// The server side of the version 2 operations. Every one acts on FID
// descriptors with single-component names and never follows a symlink:
// creation calls (*at) do not follow a final link by nature, chown and
// utimes use AT_SYMLINK_NOFOLLOW, chmod uses fchmodat2 on the O_PATH
// descriptor, link uses linkat(AT_EMPTY_PATH) on it, and anything that
// needs a real descriptor (truncate, xattrs, the chmod fallback) reopens
// the node as Open does, inode-checked. A name swapped for a symlink
// between walk and operation is therefore acted on as the link itself or
// refused, never followed out of the tree.

// handleWrite dispatches the version 2 requests.
func (s *server) handleWrite(req *request) (reply, int, error) {
	switch req.op {
	case opTcreate:
		return s.create(req)
	case opTmkdir:
		return s.mkdir(req)
	case opTmknod:
		return s.mknod(req)
	case opTsymlink:
		return s.symlink(req)
	case opTlink:
		return s.link(req)
	case opTunlink:
		return s.unlink(req)
	case opTrename:
		return s.rename(req)
	case opTsetattr:
		return s.setattr(req)
	case opTstatfs:
		return s.statfs(req)
	case opTgetxattr, opTlistxattr, opTsetxattr, opTremovexattr:
		return s.xattr(req)
	case opTattachmount:
		r, err := s.attachMount(req)
		return r, -1, err
	}
	return reply{}, -1, unix.EPROTO
}

// writableDir looks up a directory FID that a creation or removal of
// name goes into: EROFS on a read-only tree, EINVAL for a bad name.
func (s *server) writableDir(id FID, name string) (*node, error) {
	dir, err := s.lookup(id)
	if err != nil {
		return nil, err
	}
	if err := checkName(name); err != nil {
		return nil, err
	}
	if dir.tree.readOnly {
		return nil, unix.EROFS
	}
	return dir, nil
}

// createFlags are the flags Tcreate accepts besides the access mode.
const createFlags = unix.O_APPEND | unix.O_NONBLOCK | unix.O_LARGEFILE | unix.O_NOATIME |
	unix.O_DIRECT | unix.O_SYNC | unix.O_DSYNC | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NOFOLLOW |
	unix.O_CREAT | unix.O_EXCL | unix.O_TRUNC

// create makes a regular file with O_CREAT|O_EXCL (so an existing name,
// a dangling symlink included, is EEXIST), gives it the application's
// owner, and answers with a new FID and the open descriptor.
func (s *server) create(req *request) (reply, int, error) {
	dir, err := s.writableDir(req.fid, req.name)
	if err != nil {
		return reply{}, -1, err
	}
	if err := s.newFID(req.newID); err != nil {
		return reply{}, -1, err
	}
	flags := int(req.flags)
	if flags&unix.O_ACCMODE == unix.O_ACCMODE || flags&^(createFlags|unix.O_ACCMODE) != 0 {
		return reply{}, -1, unix.EINVAL
	}
	flags = flags&^(unix.O_TRUNC|unix.O_NOCTTY) | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := s.createBeneath(dir.fd, req.name, flags, req.mode&0o7777)
	if err != nil {
		return reply{}, -1, err
	}
	fail := func(err error) (reply, int, error) {
		_ = unix.Close(fd)
		_ = unix.Unlinkat(dir.fd, req.name, 0)
		return reply{}, -1, err
	}
	if err := unix.Fchownat(fd, "", int(req.uid), int(req.gid), unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fail(err)
	}
	// chown clears set-id bits; put back what was asked.
	if req.mode&0o7000 != 0 {
		if err := unix.Fchmod(fd, req.mode&0o7777); err != nil {
			return fail(err)
		}
	}
	a, err := fstat(fd)
	if err != nil {
		return fail(err)
	}
	pfd, err := s.openBeneath(dir.fd, req.name, unix.O_PATH)
	if err != nil {
		return fail(err)
	}
	if pa, err := fstat(pfd); err != nil || pa.Ino != a.Ino || pa.Dev != a.Dev {
		_ = unix.Close(pfd)
		_ = unix.Close(fd)
		return reply{}, -1, unix.ESTALE
	}
	dir.refs++
	s.fids[req.newID] = &node{fd: pfd, parent: dir, name: req.name, refs: 1, tree: dir.tree}
	return reply{op: opRcreate, attr: a}, fd, nil
}

// createBeneath is openBeneath with O_CREAT and a mode.
func (s *server) createBeneath(dirfd int, name string, flags int, mode uint32) (int, error) {
	if !s.noOpenat2 {
		fd, err := unix.Openat2(dirfd, name, &unix.OpenHow{
			Flags:   uint64(flags),
			Mode:    uint64(mode),
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
		})
		if err != unix.ENOSYS {
			return fd, err
		}
		s.noOpenat2 = true
	}
	return unix.Openat(dirfd, name, flags, mode)
}

// chownName gives name in dir the application's owner, not following a
// symlink.
func chownName(dirfd int, name string, uid, gid uint32) error {
	return unix.Fchownat(dirfd, name, int(uid), int(gid), unix.AT_SYMLINK_NOFOLLOW)
}

// made finishes a creation: chown, and undo the creation if that fails.
func made(dirfd int, name string, uid, gid uint32, rmflags int) error {
	if err := chownName(dirfd, name, uid, gid); err != nil {
		_ = unix.Unlinkat(dirfd, name, rmflags)
		return err
	}
	return nil
}

// makeName runs mk in the directory FID req.fid to make req.name, then
// gives the new name the application's owner (made; rmFlags are the
// unlinkat flags that undo mk if that fails). Tmkdir, Tmknod and
// Tsymlink differ only in mk, which also checks the request's own
// arguments, after the directory's: a read-only tree answers EROFS
// first.
func (s *server) makeName(req *request, rop op, rmFlags int, mk func(dirfd int) error) (reply, int, error) {
	dir, err := s.writableDir(req.fid, req.name)
	if err != nil {
		return reply{}, -1, err
	}
	if err := mk(dir.fd); err != nil {
		return reply{}, -1, err
	}
	if err := made(dir.fd, req.name, req.uid, req.gid, rmFlags); err != nil {
		return reply{}, -1, err
	}
	return reply{op: rop}, -1, nil
}

func (s *server) mkdir(req *request) (reply, int, error) {
	return s.makeName(req, opRmkdir, unix.AT_REMOVEDIR, func(dirfd int) error {
		return unix.Mkdirat(dirfd, req.name, req.mode&0o7777)
	})
}

// mknod makes FIFOs and socket nodes only: device nodes are never made on
// the host for a sandbox (EPERM, as for an unprivileged process).
func (s *server) mknod(req *request) (reply, int, error) {
	return s.makeName(req, opRmknod, 0, func(dirfd int) error {
		switch req.mode & unix.S_IFMT {
		case unix.S_IFIFO, unix.S_IFSOCK:
		case unix.S_IFREG, 0:
			// mknod(S_IFREG) is a plain create; Tcreate is for that.
			return unix.EINVAL
		default:
			return unix.EPERM
		}
		return unix.Mknodat(dirfd, req.name, req.mode&(unix.S_IFMT|0o7777), 0)
	})
}

func (s *server) symlink(req *request) (reply, int, error) {
	return s.makeName(req, opRsymlink, 0, func(dirfd int) error {
		if len(req.name2) == 0 || len(req.name2) > maxTarget || strings.IndexByte(req.name2, 0) >= 0 {
			return unix.EINVAL
		}
		return unix.Symlinkat(req.name2, dirfd, req.name)
	})
}

// link makes a hard link to exactly the inode the FID holds
// (linkat(AT_EMPTY_PATH), which needs CAP_DAC_READ_SEARCH): no path is
// resolved, so nothing outside the tree can be linked in.
func (s *server) link(req *request) (reply, int, error) {
	f, err := s.lookup(req.fid)
	if err != nil {
		return reply{}, -1, err
	}
	dir, err := s.writableDir(req.dir2, req.name)
	if err != nil {
		return reply{}, -1, err
	}
	if f.tree != dir.tree {
		return reply{}, -1, unix.EXDEV
	}
	if err := unix.Linkat(f.fd, "", dir.fd, req.name, unix.AT_EMPTY_PATH); err != nil {
		return reply{}, -1, err
	}
	return reply{op: opRlink}, -1, nil
}

func (s *server) unlink(req *request) (reply, int, error) {
	dir, err := s.writableDir(req.fid, req.name)
	if err != nil {
		return reply{}, -1, err
	}
	if req.flags&^unix.AT_REMOVEDIR != 0 {
		return reply{}, -1, unix.EINVAL
	}
	if err := unix.Unlinkat(dir.fd, req.name, int(req.flags)); err != nil {
		return reply{}, -1, err
	}
	return reply{op: opRunlink}, -1, nil
}

// rename is renameat2 between two directory FIDs of one tree, then moves
// the nodes that named the old name (and, for an exchange, the new one)
// so that reopening them by name keeps working.
func (s *server) rename(req *request) (reply, int, error) {
	odir, err := s.writableDir(req.fid, req.name)
	if err != nil {
		return reply{}, -1, err
	}
	ndir, err := s.writableDir(req.dir2, req.name2)
	if err != nil {
		return reply{}, -1, err
	}
	if odir.tree != ndir.tree {
		return reply{}, -1, unix.EXDEV
	}
	if req.flags&^(unix.RENAME_NOREPLACE|unix.RENAME_EXCHANGE) != 0 {
		// RENAME_WHITEOUT among them: overlays are the sentry's.
		return reply{}, -1, unix.EINVAL
	}
	if err := unix.Renameat2(odir.fd, req.name, ndir.fd, req.name2, uint(req.flags)); err != nil {
		return reply{}, -1, err
	}
	exchange := req.flags&unix.RENAME_EXCHANGE != 0
	var moved, swapped []*node
	for _, n := range s.fids {
		switch {
		case n.parent == odir && n.name == req.name:
			moved = append(moved, n)
		case exchange && n.parent == ndir && n.name == req.name2:
			swapped = append(swapped, n)
		}
	}
	for _, n := range moved {
		reparent(n, ndir, req.name2)
	}
	for _, n := range swapped {
		reparent(n, odir, req.name)
	}
	return reply{op: opRrename}, -1, nil
}

// reparent makes dir/name the place n is reopened from.
func reparent(n, dir *node, name string) {
	old := n.parent
	dir.refs++
	n.parent, n.name = dir, name
	release(old)
}

// setattr applies chmod, chown, truncate and utimes in that order.
func (s *server) setattr(req *request) (reply, int, error) {
	n, err := s.lookup(req.fid)
	if err != nil {
		return reply{}, -1, err
	}
	if n.tree.readOnly {
		return reply{}, -1, unix.EROFS
	}
	mask := req.flags
	if mask&^(SetMode|SetUID|SetGID|SetSize|SetTimes) != 0 {
		return reply{}, -1, unix.EINVAL
	}
	if mask&SetMode != 0 {
		if err := s.chmod(n, req.mode&0o7777); err != nil {
			return reply{}, -1, err
		}
	}
	if mask&(SetUID|SetGID) != 0 {
		uid, gid := -1, -1
		if mask&SetUID != 0 {
			uid = int(req.uid)
		}
		if mask&SetGID != 0 {
			gid = int(req.gid)
		}
		if err := unix.Fchownat(n.fd, "", uid, gid, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return reply{}, -1, err
		}
	}
	if mask&SetSize != 0 {
		if err := s.truncate(n, req.size); err != nil {
			return reply{}, -1, err
		}
	}
	if mask&SetTimes != 0 {
		ts := []unix.Timespec{{Sec: req.times[0], Nsec: req.times[1]}, {Sec: req.times[2], Nsec: req.times[3]}}
		if err := unix.UtimesNanoAt(n.fd, "", ts, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return reply{}, -1, err
		}
	}
	return reply{op: opRsetattr}, -1, nil
}

// chmod uses fchmodat2(AT_EMPTY_PATH) on the O_PATH descriptor (Linux
// 6.6); before that kernel, it reopens regular files and directories and
// uses fchmod. A symlink's mode cannot change (EOPNOTSUPP, as Linux).
func (s *server) chmod(n *node, mode uint32) error {
	err := unix.Fchmodat(n.fd, "", mode, unix.AT_EMPTY_PATH)
	if err != unix.EOPNOTSUPP && err != unix.ENOSYS {
		return err
	}
	a, err := fstat(n.fd)
	if err != nil {
		return err
	}
	switch a.Mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR:
	default:
		return unix.EOPNOTSUPP
	}
	fd, err := s.reopen(n, &a, unix.O_RDONLY)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Fchmod(fd, mode)
}

// truncate sets a regular file's size: EISDIR for a directory, EINVAL for
// anything else, EFBIG beyond what off_t holds.
func (s *server) truncate(n *node, size uint64) error {
	if int64(size) < 0 {
		return unix.EINVAL
	}
	a, err := fstat(n.fd)
	if err != nil {
		return err
	}
	switch a.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		return unix.EISDIR
	default:
		return unix.EINVAL
	}
	fd, err := s.reopen(n, &a, unix.O_WRONLY)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Ftruncate(fd, int64(size))
}

func (s *server) statfs(req *request) (reply, int, error) {
	n, err := s.lookup(req.fid)
	if err != nil {
		return reply{}, -1, err
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(n.fd, &st); err != nil {
		return reply{}, -1, err
	}
	fsid := uint64(uint32(st.Fsid.Val[0])) | uint64(uint32(st.Fsid.Val[1]))<<32
	return reply{op: opRstatfs, statfs: Statfs{
		Type: uint64(st.Type), Bsize: uint64(st.Bsize), Blocks: st.Blocks, Bfree: st.Bfree,
		Bavail: st.Bavail, Files: st.Files, Ffree: st.Ffree, Fsid: fsid,
		Namelen: uint64(st.Namelen), Frsize: uint64(st.Frsize), Flags: uint64(st.Flags),
	}}, -1, nil
}

// xattrNamespace classifies an attribute name: only user.* reaches the
// host. The others that exist are answered as an unprivileged process
// sees them when absent (ENODATA to read, EPERM to write); unknown
// namespaces are EOPNOTSUPP, as Linux answers them.
func xattrNamespace(name string) error {
	switch {
	case strings.HasPrefix(name, "user."):
		return nil
	case strings.HasPrefix(name, "trusted."), strings.HasPrefix(name, "security."),
		strings.HasPrefix(name, "system."):
		return unix.EPERM
	}
	return unix.EOPNOTSUPP
}

// xattr answers the four extended attribute requests on regular files
// and directories (user.* attributes exist on nothing else: reads find
// none, writes are EPERM). The node is reopened read-only to get a
// descriptor the f*xattr calls accept (O_PATH ones are refused).
func (s *server) xattr(req *request) (reply, int, error) {
	n, err := s.lookup(req.fid)
	if err != nil {
		return reply{}, -1, err
	}
	write := req.op == opTsetxattr || req.op == opTremovexattr
	if req.op != opTlistxattr {
		if err := checkXattrName(req.name); err != nil {
			return reply{}, -1, err
		}
		if err := xattrNamespace(req.name); err != nil {
			if err == unix.EPERM && !write {
				err = unix.ENODATA
			}
			return reply{}, -1, err
		}
	}
	if write && n.tree.readOnly {
		return reply{}, -1, unix.EROFS
	}
	a, err := fstat(n.fd)
	if err != nil {
		return reply{}, -1, err
	}
	if t := a.Mode & unix.S_IFMT; t != unix.S_IFREG && t != unix.S_IFDIR {
		switch req.op {
		case opTlistxattr:
			return reply{op: opRlistxattr}, -1, nil
		case opTgetxattr:
			return reply{}, -1, unix.ENODATA
		}
		return reply{}, -1, unix.EPERM
	}
	fd, err := s.reopen(n, &a, unix.O_RDONLY)
	if err != nil {
		return reply{}, -1, err
	}
	defer unix.Close(fd)
	switch req.op {
	case opTgetxattr:
		buf := make([]byte, maxXattrValue)
		m, err := unix.Fgetxattr(fd, req.name, buf)
		if err == unix.ERANGE {
			return reply{}, -1, unix.E2BIG
		}
		if err != nil {
			return reply{}, -1, err
		}
		return reply{op: opRgetxattr, target: string(buf[:m])}, -1, nil
	case opTlistxattr:
		buf := make([]byte, maxXattrValue)
		m, err := unix.Flistxattr(fd, buf)
		if err == unix.ERANGE {
			return reply{}, -1, unix.E2BIG
		}
		if err != nil {
			return reply{}, -1, err
		}
		var out []byte
		for _, name := range strings.SplitAfter(string(buf[:m]), "\x00") {
			if strings.HasPrefix(name, "user.") {
				out = append(out, name...)
			}
		}
		return reply{op: opRlistxattr, target: string(out)}, -1, nil
	case opTsetxattr:
		if req.flags&^(unix.XATTR_CREATE|unix.XATTR_REPLACE) != 0 {
			return reply{}, -1, unix.EINVAL
		}
		if err := unix.Fsetxattr(fd, req.name, []byte(req.value), int(req.flags)); err != nil {
			return reply{}, -1, err
		}
		return reply{op: opRsetxattr}, -1, nil
	default:
		if err := unix.Fremovexattr(fd, req.name); err != nil {
			return reply{}, -1, err
		}
		return reply{op: opRremovexattr}, -1, nil
	}
}
