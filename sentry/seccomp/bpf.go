// Package seccomp is the sandbox's seccomp: a checker and interpreter
// for the classic BPF programs of seccomp(2) (struct sock_filter), the
// chain of filters a task carries, and the actions their verdicts name.
// It knows nothing of tasks: the kernel builds a Data from the registers,
// runs the chain and acts on the result (sentry/kernel/task_seccomp.go).
package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Instruction is one classic BPF instruction (struct sock_filter).
type Instruction struct {
	Op     uint16
	Jt, Jf uint8
	K      uint32
}

// InstructionSize is sizeof(struct sock_filter).
const InstructionSize = 8

// MaxInstructions is BPF_MAXINSNS: the longest program one filter may be.
const MaxInstructions = 4096

// maxPathInstructions is MAX_INSNS_PER_PATH: the sum over a chain of each
// filter's length plus 4, beyond which installing another fails (ENOMEM).
const maxPathInstructions = 32768

// DataSize is sizeof(struct seccomp_data): int nr, u32 arch, u64
// instruction_pointer, u64 args[6].
const DataSize = 64

// memWords is BPF_MEMWORDS: the scratch memory M[0..15].
const memWords = 16

// Classic BPF opcode fields (linux/bpf_common.h, linux/filter.h).
const (
	clsLD   = 0x00
	clsLDX  = 0x01
	clsST   = 0x02
	clsSTX  = 0x03
	clsALU  = 0x04
	clsJMP  = 0x05
	clsRET  = 0x06
	clsMISC = 0x07

	szW   = 0x00
	mIMM  = 0x00
	mABS  = 0x20
	mMEM  = 0x60
	mLEN  = 0x80
	srcK  = 0x00
	srcX  = 0x08
	retA  = 0x10
	aADD  = 0x00
	aSUB  = 0x10
	aMUL  = 0x20
	aDIV  = 0x30
	aOR   = 0x40
	aAND  = 0x50
	aLSH  = 0x60
	aRSH  = 0x70
	aNEG  = 0x80
	aXOR  = 0xa0
	jJA   = 0x00
	jJEQ  = 0x10
	jJGT  = 0x20
	jJGE  = 0x30
	jJSET = 0x40
	mTAX  = 0x00
	mTXA  = 0x80
)

// ErrInvalid is returned for a program the kernel's checker refuses
// (seccomp(2) then fails with EINVAL).
var ErrInvalid = errors.New("invalid seccomp BPF program")

// Data is struct seccomp_data: what a filter sees of a system call.
type Data struct {
	Nr   int32
	Arch uint32
	IP   uint64
	Args [6]uint64
}

// word returns the 32-bit word at byte offset off (aligned, < DataSize)
// of d's in-memory layout, in host (little-endian) order.
func (d *Data) word(off uint32) uint32 {
	switch {
	case off == 0:
		return uint32(d.Nr)
	case off == 4:
		return d.Arch
	case off == 8:
		return uint32(d.IP)
	case off == 12:
		return uint32(d.IP >> 32)
	}
	a := d.Args[(off-16)/8]
	if off%8 == 0 {
		return uint32(a)
	}
	return uint32(a >> 32)
}

// Program is a checked filter program, ready to run.
type Program struct {
	insns []Instruction
}

// Len returns the program's number of instructions.
func (p *Program) Len() int { return len(p.insns) }

// DecodeProgram reads len(b)/8 struct sock_filter from b (host order).
func DecodeProgram(b []byte) []Instruction {
	out := make([]Instruction, len(b)/InstructionSize)
	for i := range out {
		e := b[i*InstructionSize:]
		out[i] = Instruction{
			Op: binary.LittleEndian.Uint16(e[0:]),
			Jt: e[2], Jf: e[3],
			K: binary.LittleEndian.Uint32(e[4:]),
		}
	}
	return out
}

