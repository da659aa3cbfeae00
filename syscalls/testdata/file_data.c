/* file_data: calls on open files' data (ftruncate, fallocate, fsync,
 * flock, record and OFD locks, sendfile, copy_file_range, preadv2 ...),
 * their results and errnos, on a read-only root prepared by
 * sys_file_data_diff_test.go (writes go to stdout, a pipe). Run natively
 * and in moat; the outputs must match. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "difftest.h"

#define T(e) res(#e, (e))

static void msleep(int ms) {
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void onsig(int sig) { (void)sig; }

/* getlk prints what F_GETLK (or F_OFD_GETLK) says about [start, start+len). */
static void getlk(const char *what, int fd, int cmd, short type, off_t start, off_t len) {
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	int r = fcntl(fd, cmd, &fl);
	if (r < 0) {
		out("%s: -1 %s\n", what, strerrorname_np(errno));
		return;
	}
	out("%s: type %d whence %d start %ld len %ld pid %d\n", what, fl.l_type, fl.l_whence,
	    (long)fl.l_start, (long)fl.l_len, fl.l_pid);
}

static int setlk(int fd, int cmd, short type, off_t start, off_t len) {
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &fl);
}

static void wait_child(void) {
	int st;
	if (wait(&st) < 0)
		out("wait: %s\n", strerrorname_np(errno));
	else
		out("child status %d\n", st);
}

static void truncate_alloc_sync(void) {
	int fd = open("/data/hello", O_RDONLY);
	int dir = open("/data", O_RDONLY | O_DIRECTORY);
	int path = open("/data/hello", O_PATH);
	T(ftruncate(fd, 1));
	T(ftruncate(fd, -1));
	T(ftruncate(99, 1));
	T(ftruncate(1, 0));
	T(ftruncate(path, 0));
	T(ftruncate(dir, 0));
	T(fallocate(fd, 0, 0, 10));
	T(fallocate(fd, 0, 0, 0));
	T(fallocate(fd, 0, -1, 10));
	T(fallocate(fd, 0x100, 0, 10));
	T(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10));
	T(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE, 0, 10));
	T(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_KEEP_SIZE, 0, 10));
	T(fallocate(1, 0, 0, 10));
	T(fallocate(99, 0, 0, 10));
	T(fallocate(path, 0, 0, 10));
	T(fsync(fd));
	T(fdatasync(fd));
	T(fsync(dir));
	T(fsync(1));
	T(fdatasync(1));
	T(fsync(99));
	T(fsync(path));
	T(syncfs(fd));
	T(syncfs(99));
	sync();
	T(sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
	T(sync_file_range(fd, 0, 0, 8));
	T(sync_file_range(fd, -1, 0, 0));
	T(sync_file_range(fd, 1, -2, 0));
	T(sync_file_range(1, 0, 0, 0));
	T(sync_file_range(99, 0, 0, 0));
	T(readahead(fd, 0, 100));
	T(readahead(1, 0, 100));
	T(readahead(dir, 0, 100));
	T(readahead(99, 0, 100));
	T(syscall(SYS_fadvise64, fd, 0, 100, POSIX_FADV_WILLNEED));
	T(syscall(SYS_fadvise64, fd, 0, 100, 99));
	T(syscall(SYS_fadvise64, 1, 0, 100, POSIX_FADV_NORMAL));
	T(syscall(SYS_fadvise64, 99, 0, 100, POSIX_FADV_NORMAL));
	close(fd);
	close(dir);
	close(path);
}

static void flocks(void) {
	int a = open("/data/hello", O_RDONLY);
	int b = open("/data/hello", O_RDONLY);
	int path = open("/data/hello", O_PATH);
	T(flock(a, LOCK_SH));
	T(flock(b, LOCK_SH | LOCK_NB));
	T(flock(b, LOCK_EX | LOCK_NB)); /* drops b's shared lock, then fails */
	T(flock(a, LOCK_EX | LOCK_NB)); /* b holds nothing now */
	T(flock(b, LOCK_SH | LOCK_NB));
	T(flock(a, 3));
	T(flock(99, 3));
	T(flock(99, LOCK_SH));
	T(flock(path, LOCK_SH));
	T(flock(a, LOCK_SH | 32)); /* LOCK_MAND: ignored */
	int c = dup(a);
	T(close(a));
	T(flock(b, LOCK_SH | LOCK_NB)); /* the dup keeps the description's lock */
	T(close(c));
	T(flock(b, LOCK_EX | LOCK_NB)); /* last close released it */

	/* A child shares the description, and so the lock; a new open of
	 * its own conflicts and a blocked request gives way to a signal. */
	pid_t p = fork();
	if (p == 0) {
		int d = open("/data/hello", O_RDONLY);
		res("child flock(inherited, LOCK_EX|LOCK_NB)", flock(b, LOCK_EX | LOCK_NB));
		res("child flock(own, LOCK_SH|LOCK_NB)", flock(d, LOCK_SH | LOCK_NB));
		struct sigaction sa = {.sa_handler = onsig};
		sigaction(SIGUSR1, &sa, NULL);
		res("child flock(own, LOCK_SH) interrupted", flock(d, LOCK_SH));
		res("child flock(own, LOCK_SH) after unlock", flock(d, LOCK_SH));
		_exit(0);
	}
	msleep(200);
	kill(p, SIGUSR1);
	msleep(100);
	/* Print after the child: it wakes as soon as the lock goes. */
	int r = flock(b, LOCK_UN);
	wait_child();
	res("flock(b, LOCK_UN)", r);
	close(b);
	close(path);
}

