/* file_ops: the file system calls, their results and errnos, on a
 * read-only root prepared by sys_file_diff_test.go. Run natively (chroot
 * into a read-only bind mount) and in moat; the outputs must match. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define T(e)                                                                   \
	do {                                                                   \
		errno = 0;                                                     \
		long r_ = (long)(e);                                           \
		printf("%-58s = %ld %s\n", #e, r_ < 0 ? -1L : r_,              \
		       r_ < 0 ? strerrorname_np(errno) : "");                  \
	} while (0)

static int cmp(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }

static void list(const char *path) {
	char *names[64];
	int n = 0;
	DIR *d = opendir(path);
	if (!d) {
		printf("opendir %s: %s\n", path, strerrorname_np(errno));
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) && n < 64)
		names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof names[0], cmp);
	printf("ls %s:", path);
	for (int i = 0; i < n; i++)
		printf(" %s", names[i]);
	printf("\n");
}

int main(void) {
	char buf[512];
	struct stat st;
	long long big = 1LL << 40;

	/* open, read, offsets */
	int fd = open("/data/hello", O_RDONLY);
	T(fd);
	T(read(fd, buf, 5)); buf[5] = 0; puts(buf);
	T(lseek(fd, 0, SEEK_CUR));
	int fd2 = dup(fd);
	T(read(fd2, buf, 3));
	T(lseek(fd, 0, SEEK_CUR)); /* shared with the dup */
	int fd3 = open("/data/hello", O_RDONLY);
	T(lseek(fd3, 0, SEEK_CUR)); /* a new description has its own */
	T(pread(fd, buf, 4, 1)); buf[4] = 0; puts(buf);
	T(lseek(fd, 0, SEEK_CUR));
	T(pread(fd, buf, 4, -1));
	T(pread(fd, buf, 4, big));
	T(lseek(fd, 0, SEEK_END));
	T(lseek(fd, -100, SEEK_CUR));
	T(lseek(fd, 0, 99));
	T(lseek(fd, 1, SEEK_SET));
	struct iovec iov[3] = {{buf, 2}, {buf + 2, 0}, {buf + 10, 3}};
	T(readv(fd, iov, 3));
	T(readv(fd, iov, 1025));
	T(readv(fd, iov, -1));
	T(readv(fd, iov, 0));
	T(read(fd, NULL, 10));
	T(read(99, buf, 1));
	T(write(fd, "x", 1));
	T(close(fd3));
	T(close(fd3));

	/* fcntl and flags */
	T(fcntl(fd, F_GETFL));
	T(fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND | O_RDWR));
	T(fcntl(fd, F_GETFL));
	T(fcntl(fd, F_GETFD));
	T(fcntl(fd, F_SETFD, FD_CLOEXEC));
	T(fcntl(fd, F_GETFD));
	T(fcntl(fd2, F_GETFD));
	T(fcntl(fd, F_DUPFD, 20));
	T(fcntl(fd, F_DUPFD_CLOEXEC, 20));
	T(fcntl(21, F_GETFD));
	T(fcntl(fd, F_DUPFD, -1));
	T(fcntl(fd, F_DUPFD, 1 << 30));
	T(fcntl(fd, 12345));
	T(fcntl(98, F_GETFD));
	T(dup2(fd, 30));
	T(dup2(30, 30));
	T(dup2(97, 31));
	T(dup3(30, 30, 0));
	T(dup3(30, 31, O_RDONLY | 1));
	T(dup3(30, 31, O_CLOEXEC));
	T(fcntl(31, F_GETFD));
	T(ioctl(fd, FIONCLEX));
	T(fcntl(fd, F_GETFD));
	T(ioctl(fd, TCGETS, buf));
	T(ioctl(fd, TIOCGWINSZ, buf));
	T(ioctl(96, TCGETS, buf));
	T(syscall(SYS_close_range, 30, 31, 0));
	T(fcntl(30, F_GETFD));
	T(syscall(SYS_close_range, 20, 21, 4));
	T(fcntl(20, F_GETFD));
	T(syscall(SYS_close_range, 5, 1, 0));
	T(syscall(SYS_close_range, 0, 1, 99));

	/* path resolution */
	T(open("/link", O_RDONLY) >= 0);
	T(open("/link", O_RDONLY | O_NOFOLLOW));
	T(open("/dirlink/hello", O_RDONLY | O_NOFOLLOW) >= 0);
	T(open("/loop1", O_RDONLY));
	T(open("/dangling", O_RDONLY));
	T(open("/data/hello/", O_RDONLY));
	T(open("/data/hello", O_RDONLY | O_DIRECTORY));
	T(open("/data/", O_RDONLY | O_DIRECTORY) >= 0);
	T(open("/data", O_RDWR));
	T(open("/data/nope", O_RDONLY));
	T(open("/data/hello/x", O_RDONLY));
	T(open("", O_RDONLY));
	T(open("/../../data/hello", O_RDONLY) >= 0);
	T(open("/escape/data/hello", O_RDONLY) >= 0);
	T(open("/abs/data/hello", O_RDONLY) >= 0);
	T(open("/outside", O_RDONLY));
	memset(buf, 'a', 300); buf[0] = '/'; buf[300] = 0;
	T(open(buf, O_RDONLY));
	char *longp = malloc(5000);
	memset(longp, '/', 4999); longp[4999] = 0;
	T(open(longp, O_RDONLY));
	longp[4095] = 0;
	T(open(longp, O_RDONLY) >= 0); /* fd numbers: the native run may inherit stray fds */
	longp[4094] = 0;
	T(open(longp, O_RDONLY) >= 0);
	T(open((char *)8, O_RDONLY));

	/* writes on the read-only root */
	T(open("/data/hello", O_WRONLY));
	T(open("/data/hello", O_RDONLY | O_TRUNC));
	T(open("/data/new", O_CREAT | O_WRONLY, 0644));
	T(open("/data/hello", O_CREAT | O_RDONLY, 0644) >= 0);
	T(open("/data/hello", O_CREAT | O_EXCL | O_RDONLY, 0644));
	T(open("/nodir/new", O_CREAT | O_RDONLY, 0644));
	T(creat("/data/new", 0644));
	T(mkdir("/data", 0755));
	T(mkdir("/data/newdir", 0755));
	T(mkdir("/nodir/x", 0755));
	T(unlink("/data/hello"));
	T(unlink("/nodir/x"));
	T(rmdir("/data"));
	T(rename("/data/hello", "/data/h2"));
	T(symlink("x", "/data/sym"));
	T(link("/data/hello", "/data/h3"));
	T(chmod("/data/hello", 0600));
	T(chmod("/data/nope", 0600));
	T(chown("/data/hello", 1, 1));
	T(truncate("/data/hello", 0));
	T(truncate("/data", 0));

	/* stat family */
	T(stat("/data/hello", &st)); T(st.st_size); T(st.st_mode);
	T(lstat("/link", &st)); T(st.st_mode & S_IFMT);
	T(stat("/link", &st)); T(st.st_mode & S_IFMT);
	T(fstat(fd, &st)); T(st.st_size);
	T(fstatat(AT_FDCWD, "/link", &st, AT_SYMLINK_NOFOLLOW)); T(st.st_mode & S_IFMT);
	T(fstatat(fd, "", &st, AT_EMPTY_PATH)); T(st.st_size);
	T(fstatat(fd, "", &st, 0));
	T(fstatat(fd, "x", &st, 0));
	T(fstatat(AT_FDCWD, "/data", &st, 0x8000));
	T(fstat(95, &st));
	T(stat("/data/hello", (struct stat *)8));
	struct statx sx;
	T(statx(AT_FDCWD, "/data/hello", 0, STATX_BASIC_STATS, &sx)); T(sx.stx_size); T(sx.stx_mode);
	T(statx(AT_FDCWD, "/link", AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx)); T(sx.stx_mode & S_IFMT);
	T(statx(AT_FDCWD, "/data", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC, 0, &sx));
	T(statx(AT_FDCWD, "/data", 0, 0x80000000, &sx));
	T(statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx)); T(sx.stx_size);

	/* readlink, access */
	T(readlink("/link", buf, sizeof buf)); buf[10] = 0;
	T(readlink("/link", buf, 4));
	T(readlink("/link", buf, 0));
	T(readlink("/data/hello", buf, 10));
	T(readlinkat(AT_FDCWD, "/dangling", buf, 64));
	T(access("/data/hello", R_OK));
	T(access("/data/hello", W_OK));
	T(access("/data/hello", X_OK));
	T(access("/file_ops", X_OK));
	T(access("/data", X_OK));
	T(access("/data/hello", 8));
	T(access("/dangling", F_OK));
	T(faccessat(AT_FDCWD, "/dangling", F_OK, AT_SYMLINK_NOFOLLOW));
	T(syscall(SYS_faccessat2, AT_FDCWD, "/dangling", F_OK, AT_SYMLINK_NOFOLLOW));
	T(syscall(SYS_faccessat2, AT_FDCWD, "/data", F_OK, 0x4000));

	/* working directory */
	T(getcwd(buf, sizeof buf) != NULL); puts(buf);
	T(chdir("/dirlink"));
	T(getcwd(buf, sizeof buf) != NULL); puts(buf);
	T(syscall(SYS_getcwd, buf, 3));
	T(syscall(SYS_getcwd, buf, 6));
	T(open("hello", O_RDONLY) >= 0);
	T(chdir("../data/../.."));
	T(getcwd(buf, sizeof buf) != NULL); puts(buf);
	T(chdir("/data/hello"));
	T(chdir("/nope"));
	int dfd = open("/data", O_RDONLY | O_DIRECTORY);
	T(fchdir(dfd));
	T(getcwd(buf, sizeof buf) != NULL); puts(buf);
	T(fchdir(fd));
	T(fchdir(94));
	T(openat(dfd, "hello", O_RDONLY) >= 0);
	T(openat(fd, "hello", O_RDONLY));
	T(openat(93, "hello", O_RDONLY));
	T(openat(93, "/data/hello", O_RDONLY) >= 0);
	T(chdir("/"));

	/* directories */
	list("/");
	list("/data");
	int d = open("/data", O_RDONLY | O_DIRECTORY);
	T(syscall(SYS_getdents64, d, buf, 1));
	T(syscall(SYS_getdents64, d, buf, sizeof buf) > 0);
	T(syscall(SYS_getdents64, d, buf, sizeof buf));
	T(lseek(d, 0, SEEK_SET));
	T(syscall(SYS_getdents64, d, buf, sizeof buf) > 0);
	T(syscall(SYS_getdents64, fd, buf, sizeof buf));
	T(read(d, buf, 10));
	return 0;
}
