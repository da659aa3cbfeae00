package gofer

import (
	"errors"
	"fmt"
	"math"
)

// The wire format. Every message is one SOCK_SEQPACKET datagram, so the
// socket keeps the boundaries and no length prefix frames messages. A
// message starts with a 5-byte header, then the op's fields in order, all
// little-endian: integers fixed-width, strings as a u16 byte count and the
// bytes. Requests (T) have odd op codes, their replies (R) the next even
// one; Rerror may answer any request. The full table is in README.md.
const (
	// Version is the protocol version this package speaks. Tversion
	// negotiates it before any other request.
	Version = 2

	// MaxMessage bounds every datagram in either direction.
	MaxMessage = 8192

	// maxName is the longest single path component (NAME_MAX).
	maxName = 255
	// maxTarget is the longest symlink target (PATH_MAX less the NUL).
	maxTarget = 4095

	// maxXattrName is XATTR_NAME_MAX.
	maxXattrName = 255
	// maxXattrValue bounds an extended attribute's value (or a list of
	// names) so its reply fits one message; Linux allows 64 KiB, moat
	// answers E2BIG beyond this.
	maxXattrValue = MaxMessage - 64

	headerSize = 5
	attrSize   = 4*8 + 3*4 + 3*8 + 6*8
)

// op names one message type on the wire.
type op uint8

// Message types. Numbers are part of the wire format: never renumber, only
// add.
const (
	opRerror    op = 2
	opTversion  op = 3
	opRversion  op = 4
	opTattach   op = 5
	opRattach   op = 6
	opTwalk     op = 7
	opRwalk     op = 8
	opTstat     op = 9
	opRstat     op = 10
	opTreadlink op = 11
	opRreadlink op = 12
	opTopen     op = 13
	opRopen     op = 14
	opTclunk    op = 15
	opRclunk    op = 16

	// Version 2: writes and bind mounts.
	opTcreate      op = 17
	opRcreate      op = 18
	opTmkdir       op = 19
	opRmkdir       op = 20
	opTmknod       op = 21
	opRmknod       op = 22
	opTsymlink     op = 23
	opRsymlink     op = 24
	opTlink        op = 25
	opRlink        op = 26
	opTunlink      op = 27
	opRunlink      op = 28
	opTrename      op = 29
	opRrename      op = 30
	opTsetattr     op = 31
	opRsetattr     op = 32
	opTstatfs      op = 33
	opRstatfs      op = 34
	opTgetxattr    op = 35
	opRgetxattr    op = 36
	opTlistxattr   op = 37
	opRlistxattr   op = 38
	opTsetxattr    op = 39
	opRsetxattr    op = 40
	opTremovexattr op = 41
	opRremovexattr op = 42
	opTattachmount op = 43
	opRattachmount op = 44
)

var opNames = map[op]string{
	opRerror: "Rerror", opTversion: "Tversion", opRversion: "Rversion",
	opTattach: "Tattach", opRattach: "Rattach", opTwalk: "Twalk", opRwalk: "Rwalk",
	opTstat: "Tstat", opRstat: "Rstat", opTreadlink: "Treadlink", opRreadlink: "Rreadlink",
	opTopen: "Topen", opRopen: "Ropen", opTclunk: "Tclunk", opRclunk: "Rclunk",
	opTcreate: "Tcreate", opRcreate: "Rcreate", opTmkdir: "Tmkdir", opRmkdir: "Rmkdir",
	opTmknod: "Tmknod", opRmknod: "Rmknod", opTsymlink: "Tsymlink", opRsymlink: "Rsymlink",
	opTlink: "Tlink", opRlink: "Rlink", opTunlink: "Tunlink", opRunlink: "Runlink",
	opTrename: "Trename", opRrename: "Rrename", opTsetattr: "Tsetattr", opRsetattr: "Rsetattr",
	opTstatfs: "Tstatfs", opRstatfs: "Rstatfs", opTgetxattr: "Tgetxattr", opRgetxattr: "Rgetxattr",
	opTlistxattr: "Tlistxattr", opRlistxattr: "Rlistxattr", opTsetxattr: "Tsetxattr",
	opRsetxattr: "Rsetxattr", opTremovexattr: "Tremovexattr", opRremovexattr: "Rremovexattr",
	opTattachmount: "Tattachmount", opRattachmount: "Rattachmount",
}

