package proc

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"moat/sentry/fs/pseudo"
	"moat/sentry/mm"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// pidEntry is the entry of process pid (or, with process false, of its
// thread tid under task/) in dir.
func (p *procFS) pidEntry(dir string, pid, tid int32, process bool) pseudo.Entry {
	id := tid
	if process {
		id = pid
	}
	path := pseudo.Child(dir, strconv.Itoa(int(id)))
	return pseudo.Entry{Name: strconv.Itoa(int(id)), Type: unix.S_IFDIR, New: func() (vfs.Inode, error) {
		t := p.task(pid, tid)
		if _, _, ok := t.owner(); !ok {
			return nil, unix.ENOENT
		}
		d := p.dir(path, modeDir, func() ([]pseudo.Entry, error) {
			if _, _, ok := t.owner(); !ok {
				return nil, unix.ENOENT
			}
			return p.pidEntries(path, t, process), nil
		})
		d.Owner = t.owner
		return d, nil
	}}
}

// taskRef names a thread by its IDs; every use looks it up again, so a
// cached dentry of a process that is gone answers ENOENT, and one whose
// PID was reused answers for the new process.
type taskRef struct {
	src      Source
	pid, tid int32
}

func (p *procFS) task(pid, tid int32) taskRef { return taskRef{src: p.src, pid: pid, tid: tid} }

func (r taskRef) get() (Thread, bool) { return r.src.Thread(r.pid, r.tid) }

// owner returns the effective uid and gid files of the thread belong to.
func (r taskRef) owner() (uid, gid uint32, ok bool) {
	t, ok := r.get()
	if !ok {
		return 0, 0, false
	}
	s, ok := t.Status()
	return s.UIDs[1], s.GIDs[1], ok
}

// mayInspect is Linux's ptrace_may_access(PTRACE_MODE_READ) reduced to
// uids: root, or the thread's own user. Caller-less reads are allowed.
func (r taskRef) mayInspect(c *vfs.Creds) error {
	uid, _, ok := r.owner()
	if !ok {
		return unix.ENOENT
	}
	if c == nil || c.UID == 0 || c.UID == uid {
		return nil
	}
	return unix.EACCES
}

// pidEntries lists a process's (or thread's) directory.
func (p *procFS) pidEntries(dir string, t taskRef, process bool) []pseudo.Entry {
	f := func(name string, mode uint32, content func(Thread) ([]byte, error)) pseudo.Entry {
		path := pseudo.Child(dir, name)
		return pseudo.Entry{Name: name, Type: unix.S_IFREG, New: func() (vfs.Inode, error) {
			return &pseudo.File{
				Node: pseudo.Node{FS: p.fs, Path: path, Mode: unix.S_IFREG | mode, Owner: t.owner},
				Content: func() ([]byte, error) {
					th, ok := t.get()
					if !ok {
						return nil, unix.ESRCH
					}
					return content(th)
				},
				WriteErr: unix.EINVAL,
			}, nil
		}}
	}
	link := func(name string, follow func(c *vfs.Creds) (vfs.LinkTarget, error)) pseudo.Entry {
		e := p.link(dir, name, follow)
		mk := e.New
		e.New = func() (vfs.Inode, error) {
			i, err := mk()
			if s, ok := i.(*pseudo.Symlink); ok {
				s.Owner = t.owner
			}
			return i, err
		}
		return e
	}
	es := []pseudo.Entry{
		f("auxv", 0o400, func(th Thread) ([]byte, error) { return formatAuxv(th), nil }),
		f("cgroup", 0o444, func(Thread) ([]byte, error) { return []byte("0::/\n"), nil }),
		f("cmdline", 0o444, func(th Thread) ([]byte, error) { return readRange(th, true), nil }),
		p.commEntry(dir, t),
		link("cwd", func(c *vfs.Creds) (vfs.LinkTarget, error) {
			return p.fsLink(c, t, func(root, cwd vfs.Location) vfs.Location { return cwd })
		}),
		f("environ", 0o400, func(th Thread) ([]byte, error) { return readRange(th, false), nil }),
		link("exe", func(c *vfs.Creds) (vfs.LinkTarget, error) { return p.exeLink(c, t) }),
		p.fdDir(dir, t, false),
		p.fdDir(dir, t, true),
		f("limits", 0o444, func(th Thread) ([]byte, error) { return formatLimits(th.Limits()), nil }),
		f("maps", 0o444, func(th Thread) ([]byte, error) {
			if m := th.MM(); m != nil {
				return m.FormatMaps(), nil
			}
			return nil, nil
		}),
		f("mountinfo", 0o444, func(th Thread) ([]byte, error) { return p.mounts(th, true), nil }),
		f("mounts", 0o444, func(th Thread) ([]byte, error) { return p.mounts(th, false), nil }),
		link("root", func(c *vfs.Creds) (vfs.LinkTarget, error) {
			return p.fsLink(c, t, func(root, cwd vfs.Location) vfs.Location { return root })
		}),
		f("stat", 0o444, func(th Thread) ([]byte, error) { return p.formatStat(th, process) }),
		f("statm", 0o444, func(th Thread) ([]byte, error) { return formatStatm(th.MM()), nil }),
		f("status", 0o444, func(th Thread) ([]byte, error) { return formatStatus(th) }),
	}
	if process {
		path := pseudo.Child(dir, "task")
		es = append(es, pseudo.Entry{Name: "task", Type: unix.S_IFDIR, New: func() (vfs.Inode, error) {
			d := p.dir(path, modeDir, func() ([]pseudo.Entry, error) {
				th, ok := t.get()
				if !ok {
					return nil, unix.ENOENT
				}
				var out []pseudo.Entry
				for _, tid := range th.TIDs() {
					out = append(out, p.pidEntry(path, t.pid, tid, false))
				}
				return out, nil
			})
			d.Owner = t.owner
			return d, nil
		}})
	}
	return es
}

