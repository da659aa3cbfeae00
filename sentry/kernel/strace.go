package kernel

import (
	"strconv"

	"moat/platform/arch"
)

// traceCall writes one --strace line for a finished call, through the
// table's formatter when it has one.
func (t *Task) traceCall(nr uintptr, args arch.SyscallArguments, ret uintptr, err error) {
	c := &t.strace
	c.Task, c.Sysno, c.Args, c.Ret, c.Err = t, nr, args, ret, err
	c.Buf = c.Buf[:0]
	if f := t.k.table.Strace; f != nil {
		f(c)
	} else {
		c.Buf = append(c.Buf, '[')
		c.Buf = strconv.AppendInt(c.Buf, int64(t.tg.pid), 10)
		c.Buf = append(c.Buf, ':')
		c.Buf = strconv.AppendInt(c.Buf, int64(t.tid), 10)
		c.Buf = append(c.Buf, "] syscall_"...)
		c.Buf = strconv.AppendUint(c.Buf, uint64(nr), 10)
		c.Buf = append(c.Buf, " = "...)
		c.Buf = strconv.AppendInt(c.Buf, int64(ret), 10)
		c.Buf = append(c.Buf, '\n')
	}
	t.k.straceMu.Lock()
	t.k.strace.Write(c.Buf)
	t.k.straceMu.Unlock()
}
