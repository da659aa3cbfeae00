package gofer

// This file fixes the client API the sentry codes against. The gofer
// owner fills in the bodies (and may move them to client.go); the
// signatures change only together with their callers in sentry/.

import (
	"errors"
	"os"
)

// FID names one file the gofer holds open for the client (an O_PATH
// descriptor on the gofer's side). FIDs are not reused while open.
type FID uint64

// Attr is a file's metadata as the host's stat reports it.
type Attr struct {
	Dev, Ino, Nlink, Rdev           uint64
	Mode, UID, GID                  uint32
	Size, Blksize, Blocks           int64
	AtimeSec, MtimeSec, CtimeSec    int64
	AtimeNsec, MtimeNsec, CtimeNsec int64
}

// Client speaks the gofer protocol over one Unix socket. It is safe for
// concurrent use.
type Client struct {
	sock *os.File
}

var errTODO = errors.New("gofer: not implemented yet")

// NewClient wraps sock, the sentry's end of the socket to a gofer.
func NewClient(sock *os.File) (*Client, error) { return &Client{sock: sock}, nil }

// Attach returns a FID for the root of the served tree.
func (c *Client) Attach() (FID, Attr, error) { return 0, Attr{}, errTODO }

// Walk looks up one path component, name, in directory dir. name is never
// "", "." or ".." and contains no "/": the sentry resolves those. A
// symlink is not followed: the FID names the link itself. Errors are
// unix.Errno values the sentry can return to the application (ENOENT,
// ENOTDIR, EACCES, ENAMETOOLONG).
func (c *Client) Walk(dir FID, name string) (FID, Attr, error) { return 0, Attr{}, errTODO }

// Stat returns the current metadata of f.
func (c *Client) Stat(f FID) (Attr, error) { return Attr{}, errTODO }

// Readlink returns the target of the symlink f.
func (c *Client) Readlink(f FID) (string, error) { return "", errTODO }

// Open opens f with the open(2) flags (O_RDONLY, O_DIRECTORY, ...; no
// O_CREAT) and returns the host descriptor the gofer passed back. The
// caller owns it.
func (c *Client) Open(f FID, flags int) (*os.File, error) { return nil, errTODO }

// Clunk forgets f.
func (c *Client) Clunk(f FID) error { return errTODO }

// Close closes the connection; the gofer exits when its last client is
// gone.
func (c *Client) Close() error { return c.sock.Close() }
