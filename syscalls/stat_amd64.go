package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// statSize is sizeof(struct stat) on x86-64.
const statSize = 144

// marshalStatArch writes x86-64's own part of struct stat: a 64-bit
// st_nlink before st_mode, and a 64-bit st_blksize.
func marshalStatArch(b []byte, st *unix.Stat_t) {
	le := binary.LittleEndian
	le.PutUint64(b[16:], st.Nlink)
	le.PutUint32(b[24:], st.Mode)
	le.PutUint32(b[28:], st.Uid)
	le.PutUint32(b[32:], st.Gid)
	le.PutUint64(b[40:], st.Rdev)
	le.PutUint64(b[56:], uint64(st.Blksize))
}
