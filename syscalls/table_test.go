package syscalls

import (
	"os"
	"regexp"
	"strconv"
	"testing"

	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

// TestBuildBothArches builds the table for both architectures: no
// duplicate names, a handler for every non-refused entry, parseable
// strace formats.
func TestBuildBothArches(t *testing.T) {
	for _, c := range []struct {
		arch  string
		names []string
	}{{"x86_64", namesX86_64[:]}, {"aarch64", namesAarch64[:]}} {
		tab, err := build(c.arch, c.names)
		if err != nil {
			t.Fatalf("%s: %v", c.arch, err)
		}
		n := 0
		for nr, e := range tab.Table {
			if e.Name == "" {
				continue
			}
			n++
			if e.Name != c.names[nr] {
				t.Errorf("%s: entry %d is %q, number belongs to %q", c.arch, nr, e.Name, c.names[nr])
			}
			if e.Support == kernel.Refused && e.Errno == 0 {
				t.Errorf("%s: refused %q without errno", c.arch, e.Name)
			}
			if e.Support != kernel.Refused && e.Fn == nil {
				t.Errorf("%s: %q has no handler", c.arch, e.Name)
			}
		}
		if n < 50 {
			t.Errorf("%s: only %d entries", c.arch, n)
		}
	}
}

// TestNumbersMatchHeaders checks a sample of numbers against the
// installed kernel headers, and that no number names two calls.
func TestNumbersMatchHeaders(t *testing.T) {
	for _, c := range []struct {
		header string
		names  []string
		sample []string
	}{
		{"/usr/include/x86_64-linux-gnu/asm/unistd_64.h", namesX86_64[:], []string{"read", "open", "mmap", "exit_group", "rseq", "clone3", "futex_waitv"}},
		{"/usr/aarch64-linux-gnu/include/asm-generic/unistd.h", namesAarch64[:], []string{"openat", "exit_group", "rseq", "clone3", "getrandom"}},
	} {
		data, err := os.ReadFile(c.header)
		if err != nil {
			t.Logf("skipping %s: %v", c.header, err)
			continue
		}
		idx := numberIndex(c.names)
		if len(idx) != countNonEmpty(c.names) {
			t.Errorf("%s: a name appears under two numbers", c.header)
		}
		for _, name := range c.sample {
			m := regexp.MustCompile(`#define __NR_` + name + `\s+(\d+)`).FindSubmatch(data)
			if m == nil {
				t.Errorf("%s: no __NR_%s", c.header, name)
				continue
			}
			want, _ := strconv.Atoi(string(m[1]))
			if got, ok := idx[name]; !ok || got != want {
				t.Errorf("%s: %s = %d, %v; header says %d", c.header, name, got, ok, want)
			}
		}
	}
}

func countNonEmpty(s []string) int {
	n := 0
	for _, v := range s {
		if v != "" {
			n++
		}
	}
	return n
}

func TestList(t *testing.T) {
	byName := map[string]Info{}
	for _, in := range List() {
		byName[in.Name] = in
	}
	cases := []struct {
		name       string
		amd64, arm int
		support    kernel.Support
		errno      unix.Errno
	}{
		{"arch_prctl", 158, -1, kernel.Partial, 0},
		{"getpid", 39, 172, kernel.Supported, 0},
		{"mount", 165, 40, kernel.Refused, unix.EPERM},
		{"rseq", 334, 293, kernel.Refused, unix.ENOSYS},
	}
	for _, c := range cases {
		in, ok := byName[c.name]
		if !ok {
			t.Errorf("%s missing from List", c.name)
			continue
		}
		if in.AMD64 != c.amd64 || in.ARM64 != c.arm || in.Support != c.support || in.Errno != c.errno {
			t.Errorf("%s: got %+v", c.name, in)
		}
	}
}

func TestParseFormatRejectsUnknown(t *testing.T) {
	if _, err := parseFormat(entry{name: "x", args: "fd,bogus"}); err == nil {
		t.Error("unknown argument kind accepted")
	}
	if _, err := parseFormat(entry{name: "x", ret: "weird"}); err == nil {
		t.Error("unknown result format accepted")
	}
}

func TestStraceResult(t *testing.T) {
	cases := []struct {
		c    kernel.StraceCall
		ret  string
		want string
	}{
		{kernel.StraceCall{Ret: 3}, "", "3"},
		{kernel.StraceCall{Err: unix.ENOENT}, "", "-1 ENOENT (No such file or directory)"},
		{kernel.StraceCall{Ret: 0x7f0000}, "hex", "0x7f0000"},
		{kernel.StraceCall{Ret: 0o22}, "octal", "022"},
		{kernel.StraceCall{Err: kernel.ErrNoReturn}, "none", "?"},
	}
	for _, c := range cases {
		if got := string(appendResult(nil, &c.c, c.ret)); got != c.want {
			t.Errorf("result %+v: got %q, want %q", c.c, got, c.want)
		}
	}
}

func TestStraceFlags(t *testing.T) {
	cases := []struct {
		got, want string
	}{
		{string(appendOpenFlags(nil, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_DIRECTORY)), "O_RDONLY|O_DIRECTORY|O_CLOEXEC"},
		{string(appendOpenFlags(nil, unix.O_WRONLY)), "O_WRONLY"},
		{string(appendMapFlags(nil, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)), "MAP_PRIVATE|MAP_ANONYMOUS"},
		{string(appendFlags(nil, unix.PROT_READ|unix.PROT_WRITE|0x100, protNames)), "PROT_READ|PROT_WRITE|0x100"},
		{string(appendSignal(nil, unix.SIGTERM)), "SIGTERM"},
		{string(appendEnum(nil, 7, rlimitNames)), "RLIMIT_NOFILE"},
		{string(appendFutexOp(nil, futexWait|futexPrivateFlag)), "FUTEX_WAIT_PRIVATE"},
		{string(appendQuoted(nil, []byte("hi\n\x01"), 10)), `"hi\n\x01"...`},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