static void records(void) {
	int r;
	int ro = open("/data/hello", O_RDONLY);
	int path = open("/data/hello", O_PATH);
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
	T(setlk(ro, F_SETLK, F_RDLCK, 0, 10));
	T(setlk(ro, F_SETLK, F_WRLCK, 0, 10));
	T(setlk(1, F_SETLK, F_RDLCK, 0, 10));
	T(setlk(ro, F_SETLK, 7, 0, 10));
	T(setlk(99, F_SETLK, F_RDLCK, 0, 10));
	T(setlk(path, F_SETLK, F_RDLCK, 0, 10));
	T(setlk(ro, F_SETLK, F_RDLCK, -5, 10));
	T(setlk(ro, F_SETLK, F_RDLCK, 5, -10));
	T(setlk(ro, F_SETLK, F_RDLCK, 0x7fffffffffffff00, 0x1000));
	fl.l_whence = 9;
	T(fcntl(ro, F_SETLK, &fl));
	fl.l_whence = SEEK_END;
	fl.l_start = -3;
	fl.l_len = 2;
	T(fcntl(ro, F_SETLK, &fl));
	getlk("getlk own", ro, F_GETLK, F_WRLCK, 0, 0);
	getlk("getlk unlck", ro, F_GETLK, F_UNLCK, 0, 0);
	getlk("getlk bad fd", 99, F_GETLK, F_WRLCK, 0, 0);
	getlk("ofd getlk", ro, F_OFD_GETLK, F_WRLCK, 0, 0);
	fl = (struct flock){.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_pid = 5};
	T(fcntl(ro, F_OFD_SETLK, &fl));
	T(fcntl(ro, F_OFD_GETLK, &fl));

	/* Write locks on stdout (a pipe open for writing): split and merge. */
	T(setlk(1, F_SETLK, F_WRLCK, 0, 100));
	T(setlk(1, F_SETLK, F_UNLCK, 10, 10));
	T(setlk(1, F_SETLK, F_WRLCK, 200, 0));
	T(setlk(1, F_SETLK, F_WRLCK, 100, 50)); /* merges with 0-99 */
	pid_t p = fork();
	if (p == 0) {
		getlk("child getlk all", 1, F_GETLK, F_WRLCK, 0, 0);
		getlk("child getlk hole", 1, F_GETLK, F_WRLCK, 10, 10);
		getlk("child getlk after hole", 1, F_GETLK, F_WRLCK, 15, 20);
		getlk("child getlk tail", 1, F_GETLK, F_WRLCK, 150, 0);
		getlk("child getlk ro", ro, F_GETLK, F_WRLCK, 0, 0);
		res("child setlk conflict", setlk(1, F_SETLK, F_WRLCK, 50, 1));
		res("child setlk hole", setlk(1, F_SETLK, F_WRLCK, 10, 10));
		res("child setlk shared ro", setlk(ro, F_SETLK, F_RDLCK, 0, 0));
		_exit(0);
	}
	wait_child();

	/* Closing any descriptor of the file drops the process's locks. */
	int d = dup(1);
	T(close(d));
	p = fork();
	if (p == 0) {
		getlk("child getlk after close", 1, F_GETLK, F_WRLCK, 0, 0);
		_exit(0);
	}
	wait_child();

	/* OFD locks: owned by the description, l_pid -1, conflict with
	 * POSIX locks of others. */
	T(setlk(1, F_OFD_SETLK, F_WRLCK, 0, 10));
	getlk("ofd getlk own", 1, F_OFD_GETLK, F_WRLCK, 0, 10);
	getlk("posix getlk vs own ofd", 1, F_GETLK, F_WRLCK, 0, 10);
	p = fork();
	if (p == 0) {
		int e = open("/data/hello", O_RDONLY);
		(void)e;
		res("child posix setlk vs ofd", setlk(1, F_SETLK, F_WRLCK, 5, 1));
		res("child ofd setlk shared desc", setlk(1, F_OFD_SETLK, F_WRLCK, 5, 1));
		_exit(0);
	}
	wait_child();
	T(setlk(1, F_OFD_SETLK, F_UNLCK, 0, 0));

	/* EDEADLK: the parent holds byte 0 and the child byte 1; the child
	 * waits for byte 0, then the parent asks for byte 1. */
	T(setlk(1, F_SETLK, F_WRLCK, 0, 1));
	p = fork();
	if (p == 0) {
		res("child setlk byte 1", setlk(1, F_SETLK, F_WRLCK, 1, 1));
		res("child setlkw byte 0", setlk(1, F_SETLKW, F_WRLCK, 0, 1));
		_exit(0);
	}
	msleep(200);
	T(setlk(1, F_SETLKW, F_WRLCK, 1, 1));
	r = setlk(1, F_SETLK, F_UNLCK, 0, 0);
	wait_child();
	res("setlk(1, F_SETLK, F_UNLCK, 0, 0)", r);

	/* A blocked F_SETLKW gives way to a signal without SA_RESTART. */
	T(setlk(1, F_SETLK, F_WRLCK, 0, 1));
	p = fork();
	if (p == 0) {
		struct sigaction sa = {.sa_handler = onsig};
		sigaction(SIGUSR1, &sa, NULL);
		res("child setlkw interrupted", setlk(1, F_SETLKW, F_WRLCK, 0, 1));
		_exit(0);
	}
	msleep(200);
	kill(p, SIGUSR1);
	wait_child();
	T(setlk(1, F_SETLK, F_UNLCK, 0, 0));
	close(ro);
	close(path);
}

