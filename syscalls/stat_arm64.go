package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// statSize is sizeof(struct stat) on arm64 (asm-generic layout).
const statSize = 128

// marshalStat fills b with arm64's struct stat: st_mode before a 32-bit
// st_nlink, 32-bit st_blksize.
func marshalStat(b []byte, st *unix.Stat_t) {
	le := binary.LittleEndian
	clear(b[:statSize])
	le.PutUint64(b[0:], st.Dev)
	le.PutUint64(b[8:], st.Ino)
	le.PutUint32(b[16:], st.Mode)
	le.PutUint32(b[20:], st.Nlink)
	le.PutUint32(b[24:], st.Uid)
	le.PutUint32(b[28:], st.Gid)
	le.PutUint64(b[32:], st.Rdev)
	le.PutUint64(b[48:], uint64(st.Size))
	le.PutUint32(b[56:], uint32(st.Blksize))
	le.PutUint64(b[64:], uint64(st.Blocks))
	le.PutUint64(b[72:], uint64(st.Atim.Sec))
	le.PutUint64(b[80:], uint64(st.Atim.Nsec))
	le.PutUint64(b[88:], uint64(st.Mtim.Sec))
	le.PutUint64(b[96:], uint64(st.Mtim.Nsec))
	le.PutUint64(b[104:], uint64(st.Ctim.Sec))
	le.PutUint64(b[112:], uint64(st.Ctim.Nsec))
}
