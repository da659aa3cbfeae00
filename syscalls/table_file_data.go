package syscalls

// fileDataSyscalls: calls on open files' data (ftruncate, fallocate,
// fsync, locks, sendfile, copy_file_range, preadv2 ...).
var fileDataSyscalls = []entry{
	supported("ftruncate", sysFtruncate, "fd,size"),
	supported("fallocate", sysFallocate, "fd,hex,size,size"),
	supported("fsync", sysFsync, "fd"),
	supported("fdatasync", sysFdatasync, "fd"),
	partial("syncfs", sysSyncfs, "fd", "syncs the one file, not its whole file system"),
	partial("sync", sysSync, "", "returns at once: sandbox data is in the host's page cache, flushed by the host"),
	partial("sync_file_range", sysSyncFileRange, "fd,size,size,hex", "writing a range syncs the file's data (fdatasync)"),
	supported("readahead", sysReadahead, "fd,size,size"),
	partial("fadvise64", sysFadvise64, "fd,size,size,int", "advice is checked and ignored"),
	supported("flock", sysFlock, "fd,hex"),
	supported("preadv", sysPreadv, "fd,ptr,int,size"),
	supported("pwritev", sysPwritev, "fd,ptr,int,size"),
	partial("preadv2", sysPreadv2, "fd,ptr,int,size,size,hex", "RWF_NOWAIT, RWF_APPEND, RWF_ATOMIC, RWF_DONTCACHE: EOPNOTSUPP"),
	partial("pwritev2", sysPwritev2, "fd,ptr,int,size,size,hex", "RWF_NOWAIT, RWF_APPEND, RWF_ATOMIC, RWF_DONTCACHE: EOPNOTSUPP"),
	partial("sendfile", sysSendfile, "fd,fd,ptr,size", "the input must be a regular file"),
	partial("splice", sysSplice, "fd,ptr,fd,ptr,size,hex", "data is copied through the sentry; SPLICE_F_MOVE and SPLICE_F_GIFT are ignored"),
	supported("tee", sysTee, "fd,fd,size,hex"),
	partial("vmsplice", sysVmsplice, "fd,ptr,int,hex", "user memory is copied, not mapped into the pipe"),
	partial("copy_file_range", sysCopyFileRange, "fd,ptr,fd,ptr,size,hex", "copies through the sentry (no reflink)"),
}
