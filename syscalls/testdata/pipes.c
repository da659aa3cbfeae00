/* pipes.c: pipes, eventfd, poll/select and the fd calls around them,
 * error paths included. Run natively and in moat; outputs must match. */
#include "difftest.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

static volatile sig_atomic_t got_signal;
static void on_signal(int sig) { got_signal = sig; }

static void handle(int sig, int flags) {
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sa.sa_flags = flags;
	sigaction(sig, &sa, NULL);
}

/* select_table_size: select ignores descriptors beyond the size of the
 * process's descriptor table, which a fork sizes by the highest open
 * descriptor and which grows, never shrinks, as descriptors are made. The
 * grandchild of a process with only 0-2 open has Linux's 64-entry table. */
static void select_table_size(void) {
	pid_t pid = fork();
	if (pid == 0) {
		syscall(SYS_close_range, 3, ~0U, 0);
		pid_t inner = fork();
		if (inner == 0) {
			fd_set rd;
			struct timeval tv = {0, 0};
			FD_ZERO(&rd);
			FD_SET(90, &rd);
			res("select fd beyond table", select(91, &rd, NULL, NULL, &tv));
			res("dup2 200", dup2(1, 200));
			res("close 200", close(200));
			FD_ZERO(&rd);
			FD_SET(90, &rd);
			res("select fd inside grown table", select(91, &rd, NULL, NULL, &tv));
			_exit(0);
		}
		waitpid(inner, NULL, 0);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

/* owners: F_SETOWN and friends record who would get SIGIO. */
static void owners(void) {
	int p[2];
	pipe(p);
	res("F_GETOWN default", fcntl(p[0], F_GETOWN));
	struct f_owner_ex ex = {.type = 99, .pid = 99};
	res("F_GETOWN_EX default", fcntl(p[0], F_GETOWN_EX, &ex));
	out("type %d pid %d\n", ex.type, ex.pid);
	res("F_SETOWN self", fcntl(p[0], F_SETOWN, getpid()));
	res("F_GETOWN", fcntl(p[0], F_GETOWN));
	res("F_GETOWN_EX", fcntl(p[0], F_GETOWN_EX, &ex));
	out("type %d pid %d\n", ex.type, ex.pid);
	res("F_SETOWN no such pid", fcntl(p[0], F_SETOWN, 99999));
	res("F_SETOWN INT_MIN", fcntl(p[0], F_SETOWN, -2147483647 - 1));
	res("F_SETOWN own group", fcntl(p[0], F_SETOWN, -getpgrp()));
	res("F_GETOWN_EX group", fcntl(p[0], F_GETOWN_EX, &ex));
	out("type %d pid %d\n", ex.type, ex.pid);
	ex = (struct f_owner_ex){.type = F_OWNER_TID, .pid = getpid()};
	res("F_SETOWN_EX tid", fcntl(p[0], F_SETOWN_EX, &ex));
	res("F_GETOWN after tid", fcntl(p[0], F_GETOWN));
	ex = (struct f_owner_ex){.type = 7, .pid = 1};
	res("F_SETOWN_EX bad type", fcntl(p[0], F_SETOWN_EX, &ex));
	res("F_SETOWN_EX efault", fcntl(p[0], F_SETOWN_EX, (void *)8));
	res("F_SETOWN 0", fcntl(p[0], F_SETOWN, 0));
	res("F_GETSIG default", fcntl(p[0], F_GETSIG));
	res("F_SETSIG 10", fcntl(p[0], F_SETSIG, 10));
	res("F_GETSIG", fcntl(p[0], F_GETSIG));
	res("F_SETSIG 65", fcntl(p[0], F_SETSIG, 65));
	res("F_SETSIG -1", fcntl(p[0], F_SETSIG, -1));
	int dup = fcntl(p[0], F_DUPFD, 0);
	res("F_GETSIG through dup", fcntl(dup, F_GETSIG));
	int path = open("/", O_PATH);
	res("F_GETOWN O_PATH", fcntl(path, F_GETOWN));
	close(path);
	close(dup);
	close(p[0]);
	close(p[1]);
}

static void basics(void) {
	int p[2];
	char buf[64];
	res("pipe", pipe(p));
	res("write", write(p[1], "hello", 5));
	int avail = -1;
	res("FIONREAD", ioctl(p[0], FIONREAD, &avail));
	out("avail=%d\n", avail);
	res("read", read(p[0], buf, sizeof buf));
	res("read 0 bytes", read(p[0], buf, 0));
	res("lseek", lseek(p[0], 0, SEEK_SET));
	res("pread", pread(p[0], buf, 1, 0));
	res("read on write end", read(p[1], buf, 1));
	res("write on read end", write(p[0], "x", 1));
	struct stat st;
	res("fstat", fstat(p[0], &st));
	out("fifo=%d mode=%o nlink=%ld\n", S_ISFIFO(st.st_mode), st.st_mode & 0777, (long)st.st_nlink);
	out("getfl r=%#x w=%#x\n", fcntl(p[0], F_GETFL), fcntl(p[1], F_GETFL));
	close(p[1]);
	res("read at EOF", read(p[0], buf, sizeof buf));
	close(p[0]);

	res("pipe2 bad flags", pipe2(p, O_APPEND));
	res("pipe2 efault", syscall(SYS_pipe2, 8, 0));
	res("pipe2", pipe2(p, O_CLOEXEC | O_NONBLOCK));
	out("cloexec=%d nonblock=%d\n", fcntl(p[0], F_GETFD), (fcntl(p[1], F_GETFL) & O_NONBLOCK) != 0);
	res("read empty nonblocking", read(p[0], buf, 1));
	res("F_SETFL blocking", fcntl(p[0], F_SETFL, 0));
	out("nonblock after=%d\n", (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0);
	close(p[0]);
	close(p[1]);
}

static void capacity(void) {
	int p[2];
	static char big[1 << 17];
	pipe2(p, O_NONBLOCK);
	res("F_GETPIPE_SZ", fcntl(p[0], F_GETPIPE_SZ));
	res("fill", write(p[1], big, sizeof big));
	res("write full", write(p[1], "x", 1));
	res("F_SETPIPE_SZ shrink busy", fcntl(p[1], F_SETPIPE_SZ, 4096));
	char buf[4096];
	long drained = 0, n;
	while ((n = read(p[0], buf, sizeof buf)) > 0)
		drained += n;
	out("drained=%ld\n", drained);
	res("F_SETPIPE_SZ 5000", fcntl(p[1], F_SETPIPE_SZ, 5000));
	res("F_GETPIPE_SZ after", fcntl(p[0], F_GETPIPE_SZ));
	res("F_SETPIPE_SZ 0", fcntl(p[1], F_SETPIPE_SZ, 0));
	res("fill small", write(p[1], big, sizeof big));
	/* Atomic: 100 bytes do not fit in the nothing left. */
	res("small write full", write(p[1], big, 100));
	int efd = eventfd(0, 0);
	res("F_GETPIPE_SZ not a pipe", fcntl(efd, F_GETPIPE_SZ));
	res("F_GETPIPE_SZ bad fd", fcntl(999, F_GETPIPE_SZ));
	close(efd);
	close(p[0]);
	close(p[1]);
}

static void epipe(void) {
	int p[2];
	pipe(p);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	res("write no reader (ignored)", write(p[1], "x", 1));
	handle(SIGPIPE, 0);
	got_signal = 0;
	res("write no reader (handled)", write(p[1], "x", 1));
	out("signal=%d\n", got_signal);
	signal(SIGPIPE, SIG_DFL);
	pid_t pid = fork();
	if (pid == 0) {
		write(p[1], "x", 1);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	out("child killed=%d sig=%d\n", WIFSIGNALED(status), WTERMSIG(status));
	close(p[1]);
}

static void polling(void) {
	int p[2];
	pipe(p);
	struct pollfd fds[4] = {
		{.fd = p[0], .events = POLLIN},
		{.fd = p[1], .events = POLLOUT},
		{.fd = -1, .events = POLLIN},
		{.fd = 77, .events = POLLIN},
	};
	res("poll", poll(fds, 4, 0));
	out("revents %#x %#x %#x %#x\n", fds[0].revents, fds[1].revents, fds[2].revents, fds[3].revents);
	write(p[1], "x", 1);
	res("poll data", poll(fds, 2, 0));
	out("revents %#x %#x\n", fds[0].revents, fds[1].revents);
	close(p[1]);
	res("poll hup", poll(fds, 1, 0));
	out("revents %#x\n", fds[0].revents);
	close(p[0]);

	pipe(p);
	close(p[0]);
	struct pollfd w = {.fd = p[1], .events = POLLOUT};
	res("poll err", poll(&w, 1, 0));
	out("revents %#x\n", w.revents);
	close(p[1]);

	/* The stdio are host descriptors: /dev/null in, a pipe out. */
	struct pollfd std[2] = {{.fd = 0, .events = POLLIN}, {.fd = 1, .events = POLLOUT}};
	res("poll stdio", poll(std, 2, 0));
	out("revents %#x %#x\n", std[0].revents, std[1].revents);
	res("poll stdin forever", poll(std, 1, -1));
	/* A regular file is always ready. */
	int reg = open("/pipes", O_RDONLY);
	struct pollfd rf = {.fd = reg, .events = POLLIN | POLLOUT | POLLPRI};
	res("poll regular file", poll(&rf, 1, -1));
	out("revents %#x\n", rf.revents);
	close(reg);

	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	res("poll too many", poll(fds, rl.rlim_cur + 1, 0));
	res("poll efault", syscall(SYS_poll, 8, 1, 0));

	/* A timeout that runs out. */
	pipe(p);
	struct timespec ts = {0, 20 * 1000 * 1000};
	fds[0] = (struct pollfd){.fd = p[0], .events = POLLIN};
	res("ppoll timeout", ppoll(fds, 1, &ts, NULL));
	out("left %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
	ts = (struct timespec){0, 2000000000L};
	res("ppoll bad timespec", ppoll(fds, 1, &ts, NULL));
	res("poll 10ms", poll(fds, 1, 10));

	fd_set rd, wr;
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(p[0], &rd);
	FD_SET(p[1], &wr);
	struct timeval tv = {0, 20000};
	res("select", select(p[1] + 1, &rd, &wr, NULL, &tv));
	out("rd=%d wr=%d\n", FD_ISSET(p[0], &rd), FD_ISSET(p[1], &wr));
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	tv = (struct timeval){0, 20000};
	res("select timeout", select(p[0] + 1, &rd, NULL, NULL, &tv));
	out("tv %ld.%06ld rd=%d\n", (long)tv.tv_sec, (long)tv.tv_usec, FD_ISSET(p[0], &rd));
	FD_SET(60, &rd);
	res("select bad fd", select(61, &rd, NULL, NULL, &tv));
	FD_CLR(60, &rd);
	tv = (struct timeval){-1, 0};
	res("select bad timeval", select(1, NULL, NULL, NULL, &tv));
	res("select negative nfds", select(-1, NULL, NULL, NULL, NULL));
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	ts = (struct timespec){0, 0};
	write(p[1], "y", 1);
	res("pselect ready", pselect(p[0] + 1, &rd, NULL, NULL, &ts, NULL));
	out("rd=%d\n", FD_ISSET(p[0], &rd));
	close(p[0]);
	close(p[1]);
}

/* Blocking across processes, and signals cutting a wait short. */
static void blocking(void) {
	int p[2];
	char buf[8];
	pipe(p);
	pid_t parent = getpid(), pid = fork();
	if (pid == 0) {
		struct timespec d = {0, 30 * 1000 * 1000};
		nanosleep(&d, NULL);
		write(p[1], "late", 4);
		_exit(0);
	}
	res("blocking read", read(p[0], buf, sizeof buf));
	waitpid(pid, NULL, 0);

	struct pollfd fd = {.fd = p[0], .events = POLLIN};
	pid = fork();
	if (pid == 0) {
		struct timespec d = {0, 30 * 1000 * 1000};
		nanosleep(&d, NULL);
		write(p[1], "z", 1);
		_exit(0);
	}
	res("poll forever", poll(&fd, 1, -1));
	out("revents %#x\n", fd.revents);
	read(p[0], buf, 1);
	waitpid(pid, NULL, 0);

	/* A handler without SA_RESTART: EINTR. */
	handle(SIGUSR1, 0);
	pid = fork();
	if (pid == 0) {
		struct timespec d = {0, 30 * 1000 * 1000};
		nanosleep(&d, NULL);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	got_signal = 0;
	res("read interrupted", read(p[0], buf, 1));
	out("signal=%d\n", got_signal);
	waitpid(pid, NULL, 0);

	got_signal = 0;
	pid = fork();
	if (pid == 0) {
		struct timespec d = {0, 30 * 1000 * 1000};
		nanosleep(&d, NULL);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	res("poll interrupted", poll(&fd, 1, 5000));
	out("signal=%d\n", got_signal);
	waitpid(pid, NULL, 0);

	/* SA_RESTART: the read goes on and gets the data sent later. */
	handle(SIGUSR1, SA_RESTART);
	got_signal = 0;
	pid = fork();
	if (pid == 0) {
		struct timespec d = {0, 30 * 1000 * 1000};
		nanosleep(&d, NULL);
		kill(parent, SIGUSR1);
		nanosleep(&d, NULL);
		write(p[1], "r", 1);
		_exit(0);
	}
	res("read restarted", read(p[0], buf, 1));
	out("signal=%d\n", got_signal);
	waitpid(pid, NULL, 0);

	/* ppoll's mask: SIGUSR1 blocked outside, let in during the wait. */
	sigset_t block, none;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &block, NULL);
	got_signal = 0;
	kill(getpid(), SIGUSR1);
	out("pending before ppoll: signal=%d\n", got_signal);
	res("ppoll with mask", ppoll(&fd, 1, NULL, &none));
	out("signal=%d\n", got_signal);
	sigset_t now;
	sigprocmask(SIG_SETMASK, NULL, &now);
	out("mask restored=%d\n", sigismember(&now, SIGUSR1));
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	close(p[0]);
	close(p[1]);
}

static void eventfds(void) {
	uint64_t v;
	int e = eventfd(3, EFD_NONBLOCK | EFD_CLOEXEC);
	out("cloexec=%d nonblock=%d\n", fcntl(e, F_GETFD), (fcntl(e, F_GETFL) & O_NONBLOCK) != 0);
	v = 4;
	res("eventfd write", write(e, &v, 8));
	res("eventfd read", read(e, &v, 8));
	out("value=%llu\n", (unsigned long long)v);
	res("eventfd read empty", read(e, &v, 8));
	res("eventfd short read", read(e, &v, 4));
	res("eventfd short write", write(e, &v, 4));
	v = UINT64_MAX;
	res("eventfd write max", write(e, &v, 8));
	v = UINT64_MAX - 1;
	res("eventfd write near max", write(e, &v, 8));
	v = 1;
	res("eventfd overflow", write(e, &v, 8));
	struct pollfd fd = {.fd = e, .events = POLLIN | POLLOUT};
	res("eventfd poll", poll(&fd, 1, 0));
	out("revents %#x\n", fd.revents);
	close(e);

	e = eventfd(2, EFD_SEMAPHORE);
	res("sem read", read(e, &v, 8));
	out("value=%llu\n", (unsigned long long)v);
	res("sem read", read(e, &v, 8));
	fd.fd = e;
	res("sem poll", poll(&fd, 1, 0));
	out("revents %#x\n", fd.revents);
	close(e);
	res("eventfd bad flags", eventfd(0, 0x100));
	res("eventfd lseek", lseek(eventfd(0, 0), 0, SEEK_SET));
}

static void fdcalls(void) {
	int p[2];
	pipe(p);
	res("F_DUPFD_CLOEXEC", fcntl(p[0], F_DUPFD_CLOEXEC, 20));
	res("F_GETFD", fcntl(20, F_GETFD));
	res("F_DUPFD_CLOEXEC bad", fcntl(99, F_DUPFD_CLOEXEC, 0));
	int a = dup(p[0]), b = dup(p[1]);
	res("close_range cloexec", syscall(SYS_close_range, a, b, 4 /* CLOSE_RANGE_CLOEXEC */));
	out("cloexec %d %d\n", fcntl(a, F_GETFD), fcntl(b, F_GETFD));
	res("close_range", syscall(SYS_close_range, a, 20, 0));
	res("closed", fcntl(a, F_GETFD));
	res("closed 20", fcntl(20, F_GETFD));
	res("close_range bad flags", syscall(SYS_close_range, 0, 1, 0x80));
	res("close_range first > last", syscall(SYS_close_range, 5, 4, 0));
	res("close_range unshare", syscall(SYS_close_range, 100, ~0U, 2 /* CLOSE_RANGE_UNSHARE */));
	close(p[0]);
	close(p[1]);
}

int main(void) {
	basics();
	capacity();
	epipe();
	polling();
	select_table_size();
	owners();
	blocking();
	eventfds();
	fdcalls();
	return 0;
}
