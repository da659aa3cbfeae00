package syscalls

// fileDataSyscalls: calls on open files' data (ftruncate, fallocate, fsync, locks, sendfile, copy_file_range, preadv2 ...).
var fileDataSyscalls = []entry{}
