/* splice: splice, tee and vmsplice between pipes, files and stdout, their
 * errnos and their blocking, and FIFOs on the (writable) root file system.
 * Needs a writable /w. Run natively and in moat; the outputs must match. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "difftest.h"

#define T(e) res(#e, (e))

static void onsig(int sig) { (void)sig; }

/* interrupt_soon has a child send SIGALRM to the caller in 50 ms (moat
 * has no interval timers yet); it returns the child to reap. */
static pid_t interrupt_soon(void) {
	pid_t parent = getpid(), pid = fork();
	if (pid == 0) {
		struct timespec ts = {0, 50000000};
		nanosleep(&ts, NULL);
		kill(parent, SIGALRM);
		_exit(0);
	}
	return pid;
}

static void readall(const char *what, int fd) {
	char buf[256];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	if (n < 0) {
		out("%s: read -1 %s\n", what, strerrorname_np(errno));
		return;
	}
	buf[n] = 0;
	out("%s: %ld \"%s\"\n", what, (long)n, buf);
}

static void file_and_pipe(void) {
	int p[2];
	pipe(p);
	int f = open("/w/data", O_RDWR | O_CREAT | O_TRUNC, 0644);
	write(p[1], "0123456789", 10);
	loff_t off = 3;
	T(splice(p[0], NULL, f, &off, 4, 0));
	out("off_out %ld pos %ld\n", (long)off, (long)lseek(f, 0, SEEK_CUR));
	T(splice(p[0], NULL, f, NULL, 100, SPLICE_F_MORE));
	out("pos %ld\n", (long)lseek(f, 0, SEEK_CUR));
	char buf[32] = {0};
	T(pread(f, buf, sizeof buf - 1, 0));
	out("file \"%s\"\n", buf + 3);

	/* file -> pipe, with and without an offset */
	off = 4;
	T(splice(f, &off, p[1], NULL, 3, SPLICE_F_MOVE));
	out("off_in %ld\n", (long)off);
	lseek(f, 1, SEEK_SET);
	T(splice(f, NULL, p[1], NULL, 2, 0));
	out("pos %ld\n", (long)lseek(f, 0, SEEK_CUR));
	readall("pipe", p[0]);
	/* at the end of the file: 0 */
	off = 1000;
	T(splice(f, &off, p[1], NULL, 5, 0));

	/* errors */
	int g = open("/w/data2", O_RDWR | O_CREAT | O_TRUNC, 0644);
	T(splice(f, NULL, g, NULL, 5, 0));     /* neither a pipe: EINVAL */
	T(splice(p[0], &off, f, NULL, 5, 0));  /* offset on a pipe: ESPIPE */
	T(splice(f, NULL, p[1], &off, 5, 0));  /* ESPIPE */
	T(splice(99, NULL, p[1], NULL, 5, 0)); /* EBADF */
	T(splice(f, NULL, 99, NULL, 5, 0));    /* EBADF */
	T(splice(99, NULL, 98, NULL, 0, 0));   /* zero length: 0 */
	T(splice(p[1], NULL, f, NULL, 5, 0));  /* write end as input: EBADF */
	T(splice(f, NULL, p[0], NULL, 5, 0));  /* read end as output: EBADF */
	T(splice(f, NULL, p[1], NULL, 5, 0x100)); /* unknown flag: EINVAL */
	T(splice(p[0], NULL, f, (loff_t *)8, 5, 0)); /* EFAULT */
	off = -1;
	T(splice(f, &off, p[1], NULL, 5, 0));  /* EINVAL */
	T(splice(p[0], NULL, p[1], NULL, 5, 0)); /* same pipe: EINVAL */
	T(splice(p[0], NULL, f, NULL, 5, SPLICE_F_NONBLOCK)); /* EAGAIN */
	int a = open("/w/app", O_WRONLY | O_CREAT | O_APPEND, 0644);
	write(p[1], "x", 1);
	T(splice(p[0], NULL, a, NULL, 5, 0)); /* O_APPEND: EINVAL */
	readall("left", p[0]);
	int d = open("/w", O_RDONLY | O_DIRECTORY);
	T(splice(d, NULL, p[1], NULL, 5, 0)); /* EINVAL */
	close(a);
	close(d);
	close(g);
	close(f);
	close(p[0]);
	close(p[1]);
}

static void pipes(void) {
	int a[2], b[2];
	pipe(a);
	pipe(b);
	write(a[1], "abcdef", 6);
	T(tee(a[0], b[1], 4, 0));
	readall("tee copy", b[0]);
	T(splice(a[0], NULL, b[1], NULL, 2, 0));
	readall("spliced", b[0]);
	readall("rest", a[0]);
	T(tee(a[0], b[1], 4, SPLICE_F_NONBLOCK)); /* EAGAIN */
	T(tee(a[0], a[1], 4, 0));                 /* EINVAL */
	T(tee(a[0], 1 << 20, 4, 0));              /* EBADF */
	T(tee(a[1], b[1], 4, 0));                 /* EBADF */
	T(tee(a[0], b[1], 0, 0));
	T(tee(a[0], b[1], 4, 0x40));              /* EINVAL */
	int f = open("/w/data", O_RDONLY);
	T(tee(f, b[1], 4, 0));                    /* EINVAL */
	close(f);

	/* EOF: 0; no reader: EPIPE */
	close(a[1]);
	T(splice(a[0], NULL, b[1], NULL, 4, 0));
	T(tee(a[0], b[1], 4, 0));
	signal(SIGPIPE, SIG_IGN);
	pipe(a);
	write(a[1], "z", 1);
	close(b[0]);
	T(splice(a[0], NULL, b[1], NULL, 4, 0));
	T(vmsplice(b[1], &(struct iovec){"q", 1}, 1, 0));
	signal(SIGPIPE, SIG_DFL);
	close(b[1]);

	/* splice into stdout (a pipe natively, a host file in moat) */
	write(a[1], "to stdout\n", 10);
	T(splice(a[0], NULL, 1, NULL, 100, 0));
	close(a[0]);
	close(a[1]);
}

