package gofer

// This file fixes the client API's types that the sentry codes against;
// the Client itself lives in client.go. The signatures change only
// together with their callers in sentry/.

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