// Check validates insns as the kernel's bpf_check_classic and
// seccomp_check_filter do: 1..4096 instructions, only the opcodes
// seccomp allows, loads of seccomp_data only at aligned offsets inside
// it, jumps forward and in range, no constant division by zero or shift
// of 32 or more, scratch memory read only after it is written on every
// path, and a return as the last instruction.
func Check(insns []Instruction) (*Program, error) {
	n := len(insns)
	if n == 0 || n > MaxInstructions {
		return nil, fmt.Errorf("%w: %d instructions", ErrInvalid, n)
	}
	p := &Program{insns: make([]Instruction, n)}
	copy(p.insns, insns)
	for pc := range p.insns {
		in := &p.insns[pc]
		bad := func(why string) error {
			return fmt.Errorf("%w: instruction %d (op %#x k %#x): %s", ErrInvalid, pc, in.Op, in.K, why)
		}
		switch in.Op {
		case clsRET | srcK, clsRET | retA,
			clsALU | aADD | srcX, clsALU | aSUB | srcX, clsALU | aMUL | srcX,
			clsALU | aDIV | srcX, clsALU | aAND | srcX, clsALU | aOR | srcX,
			clsALU | aXOR | srcX, clsALU | aLSH | srcX, clsALU | aRSH | srcX,
			clsALU | aADD | srcK, clsALU | aSUB | srcK, clsALU | aMUL | srcK,
			clsALU | aAND | srcK, clsALU | aOR | srcK, clsALU | aXOR | srcK,
			clsALU | aNEG,
			clsLD | mIMM, clsLDX | mIMM, clsMISC | mTAX, clsMISC | mTXA:
		case clsALU | aDIV | srcK:
			if in.K == 0 {
				return nil, bad("division by zero")
			}
		case clsALU | aLSH | srcK, clsALU | aRSH | srcK:
			if in.K >= 32 {
				return nil, bad("shift out of range")
			}
		case clsLD | szW | mABS:
			if in.K >= DataSize || in.K&3 != 0 {
				return nil, bad("load outside seccomp_data or unaligned")
			}
		case clsLD | szW | mLEN:
			// The length of seccomp_data: a constant.
			in.Op, in.K = clsLD|mIMM, DataSize
		case clsLDX | szW | mLEN:
			in.Op, in.K = clsLDX|mIMM, DataSize
		case clsLD | mMEM, clsLDX | mMEM, clsST, clsSTX:
			if in.K >= memWords {
				return nil, bad("scratch memory index out of range")
			}
		case clsJMP | jJA:
			if uint64(in.K) >= uint64(n-pc-1) {
				return nil, bad("jump out of range")
			}
		case clsJMP | jJEQ | srcK, clsJMP | jJEQ | srcX, clsJMP | jJGE | srcK,
			clsJMP | jJGE | srcX, clsJMP | jJGT | srcK, clsJMP | jJGT | srcX,
			clsJMP | jJSET | srcK, clsJMP | jJSET | srcX:
			if pc+1+int(in.Jt) >= n || pc+1+int(in.Jf) >= n {
				return nil, bad("jump out of range")
			}
		default:
			return nil, bad("opcode not allowed in seccomp filters")
		}
	}
	if c := p.insns[n-1].Op &^ 0x18; c != clsRET {
		return nil, fmt.Errorf("%w: the last instruction is not a return", ErrInvalid)
	}
	if err := checkMemory(p.insns); err != nil {
		return nil, err
	}
	return p, nil
}

// checkMemory refuses a program that may read a scratch word no path
// has written (the kernel's check_load_and_stores): each instruction
// knows the words valid on every path reaching it.
func checkMemory(insns []Instruction) error {
	valid := make([]uint16, len(insns))
	for i := range valid {
		valid[i] = 0xffff
	}
	valid[0] = 0
	for pc, in := range insns {
		v := valid[pc]
		switch in.Op {
		case clsST, clsSTX:
			v |= 1 << in.K
		case clsLD | mMEM, clsLDX | mMEM:
			if v&(1<<in.K) == 0 {
				return fmt.Errorf("%w: instruction %d reads scratch word %d before it is written", ErrInvalid, pc, in.K)
			}
		case clsJMP | jJA:
			valid[pc+1+int(in.K)] &= v
			continue
		}
		if in.Op&7 == clsJMP {
			valid[pc+1+int(in.Jt)] &= v
			valid[pc+1+int(in.Jf)] &= v
			continue
		}
		if in.Op&7 != clsRET && pc+1 < len(insns) {
			valid[pc+1] &= v
		}
	}
	return nil
}

// Run executes p on d and returns the filter's 32-bit verdict. A
// division by a zero X ends the program with 0 (SECCOMP_RET_KILL_THREAD),
// as the kernel's conversion of classic BPF does.
func (p *Program) Run(d *Data) uint32 {
	var a, x uint32
	var mem [memWords]uint32
	insns := p.insns
	for pc := 0; pc < len(insns); pc++ {
		in := &insns[pc]
		switch in.Op {
		case clsRET | srcK:
			return in.K
		case clsRET | retA:
			return a
		case clsLD | szW | mABS:
			a = d.word(in.K)
		case clsLD | mIMM:
			a = in.K
		case clsLDX | mIMM:
			x = in.K
		case clsLD | mMEM:
			a = mem[in.K]
		case clsLDX | mMEM:
			x = mem[in.K]
		case clsST:
			mem[in.K] = a
		case clsSTX:
			mem[in.K] = x
		case clsMISC | mTAX:
			x = a
		case clsMISC | mTXA:
			a = x
		case clsALU | aNEG:
			a = -a
		case clsJMP | jJA:
			pc += int(in.K)
		default:
			src := in.K
			if in.Op&srcX != 0 {
				src = x
			}
			switch in.Op &^ srcX {
			case clsALU | aADD:
				a += src
			case clsALU | aSUB:
				a -= src
			case clsALU | aMUL:
				a *= src
			case clsALU | aDIV:
				if src == 0 {
					return 0
				}
				a /= src
			case clsALU | aAND:
				a &= src
			case clsALU | aOR:
				a |= src
			case clsALU | aXOR:
				a ^= src
			case clsALU | aLSH:
				a <<= src & 31
			case clsALU | aRSH:
				a >>= src & 31
			case clsJMP | jJEQ, clsJMP | jJGT, clsJMP | jJGE, clsJMP | jJSET:
				var taken bool
				switch in.Op &^ srcX {
				case clsJMP | jJEQ:
					taken = a == src
				case clsJMP | jJGT:
					taken = a > src
				case clsJMP | jJGE:
					taken = a >= src
				default:
					taken = a&src != 0
				}
				if taken {
					pc += int(in.Jt)
				} else {
					pc += int(in.Jf)
				}
			}
		}
	}
	// Check guarantees a return: not reached.
	return 0
}