static void vm(void) {
	int p[2];
	pipe(p);
	char x[] = "hello", y[] = ", world";
	struct iovec iv[2] = {{x, 5}, {y, 7}};
	T(vmsplice(p[1], iv, 2, SPLICE_F_GIFT));
	char r1[4] = {0}, r2[16] = {0};
	struct iovec ov[2] = {{r1, 3}, {r2, 15}};
	T(vmsplice(p[0], ov, 2, 0));
	out("got \"%s\" \"%s\"\n", r1, r2);
	T(vmsplice(p[0], ov, 2, SPLICE_F_NONBLOCK)); /* EAGAIN */
	T(vmsplice(p[1], iv, 0, 0));
	T(vmsplice(p[1], iv, 2, 0x10));              /* EINVAL */
	T(vmsplice(p[1], iv, 5000, 0));              /* EINVAL */
	T(vmsplice(p[1], (struct iovec *)8, 1, 0));  /* EFAULT */
	T(vmsplice(99, iv, 1, 0));                   /* EBADF */
	int f = open("/w/data", O_RDONLY);
	T(vmsplice(f, iv, 1, 0));                    /* EBADF */
	close(f);
	/* a full pipe: EAGAIN with SPLICE_F_NONBLOCK (O_NONBLOCK on the
	 * file does not count for vmsplice) */
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	static char big[1 << 16];
	while (write(p[1], big, sizeof big) > 0)
		;
	T(vmsplice(p[1], iv, 1, SPLICE_F_NONBLOCK));
	close(p[0]);
	close(p[1]);
}

/* blocking calls end with EINTR when a handler without SA_RESTART runs */
static void blocking(void) {
	struct sigaction sa = {.sa_handler = onsig};
	sigaction(SIGALRM, &sa, NULL);
	int p[2], q[2];
	pipe(p);
	pipe(q);
	int f = open("/w/data", O_RDWR);
	pid_t k = interrupt_soon();
	T(splice(p[0], NULL, f, NULL, 5, 0));
	waitpid(k, NULL, 0);
	k = interrupt_soon();
	T(splice(p[0], NULL, q[1], NULL, 5, 0));
	waitpid(k, NULL, 0);
	k = interrupt_soon();
	T(tee(p[0], q[1], 5, 0));
	waitpid(k, NULL, 0);
	char c;
	k = interrupt_soon();
	T(vmsplice(p[0], &(struct iovec){&c, 1}, 1, 0));
	waitpid(k, NULL, 0);

	/* a reader blocked in splice is woken by a writer */
	pid_t pid = fork();
	if (pid == 0) {
		struct timespec ts = {0, 30000000};
		nanosleep(&ts, NULL);
		write(p[1], "late", 4);
		_exit(0);
	}
	T(splice(p[0], NULL, q[1], NULL, 100, 0));
	readall("woken", q[0]);
	waitpid(pid, NULL, 0);
	close(f);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

static void fifos(void) {
	T(mkfifo("/w/fifo", 0644));
	struct stat st;
	T(stat("/w/fifo", &st));
	out("fifo %d\n", S_ISFIFO(st.st_mode));
	T(open("/w/fifo", O_WRONLY | O_NONBLOCK)); /* ENXIO */
	int r = open("/w/fifo", O_RDONLY | O_NONBLOCK);
	out("nonblocking reader %d\n", r >= 0);
	int w = open("/w/fifo", O_WRONLY | O_NONBLOCK);
	out("writer %d\n", w >= 0);
	T(write(w, "through", 7));
	readall("fifo", r);
	T(fstat(w, &st));
	out("fstat fifo %d\n", S_ISFIFO(st.st_mode));
	close(w);
	close(r);

	/* two processes meet at the FIFO's path with blocking opens */
	pid_t pid = fork();
	if (pid == 0) {
		int w = open("/w/fifo", O_WRONLY);
		write(w, "from child", 10);
		_exit(0);
	}
	r = open("/w/fifo", O_RDONLY);
	out("blocking reader %d\n", r >= 0);
	waitpid(pid, NULL, 0);
	readall("fifo", r);
	readall("eof", r);
	close(r);
	int rw = open("/w/fifo", O_RDWR);
	int p[2];
	pipe(p);
	write(p[1], "spliced", 7);
	T(splice(p[0], NULL, rw, NULL, 7, 0));
	readall("fifo rdwr", rw);
	close(rw);
	close(p[0]);
	close(p[1]);
	T(unlink("/w/fifo"));
}

int main(void) {
	file_and_pipe();
	pipes();
	vm();
	blocking();
	fifos();
	return 0;
}
