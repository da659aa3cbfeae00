// Package ptrace is the ptrace platform: application code runs in stub
// processes traced by the sentry, and every system call it makes stops the
// stub under PTRACE_SYSEMU before the host executes it.
//
// See ../README.md for the model (zygote, injector thread, handoff of app
// threads to their task's thread) and its invariants.
package ptrace

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"moat/platform"
)

func init() {
	platform.Register("ptrace", func() (platform.Platform, error) { return New() })
}

// HostSyscalls lists, in libseccomp's names, the host system calls the
// sentry makes on behalf of this platform once the zygote is running. The
// sentry's own seccomp filter must allow them.
//
// ptrace, kill, pidfd_send_signal and kcmp are listed here but the
// platform needs them only with the arguments HostPtraceRequests,
// HostSignals and HostKcmpTypes give: a filter should allow them with
// those arguments only.
func HostSyscalls() []string {
	return []string{
		"ptrace",            // HostPtraceRequests
		"wait4",             // stops and exits of stub threads
		"kill",              // SIGKILL of released stubs
		"pidfd_open",        // Interrupt's race-free handle on an app thread
		"pidfd_send_signal", // Interrupt and Release of app threads
		"process_vm_readv",  // ReadAt
		"process_vm_writev", // WriteAt, scratch-page structures
		"sendmsg",           // MapFile: pass the fd to the stub
		"kcmp",              // MapFile: check the fd the stub got (KCMP_FILE only)
		"close",
	}
}

// HostPtraceRequests lists every ptrace request the platform makes once
// the zygote runs. PTRACE_TRACEME, PTRACE_SEIZE and the rest are never
// needed: a filter should refuse them.
func HostPtraceRequests() []uintptr {
	return []uintptr{
		unix.PTRACE_ATTACH, unix.PTRACE_DETACH, unix.PTRACE_CONT, unix.PTRACE_SYSEMU,
		unix.PTRACE_SETOPTIONS, unix.PTRACE_GETEVENTMSG, unix.PTRACE_GETSIGINFO,
		unix.PTRACE_GETREGS, unix.PTRACE_SETREGS, unix.PTRACE_GETREGSET, unix.PTRACE_SETREGSET,
		unix.PTRACE_PEEKDATA, unix.PTRACE_POKEDATA,
		unix.PTRACE_GET_SYSCALL_INFO, // int 0x80 detection (see int80Fault)
	}
}

// HostKcmpTypes lists the kcmp(2) types the platform uses: KCMP_FILE.
func HostKcmpTypes() []uintptr { return []uintptr{kcmpFile} }

// HostSignals lists the signals the platform sends to stubs with kill and
// pidfd_send_signal: SIGKILL to end them, interruptSignal for Interrupt.
func HostSignals() []unix.Signal {
	return []unix.Signal{unix.SIGKILL, interruptSignal}
}

// Options are the settings of a ptrace platform.
type Options struct {
	// UID and GID are the identity the stubs run as, or -1 to keep the
	// sentry's. A sentry that gives up root must run as the same
	// identity, set *after* New: ptrace and process_vm_readv between
	// processes of one unprivileged user need equal uids and a dumpable
	// tracee. The stubs never have capabilities either way.
	UID, GID int
}

// Platform is the ptrace platform. Its methods may be called from any
// goroutine.
type Platform struct {
	inj    *injector
	zygote *tracee
	// sock is the sentry's end of the fd-passing socket pair.
	sock     int
	reserved []platform.Range
	vdso     uintptr

	// mu guards spaces, the live address spaces, which Close releases,
	// and closed.
	mu     sync.Mutex
	spaces map[*AddressSpace]struct{}
	closed bool
	// ia32 is set when the host may run int 0x80 as an i386 system call
	// (see hostIA32): each system-call stop is then checked for one.
	ia32 bool
	// seq numbers the fds passed to stubs (see AddressSpace.MapFile).
	// Guarded by the injector (used only on its thread).
	seq uint64
	// opts are the options New was given.
	opts Options
}

