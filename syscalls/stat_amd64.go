package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// statSize is sizeof(struct stat) on x86-64.
const statSize = 144

// marshalStat fills b with x86-64's struct stat: 64-bit st_nlink before
// st_mode, 64-bit st_blksize.
func marshalStat(b []byte, st *unix.Stat_t) {
	le := binary.LittleEndian
	clear(b[:statSize])
	le.PutUint64(b[0:], st.Dev)
	le.PutUint64(b[8:], st.Ino)
	le.PutUint64(b[16:], st.Nlink)
	le.PutUint32(b[24:], st.Mode)
	le.PutUint32(b[28:], st.Uid)
	le.PutUint32(b[32:], st.Gid)
	le.PutUint64(b[40:], st.Rdev)
	le.PutUint64(b[48:], uint64(st.Size))
	le.PutUint64(b[56:], uint64(st.Blksize))
	le.PutUint64(b[64:], uint64(st.Blocks))
	le.PutUint64(b[72:], uint64(st.Atim.Sec))
	le.PutUint64(b[80:], uint64(st.Atim.Nsec))
	le.PutUint64(b[88:], uint64(st.Mtim.Sec))
	le.PutUint64(b[96:], uint64(st.Mtim.Nsec))
	le.PutUint64(b[104:], uint64(st.Ctim.Sec))
	le.PutUint64(b[112:], uint64(st.Ctim.Nsec))
}
