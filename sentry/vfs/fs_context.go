package vfs

import "sync"

// FS is a task's file-system context: its root and working directory.
// It is shared between threads that cloned with CLONE_FS, so it has its
// own lock.
type FS struct {
	mu   sync.Mutex
	root Location
	cwd  Location
}

// NewFS returns a context with the given root and working directory.
func NewFS(root, cwd Location) *FS { return &FS{root: root, cwd: cwd} }

// Get returns the root and the working directory together, as one
// consistent pair.
func (fs *FS) Get() (root, cwd Location) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.root, fs.cwd
}

// Root returns the task's root directory.
func (fs *FS) Root() Location {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.root
}

// Cwd returns the working directory.
func (fs *FS) Cwd() Location {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.cwd
}

// SetCwd changes the working directory (the caller checked it with
// CheckChdir).
func (fs *FS) SetCwd(l Location) {
	fs.mu.Lock()
	fs.cwd = l
	fs.mu.Unlock()
}

// Fork returns an unshared copy, for clone without CLONE_FS.
func (fs *FS) Fork() *FS {
	root, cwd := fs.Get()
	return NewFS(root, cwd)
}