// commEntry is comm: readable by all, writable by the thread's owner
// (a write sets the name, as prctl(PR_SET_NAME) does).
func (p *procFS) commEntry(dir string, t taskRef) pseudo.Entry {
	path := pseudo.Child(dir, "comm")
	return pseudo.Entry{Name: "comm", Type: unix.S_IFREG, New: func() (vfs.Inode, error) {
		return &pseudo.File{
			Node: pseudo.Node{FS: p.fs, Path: path, Mode: unix.S_IFREG | 0o644, Owner: t.owner},
			Content: func() ([]byte, error) {
				th, ok := t.get()
				if !ok {
					return nil, unix.ESRCH
				}
				s, _ := th.Status()
				return []byte(s.Comm + "\n"), nil
			},
			Write: func(src []byte) (int, error) {
				th, ok := t.get()
				if !ok {
					return 0, unix.ESRCH
				}
				name := src
				if i := strings.IndexByte(string(name), '\n'); i >= 0 {
					name = name[:i]
				}
				th.SetComm(name)
				return len(src), nil
			},
		}, nil
	}}
}

// readerRoot is the root paths are shown relative to: the caller's.
func (p *procFS) readerRoot(c *vfs.Creds) vfs.Location {
	if pid, tid, ok := p.src.Caller(c); ok {
		if th, ok := p.src.Thread(pid, tid); ok {
			if root, _, ok := th.FSContext(); ok {
				return root
			}
		}
	}
	return p.src.VFS().Root()
}

// locLink is a link to a place in the tree.
func (p *procFS) locLink(c *vfs.Creds, loc vfs.Location) (vfs.LinkTarget, error) {
	if !loc.Valid() {
		return vfs.LinkTarget{}, unix.ENOENT
	}
	path, _ := p.src.VFS().PathOf(p.readerRoot(c), loc)
	return vfs.LinkTarget{Path: path, Loc: loc}, nil
}

func (p *procFS) fsLink(c *vfs.Creds, t taskRef, pick func(root, cwd vfs.Location) vfs.Location) (vfs.LinkTarget, error) {
	if err := t.mayInspect(c); err != nil {
		return vfs.LinkTarget{}, err
	}
	th, ok := t.get()
	if !ok {
		return vfs.LinkTarget{}, unix.ENOENT
	}
	root, cwd, ok := th.FSContext()
	if !ok {
		return vfs.LinkTarget{}, unix.ENOENT
	}
	return p.locLink(c, pick(root, cwd))
}

func (p *procFS) exeLink(c *vfs.Creds, t taskRef) (vfs.LinkTarget, error) {
	if err := t.mayInspect(c); err != nil {
		return vfs.LinkTarget{}, err
	}
	th, ok := t.get()
	if !ok {
		return vfs.LinkTarget{}, unix.ENOENT
	}
	e := th.Exec()
	if !e.Loc.Valid() {
		return vfs.LinkTarget{}, unix.ENOENT
	}
	return p.locLink(c, e.Loc)
}

