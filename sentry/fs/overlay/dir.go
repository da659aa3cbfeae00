package overlay

import (
	"sync"

	"moat/sentry/fs/fsutil"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// mergedEntries lists a merged directory: upper names (whiteouts
// hidden), then lower names the upper layer neither has nor whites out.
func (n *node) mergedEntries() ([]fsutil.Dirent, error) {
	fs := n.fs
	fs.mu.Lock()
	u, l := n.upper, n.lower
	fs.mu.Unlock()
	var out []fsutil.Dirent
	seen := map[string]bool{}
	if u != nil {
		for _, e := range u.Entries() {
			seen[e.Name] = true
			if e.Inode.IsWhiteout() {
				continue
			}
			a := e.Inode.FSAttr()
			ino := a.Ino + upperInoBase
			fs.mu.Lock()
			if c, ok := n.children[e.Name]; ok && c.lowerStatLocked() == nil {
				ino = c.inoLocked(a.Ino)
			}
			fs.mu.Unlock()
			out = append(out, fsutil.Dirent{Ino: ino, Type: fsutil.DirentType(a.Mode), Name: e.Name})
		}
		if u.Opaque() {
			l = nil
		}
	}
	if l == nil {
		return out, nil
	}
	li, err := l.Open(unix.O_RDONLY | unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	lf := vfs.NewFile(li, unix.O_RDONLY|unix.O_DIRECTORY, vfs.Location{})
	defer lf.DecRef()
	buf := make([]byte, 1<<15)
	for {
		m, err := lf.Getdents(buf)
		if err != nil {
			return nil, err
		}
		if m == 0 {
			return out, nil
		}
		fsutil.ParseDirents(buf[:m], func(d fsutil.Dirent) {
			if d.Name == "." || d.Name == ".." || seen[d.Name] {
				return
			}
			out = append(out, d)
		})
	}
}

// dirFile is an open merged directory. The listing is taken when the
// first getdents runs at offset 0 (and again after a rewind); offsets
// are positions in it.
type dirFile struct {
	fsutil.DirFile
	n *node
	// mu guards off and ents.
	mu   sync.Mutex
	off  int64
	ents []fsutil.Dirent
}

func (d *dirFile) Seek(_ *vfs.File, off int64, whence int) (int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	off, err := fsutil.Seek(d.off, off, whence)
	if err != nil {
		return 0, err
	}
	if off == 0 {
		d.ents = nil
	}
	d.off = off
	return off, nil
}

func (d *dirFile) Getdents(_ *vfs.File, buf []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ents == nil || d.off == 0 {
		ents, err := d.n.mergedEntries()
		if err != nil {
			return 0, err
		}
		st, err := d.n.Stat()
		if err != nil {
			return 0, err
		}
		pino := st.Ino
		if p := d.n.parent; p != nil {
			if pst, err := p.Stat(); err == nil {
				pino = pst.Ino
			}
		}
		d.ents = append([]fsutil.Dirent{
			{Ino: st.Ino, Type: unix.DT_DIR, Name: "."},
			{Ino: pino, Type: unix.DT_DIR, Name: ".."},
		}, ents...)
	}
	n := 0
	for d.off < int64(len(d.ents)) {
		e := d.ents[d.off]
		e.Off = d.off + 1
		m := fsutil.PutDirent(buf[n:], e)
		if m == 0 {
			if n == 0 {
				return 0, unix.EINVAL
			}
			break
		}
		n += m
		d.off++
	}
	return n, nil
}

func (d *dirFile) Stat(*vfs.File) (unix.Stat_t, error) { return d.n.Stat() }

// Sync implements vfs.DataFile (fsync of a directory).
func (d *dirFile) Sync(*vfs.File, bool) error { return nil }

// Truncate implements vfs.DataFile.
func (d *dirFile) Truncate(*vfs.File, int64) error { return unix.EINVAL }

// Allocate implements vfs.DataFile.
func (d *dirFile) Allocate(*vfs.File, uint32, int64, int64) error { return unix.EISDIR }
