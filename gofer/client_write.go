package gofer

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// The client side of the write operations. The sentry has checked the
// application's permissions before calling; the gofer refuses writes to
// read-only trees (EROFS) and never resolves more than one component.
// Errors are unix.Errno values for the application, or wrap
// ErrConnection.

// Create makes the regular file name in dir as open(O_CREAT|O_EXCL) does,
// owned by uid:gid with the permission bits mode (umask already applied),
// and opens it with flags (access mode, O_APPEND, O_NONBLOCK...). It
// returns a FID for the new file, its attributes and the open host
// descriptor. EEXIST when the name exists, whatever it is.
func (c *Client) Create(dir FID, name string, flags int, mode, uid, gid uint32) (FID, Attr, *os.File, error) {
	if err := checkName(name); err != nil {
		return 0, Attr{}, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.allocFID()
	r, f, err := c.call(&request{op: opTcreate, fid: dir, newID: id, name: name,
		flags: uint32(flags), mode: mode, uid: uid, gid: gid})
	if err != nil {
		return 0, Attr{}, nil, err
	}
	return id, r.attr, f, nil
}

// Mkdir makes the directory name in dir, owned by uid:gid.
func (c *Client) Mkdir(dir FID, name string, mode, uid, gid uint32) error {
	return c.simpleName(&request{op: opTmkdir, fid: dir, name: name, mode: mode, uid: uid, gid: gid})
}

// Mknod makes a FIFO or a socket node name in dir (mode carries S_IFIFO
// or S_IFSOCK); other types are EPERM: devices are never made on the host.
func (c *Client) Mknod(dir FID, name string, mode, uid, gid uint32) error {
	return c.simpleName(&request{op: opTmknod, fid: dir, name: name, mode: mode, uid: uid, gid: gid})
}

// Symlink makes the symlink name in dir pointing at target, owned by
// uid:gid. target is stored as it is, never resolved by the gofer.
func (c *Client) Symlink(dir FID, name, target string, uid, gid uint32) error {
	if len(target) == 0 {
		return unix.ENOENT
	}
	if len(target) > maxTarget {
		return unix.ENAMETOOLONG
	}
	return c.simpleName(&request{op: opTsymlink, fid: dir, name: name, name2: target, uid: uid, gid: gid})
}

// Link makes name in dir a new hard link to the file f (not following f
// if it is a symlink). f and dir must be in the same tree (EXDEV).
func (c *Client) Link(f, dir FID, name string) error {
	return c.simpleName(&request{op: opTlink, fid: f, dir2: dir, name: name})
}

// Unlink removes name from dir; flags is 0 or unix.AT_REMOVEDIR.
func (c *Client) Unlink(dir FID, name string, flags int) error {
	return c.simpleName(&request{op: opTunlink, fid: dir, name: name, flags: uint32(flags)})
}

// Rename moves oldName in oldDir to newName in newDir as renameat2 does
// with flags (unix.RENAME_NOREPLACE, unix.RENAME_EXCHANGE). FIDs that
// named the moved files keep naming them.
func (c *Client) Rename(oldDir FID, oldName string, newDir FID, newName string, flags uint) error {
	if err := checkName(newName); err != nil {
		return err
	}
	return c.simpleName(&request{op: opTrename, fid: oldDir, name: oldName, dir2: newDir, name2: newName, flags: uint32(flags)})
}

// SetAttr changes f's metadata as a.Mask says: chmod, chown, truncate,
// utimensat, in that order, stopping at the first failure.
func (c *Client) SetAttr(f FID, a SetAttr) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, _, err := c.call(&request{op: opTsetattr, fid: f, flags: a.Mask, mode: a.Mode, uid: a.UID, gid: a.GID,
		size: a.Size, times: [4]int64{a.Atime[0], a.Atime[1], a.Mtime[0], a.Mtime[1]}})
	return err
}

// StatFS returns the statistics of the host file system holding f.
func (c *Client) StatFS(f FID) (Statfs, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, _, err := c.call(&request{op: opTstatfs, fid: f})
	if err != nil {
		return Statfs{}, err
	}
	return r.statfs, nil
}

// GetXattr returns the value of f's extended attribute name (user.* only;
// other namespaces are ENODATA). Values longer than the protocol carries
// are E2BIG.
func (c *Client) GetXattr(f FID, name string) ([]byte, error) {
	if err := checkXattrName(name); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r, _, err := c.call(&request{op: opTgetxattr, fid: f, name: name})
	if err != nil {
		return nil, err
	}
	return []byte(r.target), nil
}

// ListXattr returns f's extended attribute names (the user.* ones), each
// followed by a NUL, as listxattr(2) lays them out.
func (c *Client) ListXattr(f FID) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, _, err := c.call(&request{op: opTlistxattr, fid: f})
	if err != nil {
		return nil, err
	}
	return []byte(r.target), nil
}

// SetXattr sets f's extended attribute name to value; flags are
// unix.XATTR_CREATE or unix.XATTR_REPLACE or 0.
func (c *Client) SetXattr(f FID, name string, value []byte, flags int) error {
	if err := checkXattrName(name); err != nil {
		return err
	}
	if len(value) > maxXattrValue {
		return unix.E2BIG
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, _, err := c.call(&request{op: opTsetxattr, fid: f, name: name, value: string(value), flags: uint32(flags)})
	return err
}

// RemoveXattr removes f's extended attribute name.
func (c *Client) RemoveXattr(f FID, name string) error {
	if err := checkXattrName(name); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, _, err := c.call(&request{op: opTremovexattr, fid: f, name: name})
	return err
}

// simpleName sends a request whose name is one component and whose reply
// carries nothing.
func (c *Client) simpleName(req *request) error {
	if err := checkName(req.name); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, _, err := c.call(req)
	return err
}

// checkXattrName bounds an attribute name as the kernel does: empty or
// longer than XATTR_NAME_MAX is ERANGE.
func checkXattrName(name string) error {
	if len(name) == 0 || len(name) > maxXattrName {
		return unix.ERANGE
	}
	for i := 0; i < len(name); i++ {
		if name[i] == 0 {
			return unix.EINVAL
		}
	}
	return nil
}

// String names a SetAttr for logs.
func (a SetAttr) String() string {
	return fmt.Sprintf("setattr{mask %#x mode %o uid %d gid %d size %d}", a.Mask, a.Mode, a.UID, a.GID, a.Size)
}
