package gofer

// This file fixes the client API's types that the sentry codes against;
// the Client itself lives in client.go. The signatures change only
// together with their callers in sentry/.

import "errors"

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
// as config.json names it). The gofer opens every bind mount's source
// before it confines itself and serves each beneath its own root.
//
// The write-operations work fills this in (protocol op, server side,
// `moat gofer --mount` flags); the mount-tree work codes against it.
func (c *Client) AttachMount(dest string) (FID, Attr, error) {
	return 0, Attr{}, errNoMounts
}

var errNoMounts = errors.New("gofer: bind mounts are not implemented yet")