// New starts the zygote and returns the platform. It must run before the
// sentry installs its seccomp filter and while the host /proc is visible.
func New() (*Platform, error) {
	return NewWithOptions(Options{UID: -1, GID: -1})
}

// NewWithOptions is New with the stubs' identity chosen by the caller.
func NewWithOptions(opts Options) (*Platform, error) {
	if !supported {
		return nil, errUnsupported
	}
	if err := checkStubLayout(); err != nil {
		return nil, err
	}
	p := &Platform{sock: -1, spaces: map[*AddressSpace]struct{}{}, opts: opts, ia32: hostIA32()}
	inj, err := newInjector(p.startZygote)
	if err != nil {
		if p.sock >= 0 {
			unix.Close(p.sock)
		}
		return nil, err
	}
	p.inj = inj
	return p, nil
}

// startZygote runs on the injector thread: it execs the stub image traced
// by this thread in a new PID namespace and prepares it to be forked.
func (p *Platform) startZygote() (err error) {
	img := stubImage()
	mfd, err := unix.MemfdCreate("moat-stub", unix.MFD_CLOEXEC)
	if err != nil {
		return fmt.Errorf("ptrace: memfd for stub image: %w", err)
	}
	defer func() { unix.Close(mfd) }() // mfd may be replaced below
	// The child execs "/proc/self/fd/<mfd>" after os/exec has laid out
	// its fds 0-3: a memfd numbered 3 or below would be replaced by then.
	if mfd <= stubSocketFD {
		high, err := unix.FcntlInt(uintptr(mfd), unix.F_DUPFD_CLOEXEC, stubSocketFD+1)
		if err != nil {
			return fmt.Errorf("ptrace: move stub image memfd above fd %d: %w", stubSocketFD, err)
		}
		unix.Close(mfd)
		mfd = high
	}
	if _, err := unix.Write(mfd, img); err != nil {
		return fmt.Errorf("ptrace: write stub image: %w", err)
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("ptrace: fd-passing socket pair: %w", err)
	}
	p.sock = pair[0]
	stubEnd := os.NewFile(uintptr(pair[1]), "moat-stub-socket")
	defer stubEnd.Close()

	// The stubs need no capability, and execve as a non-root user gives
	// none; an empty bounding set on this thread (it is never unlocked,
	// and only the zygote is started from it) makes sure no exec by a
	// stub could ever regain one, whatever its identity.
	dropBoundingSet()
	cmd := &exec.Cmd{
		Path:       "/proc/self/fd/" + strconv.Itoa(mfd),
		Args:       []string{"moat-stub"},
		Env:        []string{},
		ExtraFiles: []*os.File{stubEnd}, // fd 3 == stubSocketFD
		SysProcAttr: &unix.SysProcAttr{
			Ptrace:     true,
			Pdeathsig:  unix.SIGKILL,
			Cloneflags: unix.CLONE_NEWPID,
			// A session (and process group) of its own, inherited by
			// every stub: a terminal's ^C or a kill of the sentry's
			// process group never reaches a stub.
			Setsid: true,
		},
	}
	if p.opts.UID >= 0 {
		// The child takes the identity before it execs the stub image
		// (os/exec: setgroups, setgid, setuid, then the parent-death
		// signal, then PTRACE_TRACEME, then execve), so the stub never
		// runs a single instruction as root and execve leaves it no
		// capability. The image is a memfd (mode 0777) the new user may
		// read and execute, so the exec keeps it dumpable.
		cmd.SysProcAttr.Credential = &syscall.Credential{
			Uid:    uint32(p.opts.UID),
			Gid:    uint32(p.opts.GID),
			Groups: []uint32{},
		}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("ptrace: start zygote: %w", err)
	}
	z := &tracee{pid: cmd.Process.Pid}
	// The zygote is reaped with wait4 on this thread; the os.Process
	// handle (a pidfd on recent Go) is not needed.
	_ = cmd.Process.Release()
	defer func() {
		if err != nil {
			z.kill()
		}
	}()
	// The exec stops the traced child with SIGTRAP before its first
	// instruction.
	if _, err := wait4(z.pid, &z.ws, 0); err != nil {
		return fmt.Errorf("ptrace: zygote %d: wait: %w", z.pid, err)
	}
	if !z.ws.Stopped() {
		return fmt.Errorf("ptrace: zygote %d did not stop after exec (status %#x)", z.pid, uint32(z.ws))
	}
	opts := unix.PTRACE_O_EXITKILL | unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_TRACEFORK |
		unix.PTRACE_O_TRACECLONE | unix.PTRACE_O_TRACEVFORK
	if err := ptrace(unix.PTRACE_SETOPTIONS, z.pid, 0, uintptr(opts)); err != nil {
		return fmt.Errorf("ptrace: zygote %d: set options: %w", z.pid, err)
	}
	if err := p.cleanZygote(z); err != nil {
		return err
	}
	p.zygote = z
	return nil
}