// readRange reads a process's argument (or environment) strings from its
// memory, as cmdline and environ show them.
func readRange(th Thread, argv bool) []byte {
	m := th.MM()
	e := th.Exec()
	start, end := e.EnvvStart, e.EnvvEnd
	if argv {
		start, end = e.ArgvStart, e.ArgvEnd
	}
	if m == nil || end <= start || end-start > 1<<20 {
		return nil
	}
	b := make([]byte, end-start)
	n, _ := m.CopyIn(start, b)
	return b[:n]
}

// formatLimits renders limits as /proc/[pid]/limits.
func formatLimits(l []Rlimit) []byte {
	names := [...]struct{ name, unit string }{
		{"Max cpu time", "seconds"}, {"Max file size", "bytes"}, {"Max data size", "bytes"},
		{"Max stack size", "bytes"}, {"Max core file size", "bytes"}, {"Max resident set", "bytes"},
		{"Max processes", "processes"}, {"Max open files", "files"}, {"Max locked memory", "bytes"},
		{"Max address space", "bytes"}, {"Max file locks", "locks"}, {"Max pending signals", "signals"},
		{"Max msgqueue size", "bytes"}, {"Max nice priority", ""}, {"Max realtime priority", ""},
		{"Max realtime timeout", "us"},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units")
	val := func(v uint64) string {
		if v == ^uint64(0) {
			return "unlimited"
		}
		return strconv.FormatUint(v, 10)
	}
	for i, n := range names {
		var r Rlimit
		if i < len(l) {
			r = l[i]
		}
		if n.unit == "" {
			fmt.Fprintf(&b, "%-25s %-20s %-20s \n", n.name, val(r.Cur), val(r.Max))
			continue
		}
		fmt.Fprintf(&b, "%-25s %-20s %-20s %-10s\n", n.name, val(r.Cur), val(r.Max), n.unit)
	}
	return []byte(b.String())
}

// vmStats sums a memory map the way status and statm report it. With no
// page residency information, resident memory is estimated as the
// private writable mappings plus the file mappings.
type vmStats struct {
	size, resident, shared, text, data, stack, lib uint64
}

func statsOf(m *mm.MemoryManager) vmStats {
	var s vmStats
	if m == nil {
		return s
	}
	for _, e := range m.Maps() {
		n := uint64(e.End - e.Start)
		s.size += n
		private := e.Perms[3] == 'p'
		switch {
		case e.Name == "[stack]":
			s.stack += n
			s.resident += n
		case e.Inode != 0:
			s.resident += n
			s.shared += n
			if e.Perms[2] == 'x' {
				s.text += n
			}
		case private && e.Perms[1] == 'w':
			s.data += n
			s.resident += n
		}
	}
	return s
}

// formatStatm renders statm: sizes in pages.
func formatStatm(m *mm.MemoryManager) []byte {
	s := statsOf(m)
	pg := uint64(mm.PageSize)
	return []byte(fmt.Sprintf("%d %d %d %d 0 %d 0\n", s.size/pg, s.resident/pg, s.shared/pg, s.text/pg, (s.data+s.stack)/pg))
}

// stateName is the long form of a state letter.
func stateName(c byte) string {
	switch c {
	case 'R':
		return "R (running)"
	case 'Z':
		return "Z (zombie)"
	case 'T':
		return "T (stopped)"
	}
	return "S (sleeping)"
}

// formatStatus renders /proc/[pid]/status in Linux 6.1's layout.
func formatStatus(th Thread) ([]byte, error) {
	s, ok := th.Status()
	if !ok {
		return nil, unix.ESRCH
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Name:\t%s\nUmask:\t%04o\nState:\t%s\n", escapeComm(s.Comm), s.Umask, stateName(s.State))
	fmt.Fprintf(&b, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", s.PID, s.TID, s.PPID)
	fmt.Fprintf(&b, "Uid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\n", s.UIDs[0], s.UIDs[1], s.UIDs[2], s.UIDs[3], s.GIDs[0], s.GIDs[1], s.GIDs[2], s.GIDs[3])
	fds := th.FDs()
	fdSize := 64
	for len(fds) > 0 && int(fds[len(fds)-1]) >= fdSize {
		fdSize *= 2
	}
	fmt.Fprintf(&b, "FDSize:\t%d\nGroups:\t", fdSize)
	for i, g := range s.Groups {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatUint(uint64(g), 10))
	}
	fmt.Fprintf(&b, " \nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", s.PID, s.TID, s.PGID, s.SID)
	if s.State != 'Z' {
		v := statsOf(th.MM())
		kb := func(name string, n uint64) { fmt.Fprintf(&b, "%s:\t%8d kB\n", name, n/1024) }
		kb("VmPeak", v.size)
		kb("VmSize", v.size)
		kb("VmLck", 0)
		kb("VmPin", 0)
		kb("VmHWM", v.resident)
		kb("VmRSS", v.resident)
		kb("RssAnon", v.data+v.stack)
		kb("RssFile", v.shared)
		kb("RssShmem", 0)
		kb("VmData", v.data)
		kb("VmStk", v.stack)
		kb("VmExe", v.text)
		kb("VmLib", 0)
		kb("VmPTE", 0)
		kb("VmSwap", 0)
		kb("HugetlbPages", 0)
		b.WriteString("CoreDumping:\t0\nTHP_enabled:\t0\n")
	}
	fmt.Fprintf(&b, "Threads:\t%d\nSigQ:\t0/63459\n", s.Threads)
	fmt.Fprintf(&b, "SigPnd:\t%016x\nShdPnd:\t%016x\nSigBlk:\t%016x\nSigIgn:\t%016x\nSigCgt:\t%016x\n", s.SigPnd, s.ShdPnd, s.SigBlk, s.SigIgn, s.SigCgt)
	fmt.Fprintf(&b, "CapInh:\t%016x\nCapPrm:\t%016x\nCapEff:\t%016x\nCapBnd:\t%016x\nCapAmb:\t%016x\n", s.CapInh, s.CapPrm, s.CapEff, s.CapBnd, s.CapAmb)
	b.WriteString("NoNewPrivs:\t1\nSeccomp:\t0\nSeccomp_filters:\t0\n")
	b.WriteString("Speculation_Store_Bypass:\tthread vulnerable\nSpeculationIndirectBranch:\tconditional enabled\n")
	fmt.Fprintf(&b, "Cpus_allowed_list:\t%s\nMems_allowed_list:\t0\n", "0")
	b.WriteString("voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n")
	return []byte(b.String()), nil
}

// escapeComm escapes a name as status's Name line does.
func escapeComm(s string) string {
	return strings.NewReplacer("\\", "\\\\", "\n", "\\n").Replace(s)
}

// formatStat renders /proc/[pid]/stat (52 fields, proc(5)).
func (p *procFS) formatStat(th Thread, process bool) ([]byte, error) {
	s, ok := th.Status()
	if !ok {
		return nil, unix.ESRCH
	}
	m := th.MM()
	v := statsOf(m)
	e := th.Exec()
	var brk uintptr
	if m != nil {
		brk, _ = m.BrkRange()
	} else {
		// A zombie's memory is gone: Linux shows no addresses.
		e = Exec{}
	}
	id := s.TID
	if process {
		id = s.PID
	}
	const clk = 100 // USER_HZ
	start := uint64(s.StartTime.Seconds() * clk)
	out := fmt.Sprintf("%d (%s) %c %d %d %d 0 -1 4194560 0 0 0 0 %d %d 0 0 20 0 %d 0 %d %d %d 18446744073709551615 0 0 0 0 0 %d %d %d %d 0 0 0 %d 0 0 0 0 0 0 0 0 %d %d %d %d %d 0\n",
		id, s.Comm, s.State, s.PPID, s.PGID, s.SID,
		uint64(s.UserTime.Seconds()*clk), uint64(s.SystemTime.Seconds()*clk),
		s.Threads, start, v.size, v.resident/uint64(mm.PageSize),
		s.SigPnd|s.ShdPnd, s.SigBlk, s.SigIgn, s.SigCgt, s.ExitSignal,
		brk, e.ArgvStart, e.ArgvEnd, e.EnvvStart, e.EnvvEnd)
	return []byte(out), nil
}

// formatAuxv renders auxv: the auxiliary vector as native words, ending
// with an AT_NULL pair; empty for a zombie, whose memory is gone.
func formatAuxv(th Thread) []byte {
	if th.MM() == nil {
		return nil
	}
	aux := th.Exec().Auxv
	out := make([]byte, 0, (len(aux)+2)*8)
	for _, v := range aux {
		out = binary.LittleEndian.AppendUint64(out, v)
	}
	return append(out, make([]byte, 16)...)
}
