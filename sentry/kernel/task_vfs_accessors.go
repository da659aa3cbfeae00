package kernel

// Interrupted reports whether a blocking file operation of the task must
// give up: the task has a signal to take or must exit. It implements
// vfs.Interruptible.
func (t *Task) Interrupted() bool { return t.interrupted() }
