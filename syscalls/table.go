// Package syscalls is moat's system-call surface: one table per
// architecture that maps each call's number to its name, handler and
// support level, and the handlers themselves, thin and grouped by subject
// (sys_file.go, sys_mmap.go, sys_signal.go ...), on top of the sentry.
//
// The table is the allowlist: a number that is not in it is refused with
// ENOSYS by the kernel, logged once per sandbox and counted.
package syscalls

import (
	"fmt"
	"sort"
	"sync"

	"moat/platform/arch"
	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

// entry is one system call as a subject file declares it. Entries are
// declared by name only; the per-architecture numbers come from the
// numbers_*.go data, so one declaration serves amd64 and arm64 (a name the
// architecture lacks, such as open on arm64, is simply left out there).
//
// Every subject file declares a []entry list (fileSyscalls in
// table_file.go, mmSyscalls in table_mm.go ...) and allSubjects below
// concatenates them. Use keyed literals: fields may be added.
type entry struct {
	// name is the call's name as the kernel's unistd headers spell it,
	// without the __NR_ prefix ("openat", "rt_sigaction").
	name string
	// fn handles the call; nil for Refused entries.
	fn kernel.SyscallFn
	// support is Supported, Partial (say how in note) or Refused.
	support kernel.Support
	// note explains a Partial or Refused entry for `moat syscalls`.
	note string
	// errno is what a Refused entry returns (ENOSYS when zero).
	errno unix.Errno
	// args describes the arguments for --strace, comma separated, one
	// word per argument from argKinds in strace.go: "fd,path,oflags,mode".
	// Empty means "print every argument in hex".
	args string
	// ret says how --strace prints a successful result: "" (decimal),
	// "hex" (addresses: mmap, brk), "octal" (umask) or "none" (exit).
	ret string
}

// supported is a Supported entry.
func supported(name string, fn kernel.SyscallFn, args string) entry {
	return entry{name: name, fn: fn, support: kernel.Supported, args: args}
}

// partial is a Partial entry whose note says what differs from Linux.
func partial(name string, fn kernel.SyscallFn, args, note string) entry {
	return entry{name: name, fn: fn, support: kernel.Partial, args: args, note: note}
}

// returnsHex makes --strace print the result as an address.
func (e entry) returnsHex() entry { e.ret = "hex"; return e }

// returnsOctal makes --strace print the result in octal (umask).
func (e entry) returnsOctal() entry { e.ret = "octal"; return e }

// noReturn makes --strace print "= ?" (exit, exit_group).
func (e entry) noReturn() entry { e.ret = "none"; return e }

// refused is a Refused entry that fails with errno.
func refused(name string, errno unix.Errno, note string) entry {
	return entry{name: name, support: kernel.Refused, errno: errno, note: note}
}

// allSubjects lists every subject's entries. A subject file adds its list
// here; the order does not matter, a name may appear only once.
func allSubjects() [][]entry {
	return [][]entry{
		fileSyscalls,
		fsWriteSyscalls,
		fileDataSyscalls,
		pipeSyscalls,
		epollSyscalls,
		mountSyscalls,
		mmSyscalls,
		identitySyscalls,
		credsSyscalls,
		threadSyscalls,
		processSyscalls,
		futexSyscalls,
		signalSyscalls,
		timeSyscalls,
		miscSyscalls,
		socketSyscalls,
		ttySyscalls,
		timerSyscalls,
		controlSyscalls,
		schedSyscalls,
		ipcSyscalls,
		refusedSyscalls,
	}
}

// Info describes one system call of the surface for `moat syscalls` and
// the compatibility page.
type Info struct {
	Name string
	// AMD64 and ARM64 are the call's numbers, -1 where the architecture
	// has no such call (arm64 has no open, access, readlink ...).
	AMD64, ARM64 int
	Support      kernel.Support
	Note         string
	// Errno is what a Refused call returns.
	Errno unix.Errno
}

// List describes every entry of the surface, sorted by name.
func List() []Info {
	amd := numberIndex(namesX86_64[:])
	arm := numberIndex(namesAarch64[:])
	var out []Info
	for _, list := range allSubjects() {
		for _, e := range list {
			in := Info{Name: e.name, AMD64: -1, ARM64: -1, Support: e.support, Note: e.note}
			if n, ok := amd[e.name]; ok {
				in.AMD64 = n
			}
			if n, ok := arm[e.name]; ok {
				in.ARM64 = n
			}
			if e.support == kernel.Refused {
				in.Errno = refusedErrno(e)
			}
			out = append(out, in)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

var (
	tableOnce sync.Once
	table     *kernel.SyscallTable
	tableErr  error
)

// Table returns the system-call table of the host architecture. It is
// built once; every sandbox shares it (it is read-only).
func Table() *kernel.SyscallTable {
	tableOnce.Do(func() { table, tableErr = build(arch.Name, hostNames) })
	if tableErr != nil {
		// The table is compiled in: an inconsistency is a moat bug that
		// the unit tests catch, never something app input can cause.
		panic(tableErr)
	}
	return table
}

// build makes the table for one architecture from the subject lists.
// Entries whose name the architecture lacks are skipped.
func build(archName string, names []string) (*kernel.SyscallTable, error) {
	idx := numberIndex(names)
	t := &kernel.SyscallTable{Arch: archName, Table: make([]kernel.Syscall, len(names)), Names: names}
	seen := map[string]bool{}
	fmts := make([]straceFormat, len(names))
	for _, list := range allSubjects() {
		for _, e := range list {
			if seen[e.name] {
				return nil, fmt.Errorf("syscall %q: declared twice", e.name)
			}
			seen[e.name] = true
			if e.support != kernel.Refused && e.fn == nil {
				return nil, fmt.Errorf("syscall %q: no handler", e.name)
			}
			nr, ok := idx[e.name]
			if !ok {
				if _, other := numberIndex(namesX86_64[:])[e.name]; other {
					continue
				}
				if _, other := numberIndex(namesAarch64[:])[e.name]; other {
					continue
				}
				return nil, fmt.Errorf("syscall %q: unknown on every architecture", e.name)
			}
			f, err := parseFormat(e)
			if err != nil {
				return nil, err
			}
			fmts[nr] = f
			t.Table[nr] = kernel.Syscall{Name: e.name, Fn: e.fn, Support: e.support, Note: e.note}
			if e.support == kernel.Refused {
				t.Table[nr].Errno = refusedErrno(e)
			}
		}
	}
	t.Strace = func(s *kernel.StraceCall) { formatCall(s, names, fmts) }
	return t, nil
}

// refusedErrno is the errno a Refused entry returns.
func refusedErrno(e entry) unix.Errno {
	if e.errno == 0 {
		return unix.ENOSYS
	}
	return e.errno
}

// numberIndex inverts a number → name array.
func numberIndex(names []string) map[string]int {
	m := make(map[string]int, len(names))
	for nr, n := range names {
		if n != "" {
			m[n] = nr
		}
	}
	return m
}
