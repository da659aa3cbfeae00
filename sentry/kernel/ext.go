package kernel

// Extension returns the sandbox-wide object stored under key, making it
// with mk the first time. Packages above the kernel that keep state per
// sandbox (the IPC namespace of System V IPC and POSIX message queues)
// keep it here rather than in the Kernel itself, so the kernel need not
// import them. key should be a value of an unexported type of the
// calling package, so that keys never collide. mk may run more than once
// under a race; only one result is kept.
func (k *Kernel) Extension(key any, mk func() any) any {
	if v, ok := k.ext.Load(key); ok {
		return v
	}
	v, _ := k.ext.LoadOrStore(key, mk())
	return v
}