// dropBoundingSet empties the calling thread's capability bounding set
// (capabilities are per thread). Without CAP_SETPCAP it changes nothing:
// an unprivileged caller's stubs have no capability to lose anyway.
func dropBoundingSet() {
	for c := uintptr(0); c < 64; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, c, 0, 0, 0); err != nil {
			return // EINVAL: past the last capability; EPERM: unprivileged.
		}
	}
}

// cleanZygote leaves in the zygote only the stub pages, vdso and vvar,
// auto-reaps its children, closes its stdio, drops its capabilities and
// installs its seccomp filter.
func (p *Platform) cleanZygote(z *tracee) error {
	maps, err := readMaps(z.pid)
	if err != nil {
		return err
	}
	for _, m := range maps {
		switch {
		case m.Start >= maxUserAddress: // [vsyscall]: not ours to touch.
		case m.Start >= stubBase && m.End <= stubEnd:
			p.reserved = append(p.reserved, platform.Range{Start: m.Start, End: m.End, Name: "[moat-stub]"})
		case m.Name == "[vdso]":
			p.vdso = m.Start
			p.reserved = append(p.reserved, m)
		case strings.HasPrefix(m.Name, "[vvar"):
			p.reserved = append(p.reserved, m)
		default:
			if _, err := z.call(sysMunmap, m.Start, m.End-m.Start); err != nil {
				return fmt.Errorf("ptrace: zygote %d: munmap %#x-%#x %s: %w", z.pid, m.Start, m.End, m.Name, err)
			}
		}
	}

	// rt_sigaction(SIGCHLD, {SIG_IGN}, NULL, 8): dead stubs are reaped by
	// the kernel instead of piling up as zombies.
	sigact := [4]uint64{1 /* SIG_IGN */, 0, 0, 0}
	if err := z.writeScratch(scratchSigact, bytesOf(&sigact)); err != nil {
		return err
	}
	if _, err := z.call(sysSigaction, uintptr(unix.SIGCHLD), scratchBase+scratchSigact, 0, 8); err != nil {
		return fmt.Errorf("ptrace: zygote %d: ignore SIGCHLD: %w", z.pid, err)
	}
	// Keep only the fd-passing socket.
	if _, err := z.call(sysCloseRange, 0, stubSocketFD-1, 0); err != nil {
		return fmt.Errorf("ptrace: zygote %d: close stdio: %w", z.pid, err)
	}
	if _, err := z.call(sysCloseRange, stubSocketFD+1, ^uintptr(0)>>32, 0); err != nil {
		return fmt.Errorf("ptrace: zygote %d: close other fds: %w", z.pid, err)
	}
	// Dumpable, explicitly: a tracer without CAP_SYS_PTRACE may attach
	// (the handoff of every app thread) and use process_vm_readv only on
	// a dumpable process, and an identity change clears the flag. exec
	// set it already; it must not depend on how the zygote was started.
	if _, err := z.call(sysPrctl, unix.PR_SET_DUMPABLE, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("ptrace: zygote %d: set dumpable: %w", z.pid, err)
	}
	// Drop every capability: stubs need none, and a sentry that dropped
	// its own could otherwise no longer attach to them.
	caps := struct {
		hdr  unix.CapUserHeader
		data [2]unix.CapUserData
	}{hdr: unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}}
	if err := z.writeScratch(scratchCaps, bytesOf(&caps)); err != nil {
		return err
	}
	if _, err := z.call(sysCapset, scratchBase+scratchCaps, scratchBase+scratchCaps+8); err != nil {
		return fmt.Errorf("ptrace: zygote %d: drop capabilities: %w", z.pid, err)
	}
	return p.installStubFilter(z)
}

