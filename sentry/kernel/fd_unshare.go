package kernel

// UnshareFDTable gives the task a private copy of its descriptor table
// when other tasks share it (CLONE_FILES): close_range's
// CLOSE_RANGE_UNSHARE then acts on the copy only.
func (t *Task) UnshareFDTable() {
	if t.fds.users.Load() <= 1 {
		return
	}
	n := t.fds.Fork()
	n.incUsers()
	old := t.fds
	t.fds = n
	old.decUsers()
}
