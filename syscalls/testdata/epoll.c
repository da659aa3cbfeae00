/* epoll.c: epoll_create/create1/ctl/wait/pwait/pwait2 on pipes, eventfds
 * and nested epoll instances: level- and edge-triggered reporting,
 * EPOLLONESHOT, EPOLL_CTL_MOD, the ready list's order, timeouts, signals,
 * the dup/close rules and the error paths. Run natively and in moat;
 * outputs must match. */
#include "difftest.h"
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

/* wait_print waits up to ms and prints every event as data:events. */
static void wait_print(const char *what, int ep, int max, int ms) {
	struct epoll_event evs[16];
	int n = epoll_wait(ep, evs, max, ms);
	if (n < 0) {
		res(what, n);
		return;
	}
	char line[256];
	int len = snprintf(line, sizeof line, "%s = %d:", what, n);
	for (int i = 0; i < n && len < (int)sizeof line - 32; i++)
		len += snprintf(line + len, sizeof line - len, " %llu:%#x",
				(unsigned long long)evs[i].data.u64, evs[i].events);
	out("%s\n", line);
}

static int add(int ep, int fd, uint32_t events, uint64_t data) {
	struct epoll_event ev = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data) {
	struct epoll_event ev = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void create(void) {
	res("epoll_create 0", syscall(SYS_epoll_create, 0));
	res("epoll_create -1", syscall(SYS_epoll_create, -1));
	int ep = syscall(SYS_epoll_create, 1);
	res("epoll_create 1", ep >= 0);
	out("cloexec=%d\n", fcntl(ep, F_GETFD));
	out("getfl=%#x\n", fcntl(ep, F_GETFL));
	close(ep);
	res("epoll_create1 bad flags", epoll_create1(1));
	res("epoll_create1 nonblock", epoll_create1(O_NONBLOCK));
	ep = epoll_create1(EPOLL_CLOEXEC);
	out("cloexec=%d\n", fcntl(ep, F_GETFD));
	char buf[8];
	res("read epoll", read(ep, buf, sizeof buf));
	res("write epoll", write(ep, buf, sizeof buf));
	res("lseek epoll", lseek(ep, 0, SEEK_SET));
	close(ep);
}

static void errors(void) {
	int ep = epoll_create1(0), p[2];
	pipe(p);
	struct epoll_event ev = {.events = EPOLLIN};
	res("ctl bad epfd", epoll_ctl(99, EPOLL_CTL_ADD, p[0], &ev));
	res("ctl bad fd", epoll_ctl(ep, EPOLL_CTL_ADD, 99, &ev));
	res("ctl non-epoll epfd", epoll_ctl(p[1], EPOLL_CTL_ADD, p[0], &ev));
	res("ctl self", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
	res("ctl efault", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], (void *)8));
	res("ctl del efault ignored", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], (void *)8));
	res("ctl bad op", epoll_ctl(ep, 99, p[0], &ev));
	int reg = open("/epoll", O_RDONLY);
	res("ctl regular file", epoll_ctl(ep, EPOLL_CTL_ADD, reg, &ev));
	int dir = open("/", O_RDONLY | O_DIRECTORY);
	res("ctl directory", epoll_ctl(ep, EPOLL_CTL_ADD, dir, &ev));
	res("ctl regular file bad epfd", epoll_ctl(p[0], EPOLL_CTL_ADD, reg, &ev));
	close(reg);
	close(dir);
	res("del missing", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
	res("mod missing", mod(ep, p[0], EPOLLIN, 1));
	res("add", add(ep, p[0], EPOLLIN, 1));
	res("add again", add(ep, p[0], EPOLLIN, 1));
	res("exclusive mod", mod(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE, 1));
	res("del", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
	res("exclusive bad bits", add(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 1));
	res("exclusive rdhup", add(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE | EPOLLRDHUP, 1));
	res("exclusive ok", add(ep, p[0], EPOLLIN | EPOLLOUT | EPOLLEXCLUSIVE | EPOLLET, 1));
	res("mod exclusive item", mod(ep, p[0], EPOLLIN, 1));
	int inner = epoll_create1(0);
	res("exclusive epoll target", add(ep, inner, EPOLLIN | EPOLLEXCLUSIVE, 2));
	res("wakeup flag", add(ep, p[1], EPOLLOUT | EPOLLWAKEUP, 3));
	struct epoll_event evs[4];
	res("wait maxevents 0", syscall(SYS_epoll_wait, ep, evs, 0, 0));
	/* The buffer must fit below the top of user space (access_ok). */
	res("wait maxevents max, high buffer", syscall(SYS_epoll_wait, ep, 0x7fff00000000UL, INT_MAX / (int)sizeof(struct epoll_event), 0));
	res("wait maxevents max", syscall(SYS_epoll_wait, ep, 0x10000UL, INT_MAX / (int)sizeof(struct epoll_event), 0));
	res("wait maxevents -1", syscall(SYS_epoll_wait, ep, evs, -1, 0));
	res("wait maxevents huge", syscall(SYS_epoll_wait, ep, evs, INT_MAX / (int)sizeof(struct epoll_event) + 1, 0));
	res("wait bad epfd", epoll_wait(99, evs, 4, 0));
	res("wait non-epoll", epoll_wait(p[0], evs, 4, 0));
	res("wait efault", epoll_wait(ep, (void *)8, 4, 0));
	sigset_t ss;
	sigemptyset(&ss);
	res("pwait bad sigsetsize", syscall(SYS_epoll_pwait, ep, evs, 4, 0, &ss, 4));
	struct timespec bad = {0, 2000000000};
	res("pwait2 bad timespec", syscall(SYS_epoll_pwait2, ep, evs, 4, &bad, NULL, 8));
	res("pwait2 timespec efault", syscall(SYS_epoll_pwait2, ep, evs, 4, (void *)8, NULL, 8));
	close(inner);
	close(p[0]);
	close(p[1]);
	close(ep);
}

static void level_edge(void) {
	int p[2], q[2];
	pipe2(p, O_NONBLOCK);
	pipe2(q, O_NONBLOCK);
	int lt = epoll_create1(0), et = epoll_create1(0);
	add(lt, p[0], EPOLLIN, 10);
	add(et, q[0], EPOLLIN | EPOLLET, 20);
	wait_print("lt empty", lt, 4, 0);
	wait_print("et empty", et, 4, 0);
	write(p[1], "ab", 2);
	write(q[1], "ab", 2);
	wait_print("lt ready", lt, 4, 0);
	wait_print("lt still ready", lt, 4, 0);
	wait_print("et ready", et, 4, 0);
	wait_print("et reported once", et, 4, 0);
	char c;
	read(q[0], &c, 1);
	wait_print("et after partial read", et, 4, 0);
	write(q[1], "c", 1);
	wait_print("et new data", et, 4, 0);
	read(p[0], &c, 1);
	wait_print("lt partial read", lt, 4, 0);
	char buf[8];
	read(p[0], buf, sizeof buf);
	wait_print("lt drained", lt, 4, 0);
	/* The write end: EPOLLOUT, then EPOLLERR once the reader goes. */
	add(lt, p[1], EPOLLOUT, 11);
	wait_print("lt writable", lt, 4, 0);
	/* Hangup: the write end closes. */
	add(et, q[1], 0, 21);
	close(q[1]);
	wait_print("et hangup", et, 4, 0);
	close(p[0]);
	wait_print("lt reader gone", lt, 4, 0);
	/* EPOLLRDHUP is not reported for pipes. */
	int r[2];
	pipe(r);
	add(lt, r[0], EPOLLIN | EPOLLRDHUP, 12);
	close(r[1]);
	wait_print("rdhup on pipe", lt, 4, 0);
	close(r[0]);
	close(p[1]);
	close(q[0]);
	close(lt);
	close(et);
}

static void oneshot_mod(void) {
	int ep = epoll_create1(0);
	int efd = eventfd(0, EFD_NONBLOCK);
	add(ep, efd, EPOLLIN | EPOLLONESHOT, 30);
	wait_print("oneshot empty", ep, 4, 0);
	uint64_t one = 1;
	write(efd, &one, 8);
	wait_print("oneshot fires", ep, 4, 0);
	wait_print("oneshot disabled", ep, 4, 0);
	write(efd, &one, 8);
	wait_print("oneshot still disabled", ep, 4, 0);
	res("oneshot add again", add(ep, efd, EPOLLIN, 31));
	res("oneshot rearm", mod(ep, efd, EPOLLIN | EPOLLONESHOT, 32));
	wait_print("oneshot rearmed", ep, 4, 0);
	res("mod to out", mod(ep, efd, EPOLLOUT, 33));
	wait_print("mod out", ep, 4, 0);
	res("mod to in|out", mod(ep, efd, EPOLLIN | EPOLLOUT, 34));
	wait_print("mod in|out", ep, 4, 0);
	res("mod to nothing", mod(ep, efd, 0, 35));
	wait_print("mod nothing", ep, 4, 0);
	res("mod to et", mod(ep, efd, EPOLLIN | EPOLLET, 36));
	wait_print("mod et", ep, 4, 0);
	wait_print("mod et again", ep, 4, 0);
	res("mod et same", mod(ep, efd, EPOLLIN | EPOLLET, 37));
	wait_print("mod rearms et", ep, 4, 0);
	uint64_t v;
	read(efd, &v, 8);
	wait_print("eventfd drained", ep, 4, 0);
	close(efd);
	close(ep);
}

static void order(void) {
	int ep = epoll_create1(0), e[4];
	uint64_t one = 1;
	for (int i = 0; i < 4; i++) {
		e[i] = eventfd(0, EFD_NONBLOCK);
		add(ep, e[i], EPOLLIN, 40 + i);
	}
	write(e[2], &one, 8);
	write(e[0], &one, 8);
	write(e[3], &one, 8);
	write(e[1], &one, 8);
	wait_print("order max 2", ep, 2, 0);
	wait_print("order max 3", ep, 3, 0);
	wait_print("order all", ep, 8, 0);
	for (int i = 0; i < 4; i++)
		close(e[i]);
	close(ep);
}

static void dup_close(void) {
	int ep = epoll_create1(0), p[2];
	pipe(p);
	add(ep, p[0], EPOLLIN, 50);
	int d = dup(p[0]);
	close(p[0]);
	write(p[1], "x", 1);
	wait_print("closed fd, dup alive", ep, 4, 0);
	res("del by dup fd", epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL));
	res("add dup fd", add(ep, d, EPOLLIN, 51));
	wait_print("both registrations", ep, 4, 0);
	close(d);
	wait_print("all closed", ep, 4, 0);
	/* The fd number reused for another file is a new registration. */
	int q[2];
	pipe(q);
	out("reused=%d\n", q[0] == p[0] || q[0] == d);
	res("add reused", add(ep, q[0], EPOLLIN, 52));
	close(q[0]);
	close(q[1]);
	close(p[1]);
	/* A registration keeps working across fork in the child. */
	pipe(p);
	add(ep, p[0], EPOLLIN, 53);
	pid_t pid = fork();
	if (pid == 0) {
		write(p[1], "y", 1);
		wait_print("child sees", ep, 4, 0);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	wait_print("parent sees", ep, 4, 0);
	close(p[0]);
	close(p[1]);
	close(ep);
}

static void nested(void) {
	int outer = epoll_create1(0), inner = epoll_create1(0);
	int efd = eventfd(0, EFD_NONBLOCK);
	res("inner add", add(inner, efd, EPOLLIN, 60));
	res("outer add inner", add(outer, inner, EPOLLIN, 61));
	res("inner add outer (loop)", add(inner, outer, EPOLLIN, 62));
	wait_print("outer empty", outer, 4, 0);
	uint64_t one = 1;
	write(efd, &one, 8);
	wait_print("outer sees inner", outer, 4, 0);
	struct pollfd pfd = {.fd = inner, .events = POLLIN | POLLOUT};
	res("poll inner", poll(&pfd, 1, 0));
	out("revents=%#x\n", pfd.revents);
	wait_print("inner", inner, 4, 0);
	uint64_t v;
	read(efd, &v, 8);
	wait_print("outer after drain", outer, 4, 0);
	res("poll inner drained", poll(&pfd, 1, 0));
	/* A chain: how deep may it go? */
	int chain[8];
	chain[0] = epoll_create1(0);
	for (int i = 1; i < 8; i++) {
		chain[i] = epoll_create1(0);
		int r = add(chain[i], chain[i - 1], EPOLLIN, 70 + i);
		char what[32];
		snprintf(what, sizeof what, "chain %d", i);
		res(what, r);
	}
	res("close of the middle", close(chain[3]));
	res("chain after close", add(chain[7], outer, EPOLLIN, 80));
	for (int i = 0; i < 8; i++)
		if (i != 3)
			close(chain[i]);
	/* Closing the inner instance removes it from the outer one. */
	write(efd, &one, 8);
	close(inner);
	wait_print("inner closed", outer, 4, 0);
	close(efd);
	close(outer);
}

static volatile sig_atomic_t got;
static void on_alarm(int sig) { got = sig; }

static double since(struct timespec *t0) {
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* alarm_soon has a child send SIGALRM to the caller after 30 ms (no
 * setitimer: the signal's source does not matter here). */
static pid_t alarm_soon(void) {
	pid_t parent = getpid(), pid = fork();
	if (pid == 0) {
		usleep(30000);
		kill(parent, SIGALRM);
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid) {
	int st;
	waitpid(pid, &st, 0);
}

static void timeouts_signals(void) {
	int ep = epoll_create1(0), p[2];
	pipe(p);
	add(ep, p[0], EPOLLIN, 90);
	struct epoll_event evs[4];
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	res("wait 50ms", epoll_wait(ep, evs, 4, 50));
	double d = since(&t0);
	out("waited enough=%d\n", d >= 0.045 && d < 2);
	struct timespec ts = {0, 30000000};
	clock_gettime(CLOCK_MONOTONIC, &t0);
	res("pwait2 30ms", syscall(SYS_epoll_pwait2, ep, evs, 4, &ts, NULL, 8));
	d = since(&t0);
	out("waited enough=%d\n", d >= 0.025 && d < 2);
	struct timespec zero = {0, 0};
	res("pwait2 zero", syscall(SYS_epoll_pwait2, ep, evs, 4, &zero, NULL, 8));

	/* A signal ends a wait with EINTR even with SA_RESTART. */
	struct sigaction sa = {0};
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	pid_t pid = alarm_soon();
	res("wait forever, alarm", epoll_wait(ep, evs, 4, -1));
	reap(pid);
	out("got=%d\n", got);

	/* epoll_pwait's mask blocks the signal during the wait only. */
	got = 0;
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	pid = alarm_soon();
	res("pwait blocking SIGALRM", epoll_pwait(ep, evs, 4, 100, &block));
	reap(pid);
	out("got during=%d\n", got);
	got = 0;
	/* Blocked outside, let in by the wait's mask. */
	sigprocmask(SIG_BLOCK, &block, &old);
	pid = alarm_soon();
	sigset_t none;
	sigemptyset(&none);
	res("pwait unblocking SIGALRM", epoll_pwait(ep, evs, 4, 2000, &none));
	reap(pid);
	out("got=%d\n", got);
	sigset_t now;
	sigprocmask(SIG_SETMASK, NULL, &now);
	out("mask restored=%d\n", sigismember(&now, SIGALRM));
	sigprocmask(SIG_SETMASK, &old, NULL);

	/* A writer in another process wakes a blocked wait. */
	pid = fork();
	if (pid == 0) {
		usleep(30000);
		write(p[1], "z", 1);
		_exit(0);
	}
	wait_print("woken by child", ep, 4, 5000);
	reap(pid);
	close(p[0]);
	close(p[1]);
	close(ep);
}

int main(void) {
	create();
	errors();
	level_edge();
	oneshot_mod();
	order();
	dup_close();
	nested();
	timeouts_signals();
	out("done\n");
	return 0;
}
