package kernel

import (
	"moat/sentry/loader"
	"moat/sentry/vfs"
)

// execOpener returns the loader's opener for the files an exec needs
// besides the executable (the ELF interpreter, a "#!" interpreter): they
// are checked with c's credentials as execve checks its own file, and
// resolved as Linux's open_exec resolves them: in root, a relative path
// from cwd (the task's working directory).
func (k *Kernel) execOpener(c *Credentials, root, cwd vfs.Location) func(string) (loader.File, error) {
	return func(p string) (loader.File, error) {
		f, err := k.openExecutable(c.VFS(), root, cwd, p, 0)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.DecRef()
			return nil, err
		}
		return &exeFile{f: f, name: p, size: st.Size, owned: true}, nil
	}
}

// Close drops the reference an opener took; the loader calls it when
// exec no longer needs the file (its mappings hold their own).
func (e *exeFile) Close() error {
	if e.owned {
		e.owned = false
		e.f.DecRef()
	}
	return nil
}

// IncRef implements mm.MappedFileRef: a mapping of the executable keeps
// the file open, as a vma holds its file.
func (e *exeFile) IncRef() { e.f.IncRef() }

// DecRef implements mm.MappedFileRef.
func (e *exeFile) DecRef() { e.f.DecRef() }

// MapDevIno implements mm.MappedFileID with what fstat reports.
func (e *exeFile) MapDevIno() (dev, ino uint64) {
	st, err := e.f.Stat()
	if err != nil {
		return 0, 0
	}
	return st.Dev, st.Ino
}