func (o op) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// errShort and errLong report a message that does not match its op's
// layout; the server answers them with EPROTO.
var (
	errShort = errors.New("gofer: message too short")
	errLong  = errors.New("gofer: trailing bytes in message")
)

// request is a decoded T-message. Which fields are meaningful depends on
// op; unused ones are zero.
type request struct {
	op  op
	tag uint32
	// fid is the new FID for Tattach and Tattachmount; the directory for
	// Twalk, Tcreate, Tmkdir, Tmknod, Tsymlink, Tunlink and Trename (the
	// old name's); the existing file for Tlink; the file otherwise.
	fid   FID
	newID FID    // Twalk, Tcreate: the new FID
	dir2  FID    // Trename: the new name's directory; Tlink: the link's
	name  string // the component (Twalk, Tcreate ...); Tlink: the new name; xattr ops: the attribute; Tattachmount: the destination
	name2 string // Trename: the new name; Tsymlink: the target
	value string // Tsetxattr: the value (bytes, not text)
	flags uint32 // Topen, Tcreate: open(2) flags; Tversion: version; Tunlink: AT_REMOVEDIR; Trename: RENAME_*; Tsetattr: the Set* mask; Tsetxattr: XATTR_*
	msize uint32 // Tversion
	// mode, uid and gid: Tcreate, Tmkdir, Tmknod, Tsymlink (the new
	// file's mode and owner) and Tsetattr.
	mode, uid, gid uint32
	size           uint64   // Tsetattr: the new size
	times          [4]int64 // Tsetattr: atime sec, nsec, mtime sec, nsec (UTIME_NOW and UTIME_OMIT as utimensat)
}

// reply is a decoded R-message.
type reply struct {
	op     op
	tag    uint32
	errno  uint32 // Rerror
	attr   Attr   // Rattach, Rwalk, Rstat, Rcreate, Rattachmount
	target string // Rreadlink; Rgetxattr, Rlistxattr: the value (bytes)
	vers   uint32 // Rversion
	msize  uint32 // Rversion
	statfs Statfs // Rstatfs
}

// encoder appends to a reusable buffer.
type encoder struct{ b []byte }

