package syscalls

import (
	"fmt"
	"strconv"
	"strings"

	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

// argKind says how --strace prints one argument.
type argKind uint8

// The argument kinds, named in entry.args by the words in argKinds.
const (
	argHex       argKind = iota // any value, hex
	argInt                      // signed 32-bit decimal
	argUint                     // unsigned decimal
	argPtr                      // a pointer: hex, NULL for 0
	argFD                       // a descriptor; AT_FDCWD by name
	argPath                     // a NUL-terminated string read from memory
	argWBuf                     // a buffer of the next argument's length, read before the call
	argRBuf                     // a buffer the call filled: the result's length
	argMode                     // octal
	argOFlags                   // open flags
	argAtFlags                  // AT_* flags
	argProt                     // PROT_*
	argMapFlags                 // MAP_*
	argSignal                   // a signal number by name
	argSigHow                   // SIG_BLOCK ...
	argClockID                  // CLOCK_*
	argTimespec                 // struct timespec read from memory
	argRlimit                   // RLIMIT_*
	argFutexOp                  // FUTEX_*
	argGrndFlags                // GRND_*
)

// argKinds maps the words of entry.args to kinds.
var argKinds = map[string]argKind{
	"hex": argHex, "int": argInt, "uint": argUint, "size": argUint, "ptr": argPtr,
	"fd": argFD, "path": argPath, "str": argPath, "wbuf": argWBuf, "rbuf": argRBuf,
	"mode": argMode, "oflags": argOFlags, "atflags": argAtFlags, "prot": argProt,
	"mapflags": argMapFlags, "signal": argSignal, "sighow": argSigHow,
	"clockid": argClockID, "timespec": argTimespec, "rlimit": argRlimit,
	"futexop": argFutexOp, "grndflags": argGrndFlags,
}

// straceFormat is an entry's parsed --strace description.
type straceFormat struct {
	name string
	args []argKind
	ret  string
}

// parseFormat parses e.args; unknown words are an error (caught by the
// table tests, since tables are built from compiled-in data).
func parseFormat(e entry) (straceFormat, error) {
	f := straceFormat{name: e.name, ret: e.ret}
	switch e.ret {
	case "", "hex", "octal", "none":
	default:
		return f, fmt.Errorf("syscall %q: unknown strace result format %q", e.name, e.ret)
	}
	if e.args == "" {
		return f, nil
	}
	for _, w := range strings.Split(e.args, ",") {
		k, ok := argKinds[w]
		if !ok {
			return f, fmt.Errorf("syscall %q: unknown strace argument kind %q", e.name, w)
		}
		f.args = append(f.args, k)
	}
	if len(f.args) > 6 {
		return f, fmt.Errorf("syscall %q: more than 6 arguments", e.name)
	}
	return f, nil
}

// maxStraceString is how many bytes of a string or buffer strace shows.
const maxStraceString = 32

// formatCall appends the --strace line of one finished call to c.Buf:
// "[pid:tid] name(args...) = result".
func formatCall(c *kernel.StraceCall, names []string, fmts []straceFormat) {
	b := c.Buf
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(c.Task.PID()), 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(c.Task.TID()), 10)
	b = append(b, "] "...)
	var f straceFormat
	if c.Sysno < uintptr(len(fmts)) {
		f = fmts[c.Sysno]
	}
	name := f.name
	if name == "" && c.Sysno < uintptr(len(names)) {
		name = names[c.Sysno]
	}
	if name == "" {
		name = "syscall_" + strconv.FormatUint(uint64(c.Sysno), 10)
	}
	b = append(b, name...)
	b = append(b, '(')
	for i, k := range f.args {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendArg(b, c, i, k)
	}
	b = append(b, ") = "...)
	b = appendResult(b, c, f.ret)
	b = append(b, '\n')
	c.Buf = b
}

// appendResult formats the result: value or "-1 ENAME (message)".
func appendResult(b []byte, c *kernel.StraceCall, ret string) []byte {
	if c.Err == kernel.ErrNoReturn {
		return append(b, '?')
	}
	if errno, ok := c.Err.(unix.Errno); ok {
		b = append(b, "-1 "...)
		name := unix.ErrnoName(errno)
		if name == "" {
			name = "E" + strconv.Itoa(int(errno))
		}
		b = append(b, name...)
		b = append(b, " ("...)
		b = appendCapitalized(b, errno.Error())
		return append(b, ')')
	}
	switch ret {
	case "hex":
		return append(append(b, "0x"...), strconv.FormatUint(uint64(c.Ret), 16)...)
	case "octal":
		return append(append(b, '0'), strconv.FormatUint(uint64(c.Ret), 8)...)
	}
	return strconv.AppendInt(b, int64(c.Ret), 10)
}

