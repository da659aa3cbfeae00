package seccomp

import (
	"encoding/binary"
	"testing"
)

// FuzzCheckedProgramsRun feeds arbitrary bytes to DecodeProgram and
// Check, and runs whatever Check accepts on arbitrary seccomp_data: the
// programs come from the application, so an accepted one must never make
// the sentry panic (a jump out of range, an unaligned or out-of-bounds
// load, a division by zero, scratch memory read before written).
func FuzzCheckedProgramsRun(f *testing.F) {
	seed := func(insns ...Instruction) []byte {
		b := make([]byte, 8*len(insns))
		for i, in := range insns {
			binary.LittleEndian.PutUint16(b[8*i:], in.Op)
			b[8*i+2], b[8*i+3] = in.Jt, in.Jf
			binary.LittleEndian.PutUint32(b[8*i+4:], in.K)
		}
		return b
	}
	f.Add(seed(stmt(clsLD|szW|mABS, 0), jump(clsJMP|jJEQ|srcK, 39, 0, 1),
		stmt(clsRET|srcK, RetAllow), stmt(clsRET|srcK, RetAllow)), uint32(39), uint64(7))
	f.Add(seed(stmt(clsRET|srcK, RetAllow)), uint32(0), uint64(0))
	f.Fuzz(func(t *testing.T, prog []byte, nr uint32, arg uint64) {
		p, err := Check(DecodeProgram(prog))
		if err != nil {
			return
		}
		d := &Data{Nr: int32(nr), Arch: 0xc000003e, IP: arg ^ 0x5555, Args: [6]uint64{arg, ^arg, arg >> 3, 1, 0, arg}}
		p.Run(d)
	})
}
