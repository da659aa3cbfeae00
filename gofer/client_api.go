package gofer

// This file fixes the client API's types that the sentry codes against;
// the Client itself lives in client.go. The signatures change only
// together with their callers in sentry/.

import "golang.org/x/sys/unix"

// FID names one file the gofer holds open for the client (an O_PATH
// descriptor on the gofer's side). FIDs are not reused while open; FID 0
// is never handed out, so callers may use it as "none".
type FID uint64

// Attr is a file's metadata as the host's stat reports it.
type Attr struct {
	Dev, Ino, Nlink, Rdev           uint64
	Mode, UID, GID                  uint32
	Size, Blksize, Blocks           int64
	AtimeSec, MtimeSec, CtimeSec    int64
	AtimeNsec, MtimeNsec, CtimeNsec int64
}

// AttachMount returns a FID for the root of the bind mount the gofer was
// started with for destination dest (the mount's path in the container,
// as config.json names it, cleaned). The gofer opens every bind mount's
// source before it confines itself and serves each beneath its own root;
// a bind of a single file attaches that file. ENOENT when the gofer has
// no bind mount for dest.
func (c *Client) AttachMount(dest string) (FID, Attr, error) {
	if len(dest) == 0 || len(dest) > maxTarget {
		return 0, Attr{}, unix.EINVAL
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.allocFID()
	r, _, err := c.call(&request{op: opTattachmount, fid: id, name: dest})
	if err != nil {
		return 0, Attr{}, err
	}
	return id, r.attr, nil
}
