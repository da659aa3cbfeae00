package overlay

import (
	"moat/sentry/fs/tmpfs"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// copyChunk is the unit data is copied up in; all-zero chunks are
// skipped so sparse files stay sparse.
const copyChunk = 1 << 16

// copyUp gives n an upper file: its parents first, then the file with
// the lower one's type, data (unless truncating, which is about to drop
// it), mode, owner and times.
func (n *node) copyUp(truncating bool) error {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	return n.copyUpLocked(truncating)
}

// copyUpLocked is copyUp.
//
// Preconditions: fs.mu is locked.
func (n *node) copyUpLocked(truncating bool) error {
	if n.upper != nil {
		return nil
	}
	p := n.parent
	if p == nil {
		// Only the root has no parent, and it always has an upper.
		return unix.EIO
	}
	if err := p.copyUpLocked(false); err != nil {
		return err
	}
	st, err := n.lower.Stat()
	if err != nil {
		return err
	}
	n.lowerIno, n.lowerSize, n.lowerBlocks, n.statted = int64(st.Ino), st.Size, st.Blocks, true
	var u *tmpfs.Inode
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		target, err := n.lower.Readlink()
		if err != nil {
			return err
		}
		u, err = p.upper.MakeSymlink(n.name, target, st.Uid, st.Gid)
		if err != nil {
			return err
		}
	case unix.S_IFREG:
		if u, err = p.upper.MakeNode(n.name, st.Mode, 0, st.Uid, st.Gid); err != nil {
			return err
		}
		if !truncating {
			if err := copyData(n.lower, u, st.Size); err != nil {
				p.upper.RemoveName(n.name)
				return err
			}
		}
	default:
		if u, err = p.upper.MakeNode(n.name, st.Mode, st.Rdev, st.Uid, st.Gid); err != nil {
			return err
		}
	}
	sa := vfs.AttrChange{
		Mask: vfs.SetUID | vfs.SetGID | vfs.SetTimes,
		UID:  st.Uid, GID: st.Gid, Atime: st.Atim, Mtime: st.Mtim,
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		sa.Mask |= vfs.SetMode
		sa.Mode = st.Mode & 0o7777
	}
	if err := u.SetAttr(sa); err != nil {
		return err
	}
	if n.isDir() {
		// The new upper directory's link count now counts this
		// directory in p; n's own lower subdirectories are the bias.
		n.nlinkBias = int64(st.Nlink) - 2
		p.nlinkBias--
	}
	n.upper = u
	return nil
}

// copyData copies size bytes of lower into the empty regular file u.
func copyData(lower vfs.Inode, u *tmpfs.Inode, size int64) error {
	li, err := lower.Open(unix.O_RDONLY)
	if err != nil {
		return err
	}
	lf := vfs.NewFile(li, unix.O_RDONLY, vfs.Location{})
	defer lf.DecRef()
	ui, err := u.Open(unix.O_WRONLY)
	if err != nil {
		return err
	}
	uf := vfs.NewFile(ui, unix.O_WRONLY, vfs.Location{})
	defer uf.DecRef()
	buf := make([]byte, copyChunk)
	for off := int64(0); off < size; {
		n, err := lf.PRead(buf, off)
		if err != nil {
			return err
		}
		if n == 0 {
			// The lower file shrank under us: copy what there was.
			break
		}
		if !allZero(buf[:n]) {
			if _, err := uf.PWrite(buf[:n], off); err != nil {
				return err
			}
		}
		off += int64(n)
	}
	return u.Truncate(size)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