func (e *encoder) u8(v uint8) { e.b = append(e.b, v) }
func (e *encoder) u16(v uint16) {
	e.b = append(e.b, byte(v), byte(v>>8))
}
func (e *encoder) u32(v uint32) {
	e.b = append(e.b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}
func (e *encoder) u64(v uint64) {
	e.u32(uint32(v))
	e.u32(uint32(v >> 32))
}

// str writes s; callers bound len(s) below 64 KiB (names and targets are
// checked against maxName and maxTarget first).
func (e *encoder) str(s string) {
	e.u16(uint16(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) header(o op, tag uint32) {
	e.b = e.b[:0]
	e.u8(uint8(o))
	e.u32(tag)
}

func (e *encoder) attr(a *Attr) {
	e.u64(a.Dev)
	e.u64(a.Ino)
	e.u64(a.Nlink)
	e.u64(a.Rdev)
	e.u32(a.Mode)
	e.u32(a.UID)
	e.u32(a.GID)
	e.u64(uint64(a.Size))
	e.u64(uint64(a.Blksize))
	e.u64(uint64(a.Blocks))
	e.u64(uint64(a.AtimeSec))
	e.u64(uint64(a.AtimeNsec))
	e.u64(uint64(a.MtimeSec))
	e.u64(uint64(a.MtimeNsec))
	e.u64(uint64(a.CtimeSec))
	e.u64(uint64(a.CtimeNsec))
}

// decoder reads from one message. The first short read sets err and every
// later read returns zero, so callers check err once at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.err = errShort
		d.b = nil
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u8() uint8 {
	v := d.take(1)
	if v == nil {
		return 0
	}
	return v[0]
}

func (d *decoder) u16() uint16 {
	v := d.take(2)
	if v == nil {
		return 0
	}
	return uint16(v[0]) | uint16(v[1])<<8
}

func (d *decoder) u32() uint32 {
	v := d.take(4)
	if v == nil {
		return 0
	}
	return uint32(v[0]) | uint32(v[1])<<8 | uint32(v[2])<<16 | uint32(v[3])<<24
}

func (d *decoder) u64() uint64 {
	lo := d.u32()
	hi := d.u32()
	return uint64(lo) | uint64(hi)<<32
}

func (d *decoder) str() string {
	n := d.u16()
	return string(d.take(int(n)))
}

func (d *decoder) attr() Attr {
	var a Attr
	a.Dev = d.u64()
	a.Ino = d.u64()
	a.Nlink = d.u64()
	a.Rdev = d.u64()
	a.Mode = d.u32()
	a.UID = d.u32()
	a.GID = d.u32()
	a.Size = int64(d.u64())
	a.Blksize = int64(d.u64())
	a.Blocks = int64(d.u64())
	a.AtimeSec = int64(d.u64())
	a.AtimeNsec = int64(d.u64())
	a.MtimeSec = int64(d.u64())
	a.MtimeNsec = int64(d.u64())
	a.CtimeSec = int64(d.u64())
	a.CtimeNsec = int64(d.u64())
	return a
}

// finish reports a short read or bytes left over.
func (d *decoder) finish() error {
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return errLong
	}
	return nil
}

// encodeRequest writes r into e.b.
func (e *encoder) request(r *request) {
	e.header(r.op, r.tag)
	switch r.op {
	case opTversion:
		e.u32(r.flags)
		e.u32(r.msize)
	case opTattach, opTstat, opTreadlink, opTclunk:
		e.u64(uint64(r.fid))
	case opTwalk:
		e.u64(uint64(r.fid))
		e.u64(uint64(r.newID))
		e.str(r.name)
	case opTopen:
		e.u64(uint64(r.fid))
		e.u32(r.flags)
	default:
		e.writeRequest(r)
	}
}

// decodeRequest parses one T-message. On error the returned request still
// carries op and tag when the header was complete, so the server can
// address its Rerror.
func decodeRequest(b []byte) (request, error) {
	d := decoder{b: b}
	var r request
	r.op = op(d.u8())
	r.tag = d.u32()
	if d.err != nil {
		return r, d.err
	}
	switch r.op {
	case opTversion:
		r.flags = d.u32()
		r.msize = d.u32()
	case opTattach, opTstat, opTreadlink, opTclunk:
		r.fid = FID(d.u64())
	case opTwalk:
		r.fid = FID(d.u64())
		r.newID = FID(d.u64())
		r.name = d.str()
	case opTopen:
		r.fid = FID(d.u64())
		r.flags = d.u32()
	default:
		if !d.writeRequest(&r) {
			return r, fmt.Errorf("gofer: unknown request %v", r.op)
		}
	}
	return r, d.finish()
}

// reply writes r into e.b.
func (e *encoder) reply(r *reply) {
	e.header(r.op, r.tag)
	switch r.op {
	case opRerror:
		e.u32(r.errno)
	case opRversion:
		e.u32(r.vers)
		e.u32(r.msize)
	case opRattach, opRwalk, opRstat, opRcreate, opRattachmount:
		e.attr(&r.attr)
	case opRreadlink, opRgetxattr, opRlistxattr:
		e.str(r.target)
	case opRstatfs:
		e.statfs(&r.statfs)
	}
}

// decodeReply parses one R-message.
func decodeReply(b []byte) (reply, error) {
	d := decoder{b: b}
	var r reply
	r.op = op(d.u8())
	r.tag = d.u32()
	if d.err != nil {
		return r, d.err
	}
	switch r.op {
	case opRerror:
		r.errno = d.u32()
	case opRversion:
		r.vers = d.u32()
		r.msize = d.u32()
	case opRattach, opRwalk, opRstat, opRcreate, opRattachmount:
		r.attr = d.attr()
	case opRreadlink, opRgetxattr, opRlistxattr:
		r.target = d.str()
	case opRstatfs:
		r.statfs = d.statfs()
	case opRopen, opRclunk, opRmkdir, opRmknod, opRsymlink, opRlink, opRunlink,
		opRrename, opRsetattr, opRsetxattr, opRremovexattr:
	default:
		return r, fmt.Errorf("gofer: unknown reply %v", r.op)
	}
	if err := d.finish(); err != nil {
		return r, err
	}
	if r.op == opRerror && (r.errno == 0 || r.errno > math.MaxUint16) {
		return r, fmt.Errorf("gofer: Rerror with bad errno %d", r.errno)
	}
	return r, nil
}
