/* mq.c: POSIX message queues: creation rules and limits, priorities,
 * O_NONBLOCK, timeouts, mq_getsetattr, notification, a queue shared
 * with a child, unlink, and the errors of each call. */
#include "difftest.h"
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

static volatile int got;
static void on_usr1(int sig, siginfo_t *si, void *uc) {
	(void)sig;
	(void)uc;
	got = si->si_code == SI_MESGQ && si->si_pid == getpid() && si->si_value.sival_int == 42 ? 2 : 1;
}

static void attr(mqd_t q, const char *what) {
	struct mq_attr a;
	if (mq_getattr(q, &a) < 0) {
		res(what, -1);
		return;
	}
	out("%s: flags %ld maxmsg %ld msgsize %ld curmsgs %ld\n", what, a.mq_flags, a.mq_maxmsg,
	    a.mq_msgsize, a.mq_curmsgs);
}

int main(void) {
	struct mq_attr a = {0, 4, 16, 0};
	char buf[64];
	unsigned prio;

	res("open missing", mq_open("/q", O_RDWR));
	res("raw open empty name", syscall(SYS_mq_open, "", O_RDWR | O_CREAT, 0600, NULL));
	res("raw open slash", syscall(SYS_mq_open, "a/b", O_RDWR | O_CREAT, 0600, NULL));
	res("raw open dot", syscall(SYS_mq_open, ".", O_RDWR | O_CREAT, 0600, NULL));
	res("open maxmsg 0", mq_open("/q", O_RDWR | O_CREAT, 0600, &(struct mq_attr){0, 0, 16, 0}));
	res("open msgsize -1", mq_open("/q", O_RDWR | O_CREAT, 0600, &(struct mq_attr){0, 4, -1, 0}));
	mqd_t q = mq_open("/q", O_RDWR | O_CREAT | O_EXCL, 0640, &a);
	out("open ok %d\n", q >= 0);
	res("open excl again", mq_open("/q", O_RDWR | O_CREAT | O_EXCL, 0600, &a));
	res("open accmode 3", mq_open("/q", O_RDWR | O_WRONLY));
	attr(q, "new");
	mqd_t d = mq_open("/d", O_RDWR | O_CREAT, 0600, NULL);
	attr(d, "default");
	mq_close(d);
	res("unlink d", mq_unlink("/d"));
	struct stat st;
	res("fstat", fstat(q, &st));
	out("mode %o size %ld\n", st.st_mode & 07777, (long)st.st_size);

	res("send prio 1", mq_send(q, "one", 3, 1));
	res("send prio 9", mq_send(q, "nine", 4, 9));
	res("send prio 1b", mq_send(q, "one-b", 5, 1));
	res("send prio 5", mq_send(q, "five", 4, 5));
	res("send too big", mq_send(q, buf, 17, 0));
	res("send bad prio", mq_send(q, "x", 1, 32768));
	res("fstat", fstat(q, &st));
	out("size %ld\n", (long)st.st_size);
	attr(q, "full");
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 20000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	res("timedsend full", mq_timedsend(q, "x", 1, 0, &ts));
	ts.tv_nsec = 2000000000;
	res("timedsend bad ts", mq_timedsend(q, "x", 1, 0, &ts));
	res("receive small buf", mq_receive(q, buf, 15, &prio));
	for (int i = 0; i < 4; i++) {
		ssize_t n = mq_receive(q, buf, sizeof buf, &prio);
		out("got %.*s prio %u\n", (int)n, buf, prio);
	}
	struct mq_attr na = {O_NONBLOCK, 0, 0, 0}, old;
	res("setattr nonblock", mq_setattr(q, &na, &old));
	out("old flags %ld\n", old.mq_flags);
	res("receive empty", mq_receive(q, buf, sizeof buf, &prio));
	na.mq_flags = O_NONBLOCK | O_APPEND;
	res("setattr bad flags", syscall(SYS_mq_getsetattr, q, &na, NULL));
	na.mq_flags = 0;
	mq_setattr(q, &na, NULL);
	clock_gettime(CLOCK_REALTIME, &ts);
	res("timedreceive empty", mq_timedreceive(q, buf, sizeof buf, &prio, &ts));
	res("send on pipe", mq_send(1, "x", 1, 0));
	res("send bad fd", mq_send(77, "x", 1, 0));

	mqd_t ro = mq_open("/q", O_RDONLY);
	res("send on read-only", mq_send(ro, "x", 1, 0));
	mqd_t wo = mq_open("/q", O_WRONLY);
	res("receive on write-only", mq_receive(wo, buf, sizeof buf, &prio));
	mq_close(ro);
	mq_close(wo);

	/* Notification: one registration per queue; a message arriving on
	 * the empty queue signals and consumes it. */
	struct sigaction sa = {0};
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	struct sigevent ev = {0};
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGUSR1;
	ev.sigev_value.sival_int = 42;
	res("notify", mq_notify(q, &ev));
	res("notify again", mq_notify(q, &ev));
	ev.sigev_signo = 0;
	ev.sigev_notify = 99;
	res("notify bad", mq_notify(q, &ev));
	mq_send(q, "n", 1, 0);
	out("notified %d\n", got);
	res("notify after", mq_notify(q, NULL));
	mq_receive(q, buf, sizeof buf, &prio);

	/* A child blocks in receive until the parent sends. */
	int sync[2];
	if (pipe(sync) < 0)
		return 1;
	pid_t c = fork();
	if (c == 0) {
		mqd_t cq = mq_open("/q", O_RDONLY);
		write(sync[1], "r", 1);
		ssize_t n = mq_receive(cq, buf, sizeof buf, &prio);
		out("child got %.*s prio %u\n", (int)n, buf, prio);
		_exit(0);
	}
	char b;
	read(sync[0], &b, 1);
	int r = mq_send(q, "hello", 5, 3);
	int ws;
	waitpid(c, &ws, 0);
	res("send to child", r);
	out("child status %d\n", ws);

	/* Permissions: another user cannot open a 0640 root queue. */
	c = fork();
	if (c == 0) {
		if (setresuid(1000, 1000, 1000) < 0)
			_exit(2);
		res("user open", mq_open("/q", O_RDONLY));
		res("user unlink", mq_unlink("/q"));
		res("user create big", mq_open("/u", O_RDWR | O_CREAT, 0600, &(struct mq_attr){0, 11, 16, 0}));
		mqd_t u = mq_open("/u", O_RDWR | O_CREAT, 0600, NULL);
		out("user create ok %d\n", u >= 0);
		res("user unlink own", mq_unlink("/u"));
		_exit(0);
	}
	waitpid(c, &ws, 0);
	out("child status %d\n", ws);

	res("unlink", mq_unlink("/q"));
	res("unlink again", mq_unlink("/q"));
	res("send after unlink", mq_send(q, "z", 1, 0));
	res("close", mq_close(q));
	return 0;
}
