package proc

import (
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"time"

	"moat/sentry/fs/pseudo"
)

// moat's kernel identity, as uname(2) reports it (syscalls/sys_identity.go
// holds the same values; keep them together).
const (
	osType      = "Linux"
	osRelease   = "6.1.0-moat"
	osVersion   = "#1 SMP moat"
	versionLine = "Linux version " + osRelease + " (moat@moat) (go) " + osVersion + "\n"
)

// filesystems lists the file system types the sandbox can mount.
const filesystems = "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\tpipefs\nnodev\tdevpts\nnodev\toverlay\nnodev\t9p\n"

// readHostCPUInfo returns the host's /proc/cpuinfo, read now (proc is made
// before the sentry pivots into its empty root), or a minimal one.
func readHostCPUInfo() []byte {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil && len(b) > 0 {
		return b
	}
	return []byte("processor\t: 0\nvendor_id\t: moat\nmodel name\t: moat virtual CPU\n\n")
}

func (p *procFS) loadavg() ([]byte, error) {
	n := len(p.src.PIDs())
	return []byte(fmt.Sprintf("0.00 0.00 0.00 1/%d %d\n", n, lastPID(p.src))), nil
}

// lastPID is the most recent PID handed out, as far as proc can tell.
func lastPID(src Source) int32 {
	pids := src.PIDs()
	if len(pids) == 0 {
		return 0
	}
	return pids[len(pids)-1]
}

func (p *procFS) uptime() ([]byte, error) {
	up := p.src.Uptime().Seconds()
	idle := up * float64(p.src.NumCPU())
	return []byte(fmt.Sprintf("%.2f %.2f\n", up, idle)), nil
}

func (p *procFS) meminfo() ([]byte, error) {
	m := p.src.Memory()
	kb := func(v uint64) uint64 { return v / 1024 }
	var b strings.Builder
	line := func(name string, v uint64) { fmt.Fprintf(&b, "%-16s%8d kB\n", name+":", v) }
	line("MemTotal", kb(m.Total))
	line("MemFree", kb(m.Free))
	line("MemAvailable", kb(m.Available))
	line("Buffers", kb(m.Buffers))
	line("Cached", kb(m.Cached))
	line("SwapCached", 0)
	line("Active", 0)
	line("Inactive", 0)
	line("SwapTotal", kb(m.SwapTotal))
	line("SwapFree", kb(m.SwapFree))
	line("Dirty", 0)
	line("Writeback", 0)
	line("AnonPages", 0)
	line("Mapped", 0)
	line("Shmem", kb(m.Shared))
	line("CommitLimit", kb(m.Total/2+m.SwapTotal))
	line("Committed_AS", 0)
	line("VmallocTotal", 34359738367)
	line("VmallocUsed", 0)
	line("VmallocChunk", 0)
	line("HugePages_Total", 0)
	b.WriteString("Hugepagesize:       2048 kB\n")
	return []byte(b.String()), nil
}

// stat is /proc/stat: the sandbox has no CPU accounting, so the times are
// the uptime spread over the CPUs as idle time.
func (p *procFS) stat() ([]byte, error) {
	ticks := uint64(p.src.Uptime().Seconds() * 100)
	var b strings.Builder
	n := p.src.NumCPU()
	fmt.Fprintf(&b, "cpu  0 0 0 %d 0 0 0 0 0 0\n", ticks*uint64(n))
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "cpu%d 0 0 0 %d 0 0 0 0 0 0\n", i, ticks)
	}
	fmt.Fprintf(&b, "intr 0\nctxt 0\nbtime %d\nprocesses %d\nprocs_running 1\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
		bootTime(p.src), lastPID(p.src))
	return []byte(b.String()), nil
}

// bootTime is when the sandbox booted, in seconds since the epoch.
func bootTime(src Source) int64 {
	return time.Now().Add(-src.Uptime()).Unix()
}

// newUUID returns a random (version 4) UUID as random/uuid prints it.
func newUUID() string {
	var u [16]byte
	rand.Read(u[:]) // crypto/rand.Read never fails on Linux.
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x\n", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// sysEntries lists /proc/sys and below: the values glibc, Python and
// coreutils read. All are read-only.
func (p *procFS) sysEntries(dir string) []pseudo.Entry {
	switch dir {
	case "/sys":
		return []pseudo.Entry{
			p.subdir(dir, "fs", p.sysEntries),
			p.subdir(dir, "kernel", p.sysEntries),
			p.subdir(dir, "net", p.sysEntries),
			p.subdir(dir, "vm", p.sysEntries),
		}
	case "/sys/fs":
		return []pseudo.Entry{
			p.sysctl(dir, "file-max", static("9223372036854775807\n")),
			p.subdir(dir, "mqueue", p.sysEntries),
			p.sysctl(dir, "nr_open", static("1048576\n")),
			p.sysctl(dir, "pipe-max-size", static("1048576\n")),
		}
	case "/sys/fs/mqueue":
		// POSIX message queue limits (sentry/kernel/mq), fixed.
		return []pseudo.Entry{
			p.sysctl(dir, "msg_default", static("10\n")),
			p.sysctl(dir, "msg_max", static("10\n")),
			p.sysctl(dir, "msgsize_default", static("8192\n")),
			p.sysctl(dir, "msgsize_max", static("8192\n")),
			p.sysctl(dir, "queues_max", static("256\n")),
		}
	case "/sys/kernel":
		// msg*, sem and shm* are System V IPC's limits
		// (sentry/kernel/ipc): Linux's defaults, fixed.
		return []pseudo.Entry{
			p.sysctl(dir, "cap_last_cap", static("40\n")),
			p.sysctl(dir, "hostname", func() ([]byte, error) { return []byte(p.src.Hostname() + "\n"), nil }),
			p.sysctl(dir, "msgmax", static("8192\n")),
			p.sysctl(dir, "msgmnb", static("16384\n")),
			p.sysctl(dir, "msgmni", static("32000\n")),
			p.sysctl(dir, "ngroups_max", static("65536\n")),
			p.sysctl(dir, "osrelease", static(osRelease+"\n")),
			p.sysctl(dir, "ostype", static(osType+"\n")),
			p.sysctl(dir, "pid_max", static("4194304\n")),
			p.subdir(dir, "random", p.sysEntries),
			p.sysctl(dir, "sem", static("32000\t1024000000\t500\t32000\n")),
			p.sysctl(dir, "shmall", static("18446744073692774399\n")),
			p.sysctl(dir, "shmmax", static("18446744073692774399\n")),
			p.sysctl(dir, "shmmni", static("4096\n")),
			p.sysctl(dir, "version", static(osVersion+"\n")),
		}
	case "/sys/kernel/random":
		return []pseudo.Entry{
			p.sysctl(dir, "boot_id", func() ([]byte, error) { return []byte(p.bootID()), nil }),
			p.sysctl(dir, "uuid", func() ([]byte, error) { return []byte(newUUID()), nil }),
		}
	case "/sys/net":
		return []pseudo.Entry{p.subdir(dir, "core", p.sysEntries)}
	case "/sys/net/core":
		return []pseudo.Entry{p.sysctl(dir, "somaxconn", static("4096\n"))}
	case "/sys/vm":
		return []pseudo.Entry{
			p.sysctl(dir, "max_map_count", static("65530\n")),
			p.sysctl(dir, "overcommit_memory", static("0\n")),
		}
	}
	return nil
}

// bootID returns the sandbox's boot_id, made at the first read.
func (p *procFS) bootID() string {
	p.bootOnce.Do(func() { p.boot = newUUID() })
	return p.boot
}
