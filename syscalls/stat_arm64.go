package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// statSize is sizeof(struct stat) on arm64 (asm-generic layout).
const statSize = 128

// marshalStatArch writes arm64's own part of struct stat: st_mode before
// a 32-bit st_nlink, and a 32-bit st_blksize.
func marshalStatArch(b []byte, st *unix.Stat_t) {
	le := binary.LittleEndian
	le.PutUint32(b[16:], st.Mode)
	le.PutUint32(b[20:], st.Nlink)
	le.PutUint32(b[24:], st.Uid)
	le.PutUint32(b[28:], st.Gid)
	le.PutUint64(b[32:], st.Rdev)
	le.PutUint32(b[56:], uint32(st.Blksize))
}