// installStubFilter sets no_new_privs and the stub seccomp filter in the
// zygote; every stub forked from it inherits both.
func (p *Platform) installStubFilter(z *tracee) error {
	prog := stubFilter()
	if err := z.writeScratch(scratchFilter, bytesOfFilter(prog)); err != nil {
		return err
	}
	fprog := struct {
		n   uint16
		_   [6]byte
		ptr uint64
	}{n: uint16(len(prog)), ptr: scratchBase + scratchFilter}
	if err := z.writeScratch(scratchFprog, bytesOf(&fprog)); err != nil {
		return err
	}
	if _, err := z.call(sysPrctl, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("ptrace: zygote %d: no_new_privs: %w", z.pid, err)
	}
	if _, err := z.call(sysSeccomp, unix.SECCOMP_SET_MODE_FILTER, 0, scratchBase+scratchFprog); err != nil {
		return fmt.Errorf("ptrace: zygote %d: install seccomp filter: %w", z.pid, err)
	}
	return nil
}

// bytesOfFilter views a BPF program as bytes.
func bytesOfFilter(prog []unix.SockFilter) []byte {
	b := make([]byte, 0, len(prog)*8)
	for i := range prog {
		b = append(b, bytesOf(&prog[i])...)
	}
	return b
}

// readMaps parses /proc/pid/maps into ranges.
func readMaps(pid int) ([]platform.Range, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/maps"
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ptrace: read zygote mappings: %w", err)
	}
	defer f.Close()
	var out []platform.Range
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		r, err := parseMapsLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("ptrace: %s: %w", path, err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ptrace: %s: %w", path, err)
	}
	return out, nil
}

// parseMapsLine parses "start-end perms offset dev inode [name]".
func parseMapsLine(line string) (platform.Range, error) {
	fields := strings.Fields(line)
	if len(fields) < 5 {
		return platform.Range{}, fmt.Errorf("malformed line %q", line)
	}
	lo, hi, ok := strings.Cut(fields[0], "-")
	if !ok {
		return platform.Range{}, fmt.Errorf("malformed range in %q", line)
	}
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil || end <= start {
		return platform.Range{}, fmt.Errorf("malformed range in %q", line)
	}
	r := platform.Range{Start: uintptr(start), End: uintptr(end)}
	if len(fields) > 5 {
		r.Name = fields[5]
	}
	return r, nil
}

// Reserved returns the stub pages, the vDSO and vvar: mapped in every
// address space at the same addresses.
func (p *Platform) Reserved() []platform.Range {
	return append([]platform.Range(nil), p.reserved...)
}

// VDSO returns the address of the host vDSO in every address space.
func (p *Platform) VDSO() uintptr { return p.vdso }

// MaxUserAddress returns one past the highest application address.
func (p *Platform) MaxUserAddress() uintptr { return maxUserAddress }

// Close releases every address space, kills the zygote (and with it the PID
// namespace of the stubs) and ends the injector thread.
func (p *Platform) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	spaces := p.spaces
	p.spaces = map[*AddressSpace]struct{}{}
	p.mu.Unlock()
	for as := range spaces {
		as.Release()
	}
	p.inj.stop(func() {
		_ = unix.Kill(p.zygote.pid, unix.SIGKILL)
		// The zygote, as PID 1 of its namespace, waits for every process
		// in it to be reaped before it is gone; stubs still traced by a
		// task thread that never released its context would keep it
		// waiting, so the wait is bounded.
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			pid, err := wait4(p.zygote.pid, &p.zygote.ws, unix.WNOHANG)
			if err != nil || (pid == p.zygote.pid && (p.zygote.ws.Exited() || p.zygote.ws.Signaled())) {
				break
			}
			time.Sleep(time.Millisecond)
		}
	})
	return unix.Close(p.sock)
}
