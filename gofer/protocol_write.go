package gofer

// The version 2 messages: writes, statfs, extended attributes and bind
// mounts. Layouts (after the 5-byte header) are in README.md.

// statfsSize is the wire size of a Statfs.
const statfsSize = 11 * 8

// Statfs is a file system's statistics as the host's fstatfs reports
// them (struct statfs, with the fsid as one 64-bit value).
type Statfs struct {
	Type, Bsize, Blocks, Bfree, Bavail, Files, Ffree, Fsid, Namelen, Frsize, Flags uint64
}

// SetAttr bits say which fields of a SetAttr request apply.
const (
	// SetMode changes the permission bits (chmod).
	SetMode = 1 << iota
	// SetUID changes the owner (chown).
	SetUID
	// SetGID changes the group (chown).
	SetGID
	// SetSize truncates or extends a regular file.
	SetSize
	// SetTimes sets atime and mtime as utimensat does (UTIME_NOW and
	// UTIME_OMIT in the nanoseconds).
	SetTimes
)

// SetAttr is a change of a file's metadata; Mask says which fields apply.
type SetAttr struct {
	Mask     uint32
	Mode     uint32
	UID, GID uint32
	Size     uint64
	// Atime and Mtime are {seconds, nanoseconds}; the nanoseconds may be
	// unix.UTIME_NOW or unix.UTIME_OMIT.
	Atime, Mtime [2]int64
}

// writeRequest encodes the version 2 requests.
func (e *encoder) writeRequest(r *request) {
	switch r.op {
	case opTcreate:
		e.u64(uint64(r.fid))
		e.u64(uint64(r.newID))
		e.str(r.name)
		e.u32(r.flags)
		e.owner(r)
	case opTmkdir, opTmknod:
		e.u64(uint64(r.fid))
		e.str(r.name)
		e.owner(r)
	case opTsymlink:
		e.u64(uint64(r.fid))
		e.str(r.name)
		e.str(r.name2)
		e.u32(r.uid)
		e.u32(r.gid)
	case opTlink:
		e.u64(uint64(r.fid))
		e.u64(uint64(r.dir2))
		e.str(r.name)
	case opTunlink:
		e.u64(uint64(r.fid))
		e.str(r.name)
		e.u32(r.flags)
	case opTrename:
		e.u64(uint64(r.fid))
		e.str(r.name)
		e.u64(uint64(r.dir2))
		e.str(r.name2)
		e.u32(r.flags)
	case opTsetattr:
		e.u64(uint64(r.fid))
		e.u32(r.flags)
		e.owner(r)
		e.u64(r.size)
		for _, t := range r.times {
			e.u64(uint64(t))
		}
	case opTstatfs, opTlistxattr:
		e.u64(uint64(r.fid))
	case opTgetxattr, opTremovexattr:
		e.u64(uint64(r.fid))
		e.str(r.name)
	case opTsetxattr:
		e.u64(uint64(r.fid))
		e.str(r.name)
		e.str(r.value)
		e.u32(r.flags)
	case opTattachmount:
		e.u64(uint64(r.fid))
		e.str(r.name)
	}
}

// owner writes mode, uid and gid.
func (e *encoder) owner(r *request) {
	e.u32(r.mode)
	e.u32(r.uid)
	e.u32(r.gid)
}

func (d *decoder) owner(r *request) {
	r.mode = d.u32()
	r.uid = d.u32()
	r.gid = d.u32()
}

// writeRequest decodes the version 2 requests; false for an unknown op.
func (d *decoder) writeRequest(r *request) bool {
	switch r.op {
	case opTcreate:
		r.fid = FID(d.u64())
		r.newID = FID(d.u64())
		r.name = d.str()
		r.flags = d.u32()
		d.owner(r)
	case opTmkdir, opTmknod:
		r.fid = FID(d.u64())
		r.name = d.str()
		d.owner(r)
	case opTsymlink:
		r.fid = FID(d.u64())
		r.name = d.str()
		r.name2 = d.str()
		r.uid = d.u32()
		r.gid = d.u32()
	case opTlink:
		r.fid = FID(d.u64())
		r.dir2 = FID(d.u64())
		r.name = d.str()
	case opTunlink:
		r.fid = FID(d.u64())
		r.name = d.str()
		r.flags = d.u32()
	case opTrename:
		r.fid = FID(d.u64())
		r.name = d.str()
		r.dir2 = FID(d.u64())
		r.name2 = d.str()
		r.flags = d.u32()
	case opTsetattr:
		r.fid = FID(d.u64())
		r.flags = d.u32()
		d.owner(r)
		r.size = d.u64()
		for i := range r.times {
			r.times[i] = int64(d.u64())
		}
	case opTstatfs, opTlistxattr:
		r.fid = FID(d.u64())
	case opTgetxattr, opTremovexattr:
		r.fid = FID(d.u64())
		r.name = d.str()
	case opTsetxattr:
		r.fid = FID(d.u64())
		r.name = d.str()
		r.value = d.str()
		r.flags = d.u32()
	case opTattachmount:
		r.fid = FID(d.u64())
		r.name = d.str()
	default:
		return false
	}
	return true
}

func (e *encoder) statfs(s *Statfs) {
	for _, v := range []uint64{s.Type, s.Bsize, s.Blocks, s.Bfree, s.Bavail, s.Files, s.Ffree, s.Fsid, s.Namelen, s.Frsize, s.Flags} {
		e.u64(v)
	}
}

func (d *decoder) statfs() Statfs {
	var s Statfs
	for _, p := range []*uint64{&s.Type, &s.Bsize, &s.Blocks, &s.Bfree, &s.Bavail, &s.Files, &s.Ffree, &s.Fsid, &s.Namelen, &s.Frsize, &s.Flags} {
		*p = d.u64()
	}
	return s
}