// appendCapitalized appends s with its first letter upper-cased, as libc's
// strerror spells messages.
func appendCapitalized(b []byte, s string) []byte {
	if s == "" {
		return b
	}
	if s[0] >= 'a' && s[0] <= 'z' {
		b = append(b, s[0]-'a'+'A')
		return append(b, s[1:]...)
	}
	return append(b, s...)
}

// appendArg formats argument i of kind k.
func appendArg(b []byte, c *kernel.StraceCall, i int, k argKind) []byte {
	v := c.Args[i]
	switch k {
	case argInt:
		return strconv.AppendInt(b, int64(int32(v)), 10)
	case argUint:
		return strconv.AppendUint(b, uint64(v), 10)
	case argPtr:
		if v == 0 {
			return append(b, "NULL"...)
		}
		return appendHex(b, v)
	case argFD:
		if int32(v) == unix.AT_FDCWD {
			return append(b, "AT_FDCWD"...)
		}
		return strconv.AppendInt(b, int64(int32(v)), 10)
	case argPath:
		if v == 0 {
			return append(b, "NULL"...)
		}
		s, err := c.Task.CopyInString(v, 4096)
		if err != nil {
			return appendHex(b, v)
		}
		return appendQuoted(b, []byte(s), len(s))
	case argWBuf, argRBuf:
		n := uintptr(0)
		if k == argWBuf && i+1 < len(c.Args) {
			n = c.Args[i+1]
		} else if k == argRBuf && c.Err == nil {
			n = c.Ret
		}
		return appendBuffer(b, c.Task, v, n)
	case argMode:
		return append(append(b, '0'), strconv.FormatUint(uint64(v), 8)...)
	case argOFlags:
		return appendOpenFlags(b, int(int32(v)))
	case argAtFlags:
		return appendFlags(b, uint64(uint32(v)), atFlagNames)
	case argProt:
		if v == 0 {
			return append(b, "PROT_NONE"...)
		}
		return appendFlags(b, uint64(v), protNames)
	case argMapFlags:
		return appendMapFlags(b, uint64(uint32(v)))
	case argSignal:
		return appendSignal(b, unix.Signal(int32(v)))
	case argSigHow:
		return appendEnum(b, int64(int32(v)), sigHowNames)
	case argClockID:
		return appendEnum(b, int64(int32(v)), clockNames)
	case argRlimit:
		return appendEnum(b, int64(int32(v)), rlimitNames)
	case argFutexOp:
		return appendFutexOp(b, int(int32(v)))
	case argGrndFlags:
		if v == 0 {
			return append(b, '0')
		}
		return appendFlags(b, uint64(v), grndNames)
	case argTimespec:
		if v == 0 {
			return append(b, "NULL"...)
		}
		var raw [16]byte
		if _, err := c.Task.CopyIn(v, raw[:]); err != nil {
			return appendHex(b, v)
		}
		b = append(b, "{tv_sec="...)
		b = strconv.AppendInt(b, int64(le.Uint64(raw[:])), 10)
		b = append(b, ", tv_nsec="...)
		b = strconv.AppendInt(b, int64(le.Uint64(raw[8:])), 10)
		return append(b, '}')
	}
	return appendHex(b, v)
}

func appendHex(b []byte, v uintptr) []byte {
	return strconv.AppendUint(append(b, "0x"...), uint64(v), 16)
}

// appendBuffer shows up to maxStraceString bytes of application memory.
func appendBuffer(b []byte, t *kernel.Task, addr, n uintptr) []byte {
	var raw [maxStraceString]byte
	show := n
	if show > maxStraceString {
		show = maxStraceString
	}
	got, err := t.CopyIn(addr, raw[:show])
	if err != nil && got == 0 && show > 0 {
		return appendHex(b, addr)
	}
	return appendQuoted(b, raw[:got], int(n))
}

// appendQuoted quotes p as C would write it; total > len(p) adds "...".
func appendQuoted(b []byte, p []byte, total int) []byte {
	b = append(b, '"')
	for _, ch := range p {
		switch {
		case ch == '"' || ch == '\\':
			b = append(b, '\\', ch)
		case ch == '\n':
			b = append(b, '\\', 'n')
		case ch == '\t':
			b = append(b, '\\', 't')
		case ch < 0x20 || ch >= 0x7f:
			b = append(b, '\\', 'x', "0123456789abcdef"[ch>>4], "0123456789abcdef"[ch&15])
		default:
			b = append(b, ch)
		}
	}
	b = append(b, '"')
	if total > len(p) {
		b = append(b, "..."...)
	}
	return b
}