static void vectors_and_copies(void) {
	char a[8], b[8];
	int fd = open("/data/hello", O_RDONLY);
	int dir = open("/data", O_RDONLY | O_DIRECTORY);
	struct iovec iov[2] = {{a, 3}, {b, 4}};
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	T(preadv(fd, iov, 2, 1));
	out("%s|%s\n", a, b);
	T(lseek(fd, 0, SEEK_CUR));
	T(preadv(fd, iov, 2, -1));
	T(preadv(1, iov, 2, 0));
	T(preadv(99, iov, 2, 0));
	T(preadv(fd, iov, 1025, 0));
	T(preadv(fd, NULL, 1, 0));
	T(pwritev(fd, iov, 2, 0));
	T(lseek(fd, 2, SEEK_SET));
	T(preadv2(fd, iov, 1, -1, 0));
	T(lseek(fd, 0, SEEK_CUR));
	T(preadv2(fd, iov, 1, 0, RWF_HIPRI));
	T(preadv2(fd, iov, 1, 0, 0x10000000));
	struct iovec empty = {a, 0};
	T(preadv2(fd, &empty, 1, 0, 0x10000000));
	T(preadv2(fd, iov, 1, -2, 0));
	struct iovec msg = {"pwritev2 to stdout\n", 19};
	T(pwritev2(1, &msg, 1, -1, 0));
	T(pwritev2(1, &msg, 1, 0, 0));

	off_t off = 7;
	T(sendfile(1, fd, &off, 5));
	out("\noff %ld pos %ld\n", (long)off, (long)lseek(fd, 0, SEEK_CUR));
	T(lseek(fd, 0, SEEK_SET));
	T(sendfile(1, fd, NULL, 6));
	out("\npos %ld\n", (long)lseek(fd, 0, SEEK_CUR));
	T(sendfile(1, fd, NULL, 100));
	T(sendfile(1, fd, NULL, 100));
	T(sendfile(fd, fd, NULL, 1));
	T(sendfile(99, fd, NULL, 1));
	T(sendfile(1, 99, NULL, 1));
	off = -1;
	T(sendfile(1, fd, &off, 1));
	T(sendfile(1, fd, (off_t *)8, 1));

	off_t in = 0;
	T(copy_file_range(fd, &in, 1, NULL, 5, 0));
	T(copy_file_range(fd, &in, fd, NULL, 5, 0));
	T(copy_file_range(fd, &in, 1, NULL, 5, 1));
	T(copy_file_range(dir, NULL, fd, NULL, 5, 0));
	T(copy_file_range(99, NULL, fd, NULL, 5, 0));
	T(copy_file_range(fd, NULL, 99, NULL, 5, 0));
	close(fd);
	close(dir);
}

int main(void) {
	truncate_alloc_sync();
	flocks();
	records();
	vectors_and_copies();
	return 0;
}
