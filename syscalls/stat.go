package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// marshalStat fills b with the architecture's struct stat. st_dev,
// st_ino, st_size, st_blocks and the times sit at the same offsets on
// x86-64 and arm64; marshalStatArch writes the fields whose order and
// width differ.
func marshalStat(b []byte, st *unix.Stat_t) {
	le := binary.LittleEndian
	clear(b[:statSize])
	le.PutUint64(b[0:], st.Dev)
	le.PutUint64(b[8:], st.Ino)
	marshalStatArch(b, st)
	le.PutUint64(b[48:], uint64(st.Size))
	le.PutUint64(b[64:], uint64(st.Blocks))
	le.PutUint64(b[72:], uint64(st.Atim.Sec))
	le.PutUint64(b[80:], uint64(st.Atim.Nsec))
	le.PutUint64(b[88:], uint64(st.Mtim.Sec))
	le.PutUint64(b[96:], uint64(st.Mtim.Nsec))
	le.PutUint64(b[104:], uint64(st.Ctim.Sec))
	le.PutUint64(b[112:], uint64(st.Ctim.Nsec))
}