// flagName is one bit (or value) with its name.
type flagName struct {
	v    uint64
	name string
}

// appendFlags prints the set bits of v by name joined with "|", and any
// unnamed rest in hex.
func appendFlags(b []byte, v uint64, names []flagName) []byte {
	if v == 0 {
		return append(b, '0')
	}
	first := true
	for _, n := range names {
		if n.v != 0 && v&n.v == n.v {
			if !first {
				b = append(b, '|')
			}
			b = append(b, n.name...)
			first = false
			v &^= n.v
		}
	}
	if v != 0 {
		if !first {
			b = append(b, '|')
		}
		b = strconv.AppendUint(append(b, "0x"...), v, 16)
	}
	return b
}

// appendEnum prints v by name, or as a number.
func appendEnum(b []byte, v int64, names []flagName) []byte {
	for _, n := range names {
		if int64(n.v) == v {
			return append(b, n.name...)
		}
	}
	return strconv.AppendInt(b, v, 10)
}

func appendOpenFlags(b []byte, v int) []byte {
	switch v & unix.O_ACCMODE {
	case unix.O_RDONLY:
		b = append(b, "O_RDONLY"...)
	case unix.O_WRONLY:
		b = append(b, "O_WRONLY"...)
	case unix.O_RDWR:
		b = append(b, "O_RDWR"...)
	default:
		b = append(b, "O_ACCMODE"...)
	}
	rest := uint64(uint32(v &^ unix.O_ACCMODE))
	if rest == 0 {
		return b
	}
	return appendFlags(append(b, '|'), rest, openFlagNames)
}

func appendMapFlags(b []byte, v uint64) []byte {
	switch v & mapTypeMask {
	case unix.MAP_SHARED:
		b = append(b, "MAP_SHARED"...)
	case unix.MAP_PRIVATE:
		b = append(b, "MAP_PRIVATE"...)
	case mapSharedValidate:
		b = append(b, "MAP_SHARED_VALIDATE"...)
	default:
		b = append(b, '0')
	}
	rest := v &^ mapTypeMask
	if rest == 0 {
		return b
	}
	return appendFlags(append(b, '|'), rest, mapFlagNames)
}

func appendSignal(b []byte, sig unix.Signal) []byte {
	if name := unix.SignalName(sig); name != "" {
		return append(b, name...)
	}
	if sig >= 34 && sig <= 64 {
		return strconv.AppendInt(append(b, "SIGRT_"...), int64(sig-34), 10)
	}
	return strconv.AppendInt(b, int64(sig), 10)
}

func appendFutexOp(b []byte, op int) []byte {
	b = appendEnum(b, int64(op&futexCmdMask), futexOpNames)
	if op&futexPrivateFlag != 0 {
		b = append(b, "_PRIVATE"...)
	}
	if op&futexClockRealtime != 0 {
		b = append(b, "|FUTEX_CLOCK_REALTIME"...)
	}
	return b
}

var openFlagNames = []flagName{
	{unix.O_CREAT, "O_CREAT"}, {unix.O_EXCL, "O_EXCL"}, {unix.O_NOCTTY, "O_NOCTTY"},
	{unix.O_TRUNC, "O_TRUNC"}, {unix.O_APPEND, "O_APPEND"}, {unix.O_NONBLOCK, "O_NONBLOCK"},
	{unix.O_DSYNC, "O_DSYNC"}, {unix.O_DIRECT, "O_DIRECT"}, {unix.O_LARGEFILE, "O_LARGEFILE"},
	{unix.O_DIRECTORY, "O_DIRECTORY"}, {unix.O_NOFOLLOW, "O_NOFOLLOW"}, {unix.O_NOATIME, "O_NOATIME"},
	{unix.O_CLOEXEC, "O_CLOEXEC"}, {unix.O_PATH, "O_PATH"}, {unix.O_TMPFILE &^ unix.O_DIRECTORY, "O_TMPFILE"},
	{unix.O_SYNC &^ unix.O_DSYNC, "O_SYNC"},
}

