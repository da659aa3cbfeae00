package syscalls

import "golang.org/x/sys/unix"

// fileSyscalls are the file-system calls: paths, open files and file
// descriptors. Their handlers live in sys_file*.go, sys_read_write.go,
// sys_stat.go and sys_fcntl.go, on top of sentry/vfs. Calls that only
// exist on amd64 (open, stat, access ...) are skipped on arm64 by the
// table builder.
var fileSyscalls = []entry{
	// Data.
	supported("read", sysRead, "fd,rbuf,size"),
	supported("write", sysWrite, "fd,wbuf,size"),
	supported("readv", sysReadv, "fd,ptr,int"),
	supported("writev", sysWritev, "fd,ptr,int"),
	supported("pread64", sysPread64, "fd,rbuf,size,int"),
	supported("pwrite64", sysPwrite64, "fd,wbuf,size,int"),
	partial("lseek", sysLseek, "fd,int,int", "SEEK_DATA and SEEK_HOLE only on gofer files"),
	partial("getdents64", sysGetdents64, "fd,ptr,size", "d_ino and d_type are the host's"),
	refused("getdents", unix.ENOSYS, "legacy; C libraries use getdents64"),

	// Opening and descriptors.
	partial("openat", sysOpenat, "fd,path,oflags,mode", "O_TMPFILE is EOPNOTSUPP"),
	partial("open", sysOpen, "path,oflags,mode", "O_TMPFILE is EOPNOTSUPP"),
	partial("openat2", sysOpenat2, "fd,path,ptr,size",
		"O_TMPFILE is EOPNOTSUPP; RESOLVE_CACHED is EAGAIN for a name not looked up yet and for any symlink"),
	supported("creat", sysCreat, "path,mode"),
	supported("close", sysClose, "fd"),
	supported("close_range", sysCloseRange, "fd,fd,hex"),
	supported("dup", sysDup, "fd"),
	supported("dup2", sysDup2, "fd,fd"),
	supported("dup3", sysDup3, "fd,fd,oflags"),
	partial("fcntl", sysFcntl, "fd,int,hex", "F_DUPFD(_CLOEXEC), F_GETFD/F_SETFD, F_GETFL/F_SETFL, F_GETPIPE_SZ/F_SETPIPE_SZ, F_ADD_SEALS/F_GET_SEALS, record and OFD locks, F_SETOWN(_EX)/F_SETSIG kept and reported (no SIGIO is sent); leases and F_NOTIFY EINVAL"),

	// Metadata.
	supported("fstat", sysFstat, "fd,ptr"),
	supported("stat", sysStat, "path,ptr"),
	supported("lstat", sysLstat, "path,ptr"),
	supported("newfstatat", sysNewfstatat, "fd,path,ptr,atflags"),
	partial("statx", sysStatx, "fd,path,atflags,hex,ptr", "STATX_BASIC_STATS only: no birth time, attributes or mount id"),
	supported("readlink", sysReadlink, "path,rbuf,int"),
	supported("readlinkat", sysReadlinkat, "fd,path,rbuf,int"),
	supported("access", sysAccess, "path,int"),
	supported("faccessat", sysFaccessat, "fd,path,int"),
	supported("faccessat2", sysFaccessat2, "fd,path,int,atflags"),

	// Working directory.
	supported("getcwd", sysGetcwd, "rbuf,size"),
	supported("chdir", sysChdir, "path"),
	supported("fchdir", sysFchdir, "fd"),
}
