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
	partial("openat", sysOpenat, "fd,path,oflags,mode", "nothing can be created: the root is read-only"),
	partial("open", sysOpen, "path,oflags,mode", "nothing can be created: the root is read-only"),
	partial("creat", sysCreat, "path,mode", "the root is read-only: EROFS once the path resolves"),
	supported("close", sysClose, "fd"),
	supported("close_range", sysCloseRange, "fd,fd,hex"),
	supported("dup", sysDup, "fd"),
	supported("dup2", sysDup2, "fd,fd"),
	supported("dup3", sysDup3, "fd,fd,oflags"),
	partial("fcntl", sysFcntl, "fd,int,hex", "F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL only; others EINVAL"),
	partial("ioctl", sysIoctl, "fd,hex,hex", "FIOCLEX, FIONCLEX, FIONBIO; TCGETS and TIOCGWINSZ on the stdio; others ENOTTY"),

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

	// Changes to the file system: the root is read-only, so after path
	// resolution these fail with EROFS (or ENOENT, EEXIST ... first, as
	// Linux orders them).
	partial("mkdir", sysMkdir, "path,mode", readOnlyNote),
	partial("mkdirat", sysMkdirat, "fd,path,mode", readOnlyNote),
	partial("mknod", sysMknod, "path,mode,hex", readOnlyNote),
	partial("mknodat", sysMknodat, "fd,path,mode,hex", readOnlyNote),
	partial("symlink", sysSymlink, "path,path", readOnlyNote),
	partial("symlinkat", sysSymlinkat, "path,fd,path", readOnlyNote),
	partial("link", sysLink, "path,path", readOnlyNote),
	partial("linkat", sysLinkat, "fd,path,fd,path,atflags", readOnlyNote),
	partial("unlink", sysUnlink, "path", readOnlyNote),
	partial("unlinkat", sysUnlinkat, "fd,path,atflags", readOnlyNote),
	partial("rmdir", sysRmdir, "path", readOnlyNote),
	partial("rename", sysRename, "path,path", readOnlyNote),
	partial("renameat", sysRenameat, "fd,path,fd,path", readOnlyNote),
	partial("renameat2", sysRenameat2, "fd,path,fd,path,hex", readOnlyNote),
	partial("chmod", sysChmod, "path,mode", readOnlyNote),
	partial("fchmodat", sysFchmodat, "fd,path,mode", readOnlyNote),
	partial("chown", sysChown, "path,int,int", readOnlyNote),
	partial("lchown", sysLchown, "path,int,int", readOnlyNote),
	partial("fchownat", sysFchownat, "fd,path,int,int,atflags", readOnlyNote),
	partial("truncate", sysTruncate, "path,int", readOnlyNote),
	partial("utimensat", sysUtimensat, "fd,path,ptr,atflags", readOnlyNote),
}

// readOnlyNote is the note of the calls that would write the root.
const readOnlyNote = "the root is read-only: EROFS once the path resolves"
