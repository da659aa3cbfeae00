package seccomp

import (
	"errors"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func stmt(op uint16, k uint32) Instruction { return Instruction{Op: op, K: k} }

func jump(op uint16, k uint32, jt, jf uint8) Instruction {
	return Instruction{Op: op, Jt: jt, Jf: jf, K: k}
}

// denyNr returns a program answering verdict for call nr, ALLOW else.
func denyNr(t *testing.T, nr, verdict uint32) *Program {
	t.Helper()
	p, err := Check([]Instruction{
		stmt(clsLD|szW|mABS, 0),
		jump(clsJMP|jJEQ|srcK, nr, 0, 1),
		stmt(clsRET|srcK, verdict),
		stmt(clsRET|srcK, RetAllow),
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckRefuses(t *testing.T) {
	ret := stmt(clsRET|srcK, RetAllow)
	for name, prog := range map[string][]Instruction{
		"empty":          nil,
		"too long":       make([]Instruction, MaxInstructions+1),
		"no return":      {stmt(clsLD|szW|mABS, 0)},
		"jump past end":  {jump(clsJMP|jJEQ|srcK, 0, 1, 0), ret},
		"ja past end":    {stmt(clsJMP|jJA, 1), ret},
		"load past data": {stmt(clsLD|szW|mABS, DataSize), ret},
		"unaligned load": {stmt(clsLD|szW|mABS, 6), ret},
		"byte load":      {stmt(clsLD|0x10|mABS, 0), ret},
		"div by zero":    {stmt(clsALU|aDIV|srcK, 0), ret},
		"shift 32":       {stmt(clsALU|aLSH|srcK, 32), ret},
		"mod":            {stmt(clsALU|0x90|srcK, 3), ret},
		"mem index":      {stmt(clsST, memWords), ret},
		"unwritten mem":  {stmt(clsLD|mMEM, 2), ret},
		"mem one path":   {jump(clsJMP|jJEQ|srcK, 0, 0, 1), stmt(clsST, 1), stmt(clsLD|mMEM, 1), ret},
	} {
		if _, err := Check(prog); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Check = %v, want ErrInvalid", name, err)
		}
	}
}

func TestRun(t *testing.T) {
	p, err := Check([]Instruction{
		stmt(clsLD|szW|mABS, 16+8+4), // args[1] high word
		stmt(clsST, 0),
		stmt(clsLD|szW|mABS, 16+8), // args[1] low word
		stmt(clsALU|aADD|srcK, 1),
		stmt(clsMISC|mTAX, 0),
		stmt(clsLD|mMEM, 0),
		stmt(clsALU|aADD|srcX, 0), // high + low + 1
		stmt(clsLD|szW|mLEN, 0),   // then A = 64, X kept
		stmt(clsMISC|mTXA, 0),
		stmt(clsALU|aDIV|srcX, 0), // divides by X: 0 ends with 0
		stmt(clsALU|aOR|srcK, RetErrno),
		stmt(clsRET|retA, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	d := Data{Args: [6]uint64{0, 0x0000000700000004}}
	// X = 5, A = 5 / 5 = 1.
	if got := p.Run(&d); got != RetErrno|1 {
		t.Errorf("Run = %#x, want %#x", got, RetErrno|1)
	}
	d.Args[1] = 0xffffffff
	if got := p.Run(&d); got != RetKillThread {
		t.Errorf("division by zero X: Run = %#x, want 0", got)
	}
}

func TestChainStrictestWins(t *testing.T) {
	var c *Chain
	var err error
	for _, v := range []uint32{RetErrno | 1, RetTrap | 2, RetErrno | 3, RetLog} {
		if c, err = c.Push(denyNr(t, 39, v), false); err != nil {
			t.Fatal(err)
		}
	}
	if v, _ := c.Run(&Data{Nr: 39}); v != RetTrap|2 {
		t.Errorf("Run = %#x, want TRAP|2", v)
	}
	if v, _ := c.Run(&Data{Nr: 40}); v != RetAllow {
		t.Errorf("Run = %#x, want ALLOW", v)
	}
	c2, _ := c.Push(denyNr(t, 39, RetKillProcess), false)
	if v, _ := c2.Run(&Data{Nr: 39}); v != RetKillProcess {
		t.Errorf("Run = %#x, want KILL_PROCESS", v)
	}
	if !c2.Descends(c) || c.Descends(c2) || !c.Descends(nil) {
		t.Error("Descends is wrong")
	}
}

func TestChainTooLong(t *testing.T) {
	big := make([]Instruction, MaxInstructions)
	big[len(big)-1] = stmt(clsRET|srcK, RetAllow)
	p, err := Check(big)
	if err != nil {
		t.Fatal(err)
	}
	var c *Chain
	for i := 0; ; i++ {
		c, err = c.Push(p, false)
		if err != nil {
			if !errors.Is(err, ErrTooLong) || i != 7 {
				t.Fatalf("push %d: %v", i, err)
			}
			return
		}
	}
}

func TestFromSpec(t *testing.T) {
	names := make([]string, 300)
	names[0], names[39], names[83], names[41] = "read", "getpid", "mkdir", "socket"
	eperm, enosys := uint(1), uint(38)
	s := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir", "no_such_call"}, Action: specs.ActErrno, ErrnoRet: &eperm},
			{Names: []string{"read"}, Action: specs.ActAllow}, // the default: dropped
			{Names: []string{"socket"}, Action: specs.ActErrno, ErrnoRet: &enosys,
				Args: []specs.LinuxSeccompArg{{Index: 0, Value: 40, Op: specs.OpEqualTo}}},
			{Names: []string{"getpid"}, Action: specs.ActKillProcess, Args: []specs.LinuxSeccompArg{
				{Index: 1, Value: 0xff, ValueTwo: 0x12, Op: specs.OpMaskedEqual},
				{Index: 1, Value: 7, Op: specs.OpEqualTo}}},
		},
	}
	p, err := FromSpec(s, names)
	if err != nil {
		t.Fatal(err)
	}
	x86 := uint32(0xc000003e)
	for _, c := range []struct {
		d    Data
		want uint32
	}{
		{Data{Nr: 83, Arch: x86}, RetErrno | 1},
		{Data{Nr: 0, Arch: x86}, RetAllow},
		{Data{Nr: 41, Arch: x86, Args: [6]uint64{40}}, RetErrno | 38},
		{Data{Nr: 41, Arch: x86, Args: [6]uint64{2}}, RetAllow},
		{Data{Nr: 39, Arch: x86, Args: [6]uint64{0, 0x312}}, RetKillProcess},
		{Data{Nr: 39, Arch: x86, Args: [6]uint64{0, 7}}, RetKillProcess},
		{Data{Nr: 39, Arch: x86, Args: [6]uint64{0, 8}}, RetAllow},
		{Data{Nr: 83, Arch: 0xc00000b7}, RetKillThread},
	} {
		if got := p.Run(&c.d); got != c.want {
			t.Errorf("Run(%+v) = %#x, want %#x", c.d, got, c.want)
		}
	}
	for name, bad := range map[string]*specs.LinuxSeccomp{
		"action":   {DefaultAction: "SCMP_ACT_BOGUS"},
		"notify":   {DefaultAction: specs.ActNotify},
		"arch":     {DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_VAX"}},
		"flag":     {DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"BOGUS"}},
		"operator": {DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Op: "SCMP_CMP_BOGUS"}}}}},
		"index":    {DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}}}},
	} {
		if _, err := FromSpec(bad, names); err == nil {
			t.Errorf("%s: FromSpec accepted a bad profile", name)
		}
	}
}
