package syscalls

import "slices"

// fsWriteSyscalls are the calls that change the tree and files'
// metadata, through the gofer for the root and bind mounts (and the
// other file systems' WritableDir), and the extended attribute calls.
// Handlers in sys_fs_write*.go.
var fsWriteSyscalls = append([]entry{
	// Creation and removal.
	supported("mkdir", sysMkdir, "path,mode"),
	supported("mkdirat", sysMkdirat, "fd,path,mode"),
	partial("mknod", sysMknod, "path,mode,hex", "FIFOs, sockets and regular files; devices EPERM"),
	partial("mknodat", sysMknodat, "fd,path,mode,hex", "FIFOs, sockets and regular files; devices EPERM"),
	supported("symlink", sysSymlink, "path,path"),
	supported("symlinkat", sysSymlinkat, "path,fd,path"),
	supported("link", sysLink, "path,path"),
	supported("linkat", sysLinkat, "fd,path,fd,path,atflags"),
	supported("unlink", sysUnlink, "path"),
	supported("unlinkat", sysUnlinkat, "fd,path,atflags"),
	supported("rmdir", sysRmdir, "path"),
	supported("rename", sysRename, "path,path"),
	supported("renameat", sysRenameat, "fd,path,fd,path"),
	partial("renameat2", sysRenameat2, "fd,path,fd,path,hex", "RENAME_WHITEOUT is EINVAL"),

	// Metadata.
	supported("chmod", sysChmod, "path,mode"),
	supported("fchmod", sysFchmod, "fd,mode"),
	supported("fchmodat", sysFchmodat, "fd,path,mode"),
	supported("chown", sysChown, "path,int,int"),
	supported("fchown", sysFchown, "fd,int,int"),
	supported("lchown", sysLchown, "path,int,int"),
	supported("fchownat", sysFchownat, "fd,path,int,int,atflags"),
	supported("truncate", sysTruncate, "path,int"),
	supported("utimensat", sysUtimensat, "fd,path,ptr,atflags"),
	supported("futimesat", sysFutimesat, "fd,path,ptr"),
	supported("utimes", sysUtimes, "path,ptr"),
	supported("utime", sysUtime, "path,ptr"),
	partial("statfs", sysStatfs, "path,ptr", "the host's statfs for gofer files; ENOSYS where a file system has none"),
	partial("fstatfs", sysFstatfs, "fd,ptr", "the host's statfs for gofer files; ENOSYS where a file system has none"),
}, xattrSyscalls...)

// xattrSyscalls are the extended attribute calls, each in its three
// forms (path, lpath and fd), as Linux implements them: one call with
// three ways of naming the file.
var xattrSyscalls = slices.Concat(
	xattrForms("get", getxattr, "str,ptr,size"),
	xattrForms("list", listxattr, "ptr,size"),
	xattrForms("set", setxattr, "str,ptr,size,int"),
	xattrForms("remove", removexattr, "str"),
)

// xattrNote is the note of the extended attribute calls.
const xattrNote = "user.* only (the host's, values up to 8 KiB); trusted, security and system read as absent and refuse writes"
