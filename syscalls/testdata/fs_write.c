/* fs_write.c: the calls that change the tree and file metadata, with
 * their error cases, run natively (chroot) and in moat on the same
 * fresh tree: /w writable (empty), /ro a read-only mount holding file
 * "f" and directory "d". Run as root with no argument, then as uid 1000
 * with argument "user" (after the root run, on the tree it left). */
#include "difftest.h"
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <utime.h>

static void st(const char *what, const char *path, int follow) {
	struct stat s;
	int r = follow ? stat(path, &s) : lstat(path, &s);
	if (r < 0) {
		res(what, r);
		return;
	}
	out("%s: mode %o uid %d gid %d size %ld nlink %ld\n", what, s.st_mode, s.st_uid, s.st_gid,
	    (long)s.st_size, (long)s.st_nlink);
}

static void times_of(const char *what, const char *path) {
	struct stat s;
	if (lstat(path, &s) < 0) {
		res(what, -1);
		return;
	}
	out("%s: atime %ld mtime %ld.%09ld\n", what, (long)s.st_atime, (long)s.st_mtime, s.st_mtim.tv_nsec);
}

static void as_root(void) {
	char name[300];
	umask(022);
	/* open/creat */
	int fd = open("/w/a", O_CREAT | O_EXCL | O_WRONLY, 0666);
	res("creat a", fd >= 0 ? 0 : -1);
	res("write a", write(fd, "hello", 5));
	close(fd);
	st("a", "/w/a", 1);
	res("excl again", open("/w/a", O_CREAT | O_EXCL | O_WRONLY, 0644));
	fd = open("/w/a", O_WRONLY | O_APPEND);
	res("write append", write(fd, "!!", 2));
	close(fd);
	st("a appended", "/w/a", 1);
	fd = open("/w/a", O_RDWR | O_TRUNC);
	close(fd);
	st("a truncated", "/w/a", 1);
	res("creat in missing", open("/w/nodir/x", O_CREAT | O_WRONLY, 0644));
	res("creat trailing slash", open("/w/new/", O_CREAT | O_WRONLY, 0644));
	res("creat on ro", open("/ro/new", O_CREAT | O_WRONLY, 0644));
	res("open ro for write", open("/ro/f", O_WRONLY));
	res("creat through file", open("/w/a/x", O_CREAT | O_WRONLY, 0644));
	memset(name, 'n', 256);
	name[0] = '/'; name[1] = 'w'; name[2] = '/'; name[259] = 0;
	res("creat long name", open(name, O_CREAT | O_WRONLY, 0644));
	res("creat tmpfile-less", creat("/w/c", 0600) >= 0 ? 0 : -1);
	st("c", "/w/c", 1);
	/* mkdir / mknod */
	res("mkdir d", mkdir("/w/d", 0777));
	st("d", "/w/d", 1);
	res("mkdir d again", mkdir("/w/d", 0777));
	res("mkdir trailing slash", mkdir("/w/d2/", 0700));
	res("mkdir on ro", mkdir("/ro/x", 0700));
	res("mkdir ro existing", mkdir("/ro/d", 0700));
	res("mkdir in file", mkdir("/w/a/x", 0700));
	res("mknod fifo", mknod("/w/fifo", S_IFIFO | 0644, 0));
	st("fifo", "/w/fifo", 0);
	res("mknod sock", mknod("/w/sock", S_IFSOCK | 0600, 0));
	res("mknod reg", mknod("/w/reg", S_IFREG | 0600, 0));
	st("reg", "/w/reg", 0);
	res("mkfifo existing", mkfifo("/w/a", 0600));
	/* symlink / link */
	res("symlink", symlink("a", "/w/sl"));
	st("sl", "/w/sl", 0);
	res("symlink existing", symlink("x", "/w/a"));
	res("symlink empty", symlink("", "/w/e"));
	res("symlink loop", symlink("loop", "/w/loop"));
	res("open loop", open("/w/loop", O_RDONLY));
	res("creat through loop", open("/w/loop", O_CREAT | O_WRONLY, 0600));
	res("symlink dangling", symlink("target", "/w/dang"));
	fd = open("/w/dang", O_CREAT | O_WRONLY, 0600);
	res("creat through dangling", fd >= 0 ? 0 : -1);
	close(fd);
	st("target", "/w/target", 1);
	res("excl through symlink", open("/w/sl", O_CREAT | O_EXCL | O_WRONLY, 0600));
	res("link", link("/w/a", "/w/hard"));
	st("a linked", "/w/a", 1);
	res("link existing", link("/w/a", "/w/c"));
	res("link dir", link("/w/d", "/w/dlink"));
	res("link to ro", link("/w/a", "/ro/x"));
	res("link from ro", link("/ro/f", "/w/x"));
	res("link missing", link("/w/nope", "/w/x"));
	res("linkat nofollow", linkat(AT_FDCWD, "/w/sl", AT_FDCWD, "/w/sl2", 0));
	st("sl2", "/w/sl2", 0);
	res("linkat follow", linkat(AT_FDCWD, "/w/sl", AT_FDCWD, "/w/sl3", AT_SYMLINK_FOLLOW));
	st("sl3", "/w/sl3", 0);
	fd = open("/w/c", O_RDONLY);
	res("linkat empty path", linkat(fd, "", AT_FDCWD, "/w/c2", AT_EMPTY_PATH));
	close(fd);
	st("c linked", "/w/c", 1);
	res("linkat bad flags", linkat(AT_FDCWD, "/w/a", AT_FDCWD, "/w/x", 0x8000));
	/* chmod / chown */
	res("chmod", chmod("/w/a", 04755));
	st("a chmod", "/w/a", 1);
	res("chown", chown("/w/a", 1000, 1000));
	st("a chown (suid cleared)", "/w/a", 1);
	res("chown -1", chown("/w/a", -1, 2000));
	st("a chgrp", "/w/a", 1);
	res("lchown", lchown("/w/sl", 1000, 1000));
	st("sl lchown", "/w/sl", 0);
	st("a after lchown", "/w/a", 1);
	fd = open("/w/c", O_RDONLY);
	res("fchmod", fchmod(fd, 0640));
	res("fchown", fchown(fd, 3, 4));
	close(fd);
	st("c", "/w/c", 1);
	res("fchmodat", fchmodat(AT_FDCWD, "/w/c", 0600, 0));
	res("fchownat nofollow", fchownat(AT_FDCWD, "/w/sl2", 5, 6, AT_SYMLINK_NOFOLLOW));
	st("sl2 fchownat", "/w/sl2", 0);
	fd = open("/w/c", O_PATH);
	res("fchmod O_PATH", fchmod(fd, 0600));
	res("fchownat empty path", fchownat(fd, "", 7, 8, AT_EMPTY_PATH));
	close(fd);
	st("c fchownat", "/w/c", 1);
	res("chmod ro", chmod("/ro/f", 0600));
	res("chmod missing", chmod("/w/nope", 0600));
	res("chown ro", chown("/ro/f", 1, 1));
	res("chmod d sticky", chmod("/w/d", 01777));
	st("d sticky", "/w/d", 1);
	/* truncate / utimes */
	res("truncate", truncate("/w/a", 3));
	st("a truncate", "/w/a", 1);
	res("truncate grow", truncate("/w/a", 10000));
	st("a grown", "/w/a", 1);
	res("truncate dir", truncate("/w/d", 0));
	res("truncate ro", truncate("/ro/f", 0));
	res("truncate negative", truncate("/w/a", -1));
	res("truncate missing", truncate("/w/nope", 0));
	res("truncate fifo", truncate("/w/fifo", 0));
	struct timespec ts[2] = {{100, 5}, {200, 6}};
	res("utimensat", utimensat(AT_FDCWD, "/w/a", ts, 0));
	times_of("a times", "/w/a");
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = 300;
	res("utimensat omit", utimensat(AT_FDCWD, "/w/a", ts, 0));
	times_of("a times omit", "/w/a");
	ts[0].tv_nsec = 1000000000;
	res("utimensat bad nsec", utimensat(AT_FDCWD, "/w/a", ts, 0));
	struct timespec ts2[2] = {{1, 0}, {2, 0}};
	res("utimensat nofollow", utimensat(AT_FDCWD, "/w/sl", ts2, AT_SYMLINK_NOFOLLOW));
	times_of("sl times", "/w/sl");
	fd = open("/w/c", O_RDONLY);
	res("futimens", futimens(fd, ts2));
	close(fd);
	times_of("c times", "/w/c");
	struct timeval tv[2] = {{10, 1}, {20, 2}};
	res("utimes", utimes("/w/c", tv));
	times_of("c utimes", "/w/c");
	tv[0].tv_usec = 1000000;
	res("utimes bad usec", utimes("/w/c", tv));
	struct utimbuf ub = {30, 40};
	res("utime", utime("/w/c", &ub));
	times_of("c utime", "/w/c");
	res("futimesat", futimesat(AT_FDCWD, "/w/reg", (struct timeval[2]){{50, 0}, {60, 0}}));
	times_of("reg futimesat", "/w/reg");
	res("utimensat ro", utimensat(AT_FDCWD, "/ro/f", ts2, 0));
	res("utimensat missing", utimensat(AT_FDCWD, "/w/nope", NULL, 0));
	/* rename */
	res("rename", rename("/w/c2", "/w/c3"));
	st("c3", "/w/c3", 1);
	st("c2 gone", "/w/c2", 1);
	res("rename over", rename("/w/c3", "/w/reg"));
	st("reg now c", "/w/reg", 1);
	res("rename hard links", rename("/w/a", "/w/hard"));
	st("a still", "/w/a", 1);
	res("rename missing", rename("/w/nope", "/w/x"));
	res("rename dir into itself", rename("/w/d", "/w/d/sub"));
	res("mkdir d/sub", mkdir("/w/d/sub", 0755));
	res("mkdir e", mkdir("/w/e", 0755));
	res("mkdir e/f", mkdir("/w/e/f", 0755));
	res("rename dir over non-empty", rename("/w/d", "/w/e"));
	res("rename dir over file", rename("/w/d", "/w/a"));
	res("rename file over dir", rename("/w/a", "/w/d"));
	res("rename over ancestor", rename("/w/d/sub", "/w"));
	res("rename across mounts", rename("/w/a", "/ro/a"));
	res("rename ro", rename("/ro/f", "/ro/g"));
	res("rename mount point", rename("/ro", "/w/ro"));
	res("rename dot", rename("/w/.", "/w/x"));
	res("rename trailing slash file", rename("/w/a/", "/w/x"));
	res("renameat2 noreplace", renameat2(AT_FDCWD, "/w/a", AT_FDCWD, "/w/c", RENAME_NOREPLACE));
	res("renameat2 exchange", renameat2(AT_FDCWD, "/w/a", AT_FDCWD, "/w/d", RENAME_EXCHANGE));
	st("a is dir", "/w/a", 1);
	st("d is file", "/w/d", 1);
	res("renameat2 exchange back", renameat2(AT_FDCWD, "/w/a", AT_FDCWD, "/w/d", RENAME_EXCHANGE));
	res("renameat2 exchange missing", renameat2(AT_FDCWD, "/w/a", AT_FDCWD, "/w/nope", RENAME_EXCHANGE));
	/* RENAME_WHITEOUT is not tried: Linux (5.8+) makes a whiteout
	 * device for anyone, moat refuses it (EINVAL, a documented gap). */
	res("renameat2 both", renameat2(AT_FDCWD, "/w/a", AT_FDCWD, "/w/x", RENAME_NOREPLACE | RENAME_EXCHANGE));
	res("rename dir", rename("/w/e", "/w/d/e2"));
	st("e2/f", "/w/d/e2/f", 1);
	res("chdir d/e2", chdir("/w/d/e2"));
	res("rename cwd's parent", rename("/w/d", "/w/dd"));
	char cwd[256];
	out("cwd %s\n", getcwd(cwd, sizeof cwd) ? cwd : strerrorname_np(errno));
	res("chdir /", chdir("/"));
	/* unlink / rmdir */
	res("unlink", unlink("/w/hard"));
	st("a nlink", "/w/a", 1);
	res("unlink missing", unlink("/w/hard"));
	res("unlink dir", unlink("/w/dd"));
	res("rmdir file", rmdir("/w/a"));
	res("rmdir non-empty", rmdir("/w/dd"));
	res("rmdir dot", rmdir("/w/dd/."));
	res("rmdir dotdot", rmdir("/w/dd/e2/.."));
	res("rmdir mount point", rmdir("/ro"));
	res("rmdir ro", rmdir("/ro/d"));
	res("unlink ro", unlink("/ro/f"));
	res("unlinkat removedir", unlinkat(AT_FDCWD, "/w/dd/e2/f", AT_REMOVEDIR));
	res("unlinkat bad flags", unlinkat(AT_FDCWD, "/w/dd/e2/f", 1));
	res("rmdir e2 non-empty", rmdir("/w/dd/e2"));
	res("unlink symlink", unlink("/w/sl"));
	st("a after unlink sl", "/w/a", 1);
	res("unlink through file", unlink("/w/a/x"));
	/* statfs */
	struct statfs sf, sf2;
	res("statfs", statfs("/w", &sf));
	fd = open("/w", O_RDONLY | O_DIRECTORY);
	res("fstatfs", fstatfs(fd, &sf2));
	close(fd);
	out("statfs type %lx same %d namelen %ld\n", (long)sf.f_type, sf.f_type == sf2.f_type, (long)sf.f_namelen);
	res("statfs missing", statfs("/w/nope", &sf));
	/* xattrs */
	int xr = setxattr("/w/a", "user.k", "v1", 2, XATTR_CREATE);
	if (xr < 0 && errno == EOPNOTSUPP) {
		out("no user xattrs\n");
	} else {
		res("setxattr", xr);
		res("setxattr create again", setxattr("/w/a", "user.k", "v2", 2, XATTR_CREATE));
		res("setxattr replace missing", setxattr("/w/a", "user.nope", "v", 1, XATTR_REPLACE));
		char v[64];
		res("getxattr size", getxattr("/w/a", "user.k", NULL, 0));
		long n = getxattr("/w/a", "user.k", v, sizeof v);
		res("getxattr", n);
		if (n > 0)
			out("value %.*s\n", (int)n, v);
		res("getxattr small", getxattr("/w/a", "user.k", v, 1));
		res("getxattr missing", getxattr("/w/a", "user.nope", v, sizeof v));
		n = listxattr("/w/a", v, sizeof v);
		res("listxattr", n);
		res("lgetxattr symlink", lgetxattr("/w/loop", "user.k", v, sizeof v));
		res("lsetxattr symlink", lsetxattr("/w/loop", "user.k", "v", 1, 0));
		/* trusted.* is tried in the user run: root may set it on Linux,
		 * moat keeps it from the host. */
		res("setxattr bogus ns", setxattr("/w/a", "bogus.k", "v", 1, 0));
		res("setxattr empty name", setxattr("/w/a", "", "v", 1, 0));
		res("removexattr", removexattr("/w/a", "user.k"));
		res("removexattr again", removexattr("/w/a", "user.k"));
		res("setxattr ro", setxattr("/ro/f", "user.k", "v", 1, 0));
		fd = open("/w/a", O_RDONLY);
		res("fsetxattr", fsetxattr(fd, "user.f", "x", 1, 0));
		res("fgetxattr", fgetxattr(fd, "user.f", v, sizeof v));
		res("flistxattr", flistxattr(fd, v, sizeof v));
		res("fremovexattr", fremovexattr(fd, "user.f"));
		close(fd);
	}
	/* For the user run. */
	res("mkdir sticky", mkdir("/w/tmp", 01777));
	res("chmod sticky", chmod("/w/tmp", 01777));
	fd = open("/w/tmp/roots", O_CREAT | O_WRONLY, 0666);
	close(fd);
	res("chmod roots", chmod("/w/tmp/roots", 0666));
	res("mkdir private", mkdir("/w/private", 0700));
	fd = open("/w/rootonly", O_CREAT | O_WRONLY, 0644);
	close(fd);
}

