package proc

import (
	"sync/atomic"

	"moat/sentry/fs/pseudo"
)

// SysVIPC lists the sandbox's System V IPC objects for /proc/sysvipc:
// the lines that follow each file's header, for kind "shm", "sem" or
// "msg". sentry/kernel/ipc implements it; proc cannot import it (it
// imports the kernel, which imports proc), so the two meet in a
// SysVIPCHolder kept per sandbox.
type SysVIPC interface {
	ProcLines(kind string) string
}

// SysVIPCHolder holds the sandbox's SysVIPC once its IPC namespace
// exists; until then /proc/sysvipc files have their headers only.
type SysVIPCHolder struct {
	v atomic.Pointer[SysVIPC]
}

// Set installs s.
func (h *SysVIPCHolder) Set(s SysVIPC) { h.v.Store(&s) }

// Extender is a Source with per-sandbox state (*kernel.Kernel).
type Extender interface {
	Extension(key any, mk func() any) any
}

type sysvipcKey struct{}

// SysVIPCHolderOf returns the sandbox's holder.
func SysVIPCHolderOf(e Extender) *SysVIPCHolder {
	return e.Extension(sysvipcKey{}, func() any { return new(SysVIPCHolder) }).(*SysVIPCHolder)
}

// sysvipc headers, as Linux prints them.
var sysvipcHeaders = map[string]string{
	"shm": "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n",
	"sem": "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n",
	"msg": "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n",
}

// sysvipcEntries lists /proc/sysvipc.
func (p *procFS) sysvipcEntries(dir string) []pseudo.Entry {
	var es []pseudo.Entry
	for _, kind := range []string{"msg", "sem", "shm"} {
		es = append(es, p.file(dir, kind, func() ([]byte, error) {
			out := sysvipcHeaders[kind]
			if e, ok := p.src.(Extender); ok {
				if s := SysVIPCHolderOf(e).v.Load(); s != nil {
					out += (*s).ProcLines(kind)
				}
			}
			return []byte(out), nil
		}))
	}
	return es
}