var atFlagNames = []flagName{
	{unix.AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"}, {unix.AT_REMOVEDIR, "AT_REMOVEDIR"},
	{unix.AT_SYMLINK_FOLLOW, "AT_SYMLINK_FOLLOW"}, {unix.AT_NO_AUTOMOUNT, "AT_NO_AUTOMOUNT"},
	{unix.AT_EMPTY_PATH, "AT_EMPTY_PATH"}, {unix.AT_STATX_FORCE_SYNC, "AT_STATX_FORCE_SYNC"},
	{unix.AT_STATX_DONT_SYNC, "AT_STATX_DONT_SYNC"},
}

var protNames = []flagName{
	{unix.PROT_READ, "PROT_READ"}, {unix.PROT_WRITE, "PROT_WRITE"}, {unix.PROT_EXEC, "PROT_EXEC"},
	{unix.PROT_GROWSDOWN, "PROT_GROWSDOWN"}, {unix.PROT_GROWSUP, "PROT_GROWSUP"},
}

var mapFlagNames = []flagName{
	{unix.MAP_FIXED, "MAP_FIXED"}, {unix.MAP_ANONYMOUS, "MAP_ANONYMOUS"},
	{unix.MAP_GROWSDOWN, "MAP_GROWSDOWN"}, {unix.MAP_DENYWRITE, "MAP_DENYWRITE"},
	{unix.MAP_EXECUTABLE, "MAP_EXECUTABLE"}, {unix.MAP_LOCKED, "MAP_LOCKED"},
	{unix.MAP_NORESERVE, "MAP_NORESERVE"}, {unix.MAP_POPULATE, "MAP_POPULATE"},
	{unix.MAP_NONBLOCK, "MAP_NONBLOCK"}, {unix.MAP_STACK, "MAP_STACK"},
	{unix.MAP_HUGETLB, "MAP_HUGETLB"}, {mapFixedNoreplace, "MAP_FIXED_NOREPLACE"},
}

var sigHowNames = []flagName{
	{kernel.SIG_BLOCK, "SIG_BLOCK"}, {kernel.SIG_UNBLOCK, "SIG_UNBLOCK"}, {kernel.SIG_SETMASK, "SIG_SETMASK"},
}

var clockNames = []flagName{
	{unix.CLOCK_REALTIME, "CLOCK_REALTIME"}, {unix.CLOCK_MONOTONIC, "CLOCK_MONOTONIC"},
	{unix.CLOCK_PROCESS_CPUTIME_ID, "CLOCK_PROCESS_CPUTIME_ID"},
	{unix.CLOCK_THREAD_CPUTIME_ID, "CLOCK_THREAD_CPUTIME_ID"},
	{unix.CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW"}, {unix.CLOCK_REALTIME_COARSE, "CLOCK_REALTIME_COARSE"},
	{unix.CLOCK_MONOTONIC_COARSE, "CLOCK_MONOTONIC_COARSE"}, {unix.CLOCK_BOOTTIME, "CLOCK_BOOTTIME"},
	{unix.CLOCK_TAI, "CLOCK_TAI"},
}

var rlimitNames = []flagName{
	{0, "RLIMIT_CPU"}, {1, "RLIMIT_FSIZE"}, {2, "RLIMIT_DATA"}, {3, "RLIMIT_STACK"},
	{4, "RLIMIT_CORE"}, {5, "RLIMIT_RSS"}, {6, "RLIMIT_NPROC"}, {7, "RLIMIT_NOFILE"},
	{8, "RLIMIT_MEMLOCK"}, {9, "RLIMIT_AS"}, {10, "RLIMIT_LOCKS"}, {11, "RLIMIT_SIGPENDING"},
	{12, "RLIMIT_MSGQUEUE"}, {13, "RLIMIT_NICE"}, {14, "RLIMIT_RTPRIO"}, {15, "RLIMIT_RTTIME"},
}

var futexOpNames = []flagName{
	{futexWait, "FUTEX_WAIT"}, {futexWake, "FUTEX_WAKE"}, {2, "FUTEX_FD"}, {3, "FUTEX_REQUEUE"},
	{4, "FUTEX_CMP_REQUEUE"}, {5, "FUTEX_WAKE_OP"}, {6, "FUTEX_LOCK_PI"}, {7, "FUTEX_UNLOCK_PI"},
	{8, "FUTEX_TRYLOCK_PI"}, {futexWaitBitset, "FUTEX_WAIT_BITSET"}, {futexWakeBitset, "FUTEX_WAKE_BITSET"},
}

var grndNames = []flagName{
	{grndNonblock, "GRND_NONBLOCK"}, {grndRandom, "GRND_RANDOM"}, {grndInsecure, "GRND_INSECURE"},
}
