package ipc

import (
	"fmt"
	"sort"
	"strings"

	"moat/sentry/fs/proc"
)

var _ proc.SysVIPC = (*Namespace)(nil)

// ProcLines implements proc.SysVIPC: one line per object, in index
// order, in Linux's formats.
func (ns *Namespace) ProcLines(kind string) string {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var b strings.Builder
	switch kind {
	case "shm":
		for _, i := range sortedIdx(ns.shm.objs) {
			s := ns.shm.objs[i]
			p := &s.p
			rss := uint64(0)
			fmt.Fprintf(&b, "%10d %10d  %4o %21d %5d %5d  %5d %5d %5d %5d %5d %10d %10d %10d %21d %21d\n",
				p.Key, p.ID, p.Mode, s.size, s.cpid, s.lpid, s.nattch, p.UID, p.GID, p.CUID, p.CGID,
				unixTime(s.atime), unixTime(s.dtime), unixTime(p.changeTime), rss, 0)
		}
	case "sem":
		for _, i := range sortedIdx(ns.sem.objs) {
			s := ns.sem.objs[i]
			p := &s.p
			fmt.Fprintf(&b, "%10d %10d  %4o %10d %5d %5d %5d %5d %10d %10d\n",
				p.Key, p.ID, p.Mode, len(s.sems), p.UID, p.GID, p.CUID, p.CGID,
				unixTime(s.otime), unixTime(p.changeTime))
		}
	case "msg":
		for _, i := range sortedIdx(ns.msg.objs) {
			q := ns.msg.objs[i]
			p := &q.p
			fmt.Fprintf(&b, "%10d %10d  %4o  %10d %10d %5d %5d %5d %5d %5d %5d %10d %10d %10d\n",
				p.Key, p.ID, p.Mode, q.cbytes, len(q.msgs), q.lspid, q.lrpid, p.UID, p.GID, p.CUID, p.CGID,
				unixTime(q.stime), unixTime(q.rtime), unixTime(p.changeTime))
		}
	}
	return b.String()
}

func sortedIdx[T any](m map[int]T) []int {
	out := make([]int, 0, len(m))
	for i := range m {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}