static void as_user(void) {
	int fd;
	umask(0);
	out("uid %d\n", getuid());
	res("creat in root dir", open("/w/x", O_CREAT | O_WRONLY, 0644));
	res("mkdir in root dir", mkdir("/w/x", 0755));
	res("unlink in root dir", unlink("/w/rootonly"));
	res("open root's 0644 for write", open("/w/rootonly", O_WRONLY));
	res("walk private", open("/w/private/x", O_RDONLY));
	fd = open("/w/tmp/mine", O_CREAT | O_WRONLY, 0666);
	res("creat in sticky", fd >= 0 ? 0 : -1);
	close(fd);
	st("mine", "/w/tmp/mine", 1);
	res("unlink root's in sticky", unlink("/w/tmp/roots"));
	res("rename root's in sticky", rename("/w/tmp/roots", "/w/tmp/r2"));
	res("chmod root's", chmod("/w/tmp/roots", 0600));
	res("chown root's", chown("/w/tmp/roots", 1000, 1000));
	res("chown mine to root", chown("/w/tmp/mine", 0, -1));
	res("chown mine to self", chown("/w/tmp/mine", 1000, 1000));
	res("chgrp mine to 0", chown("/w/tmp/mine", -1, 0));
	res("chmod mine setgid", chmod("/w/tmp/mine", 02755));
	st("mine chmod", "/w/tmp/mine", 1);
	res("utimes root's now", utimensat(AT_FDCWD, "/w/tmp/roots", NULL, 0));
	struct timespec ts[2] = {{1, 0}, {2, 0}};
	res("utimes root's explicit", utimensat(AT_FDCWD, "/w/tmp/roots", ts, 0));
	res("utimes root's 0644 now", utimensat(AT_FDCWD, "/w/rootonly", NULL, 0));
	res("truncate root's 0644", truncate("/w/rootonly", 0));
	res("link root's 0644", link("/w/rootonly", "/w/tmp/l"));
	res("link root's 0666", link("/w/tmp/roots", "/w/tmp/l2"));
	res("setxattr trusted", setxattr("/w/tmp/mine", "trusted.k", "v", 1, 0));
	res("getxattr trusted", getxattr("/w/tmp/mine", "trusted.k", NULL, 0));
	res("unlink mine", unlink("/w/tmp/mine"));
	res("unlink root's link in sticky (mine by dir? no)", unlink("/w/tmp/l2"));
	res("setxattr root's", setxattr("/w/rootonly", "user.x", "v", 1, 0));
	res("mknod device", mknod("/w/tmp/dev", S_IFCHR | 0600, makedev(1, 3)));

}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "user") == 0)
		as_user();
	else
		as_root();
	return 0;
}
