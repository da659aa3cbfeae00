package syscalls

// fsWriteSyscalls: the gofer-backed write calls (mkdir, unlink, rename, link, symlink, chmod, chown, truncate, utimensat, statfs ...).
var fsWriteSyscalls = []entry{}
