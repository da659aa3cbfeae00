package vfs

import "sync"

// releaseHooks are the functions a File runs when its last reference
// goes, before its FileImpl is released. epoll uses them: an epoll
// instance watches a file without holding a reference to it (so closing
// every descriptor of the file still releases it), and the file's
// release takes it out of every interest list, as Linux's
// eventpoll_release does.
type releaseHooks struct {
	mu    sync.Mutex
	hooks map[any]func()
}

// AddReleaseHook asks for fn to run when f's last reference is dropped.
// key identifies the hook for RemoveReleaseHook; adding a key again
// replaces its function. fn runs on the goroutine that drops the last
// reference, with no vfs lock held, before FileImpl.Release: it may
// still call f's Waitable methods.
func (f *File) AddReleaseHook(key any, fn func()) {
	h := &f.onRelease
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.hooks == nil {
		h.hooks = map[any]func(){}
	}
	h.hooks[key] = fn
}

// RemoveReleaseHook removes the hook added with key (a no-op if there is
// none, for example because it is already running).
func (f *File) RemoveReleaseHook(key any) {
	h := &f.onRelease
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.hooks, key)
}

// runReleaseHooks runs and forgets every hook. The lock is not held while
// they run: a hook takes its owner's locks, and that owner may be
// removing its hook at the same moment.
func (f *File) runReleaseHooks() {
	h := &f.onRelease
	h.mu.Lock()
	hooks := h.hooks
	h.hooks = nil
	h.mu.Unlock()
	for _, fn := range hooks {
		fn()
	}
}
