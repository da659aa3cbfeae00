/* sig_fd: signalfd and signalfd4: flags, EINVAL and EBADF cases, reads of
 * thread- and process-directed signals (thread first), SIGCHLD with its
 * status, a sigqueue value, poll and epoll readiness, and a mask changed
 * on an existing descriptor. */
#include "difftest.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void record(const char *what, struct signalfd_siginfo *s) {
	out("%s: signo %u code %d pid ok %d uid %u status %d int %d\n", what, s->ssi_signo, s->ssi_code,
	    s->ssi_pid == (uint32_t)getpid(), s->ssi_uid, s->ssi_status, s->ssi_int);
}

int main(void) {
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigaddset(&m, SIGUSR2);
	sigaddset(&m, SIGCHLD);
	sigprocmask(SIG_BLOCK, &m, NULL);

	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, SIGUSR1);
	int fd = signalfd(-1, &one, SFD_NONBLOCK | SFD_CLOEXEC);
	res("signalfd", fd >= 0);
	out("O_NONBLOCK %d FD_CLOEXEC %d\n", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0, fcntl(fd, F_GETFD));
	res("signalfd4 bad size", syscall(SYS_signalfd4, -1, &one, 4, 0));
	res("signalfd4 bad flags", syscall(SYS_signalfd4, -1, &one, 8, 1));
	res("signalfd4 on /dev/null", syscall(SYS_signalfd4, 0, &one, 8, 0));
	res("signalfd4 on a closed fd", syscall(SYS_signalfd4, 999, &one, 8, 0));
	res("signalfd4 bad mask pointer", syscall(SYS_signalfd4, -1, (void *)8, 8, 0));

	struct signalfd_siginfo s[2];
	res("read empty", read(fd, s, sizeof s));
	struct pollfd p = {fd, POLLIN, 0};
	res("poll empty", poll(&p, 1, 0));

	kill(getpid(), SIGUSR1);
	p.revents = 0;
	res("poll", poll(&p, 1, 0));
	out("revents %#x\n", p.revents);
	res("read short buffer", read(fd, s, 100));
	res("read", read(fd, s, sizeof s));
	record("usr1", &s[0]);
	sigset_t pend;
	sigpending(&pend);
	out("USR1 still pending %d\n", sigismember(&pend, SIGUSR1));

	/* USR2 is not in the mask yet: it stays pending. */
	kill(getpid(), SIGUSR2);
	res("read USR2 outside mask", read(fd, s, sizeof s));
	res("signalfd update", signalfd(fd, &m, 0) == fd);
	raise(SIGUSR1); /* tgkill: thread-directed, read first */
	res("read two", read(fd, s, sizeof s));
	record("first", &s[0]);
	record("second", &s[1]);

	union sigval v = {.sival_int = 42};
	sigqueue(getpid(), SIGUSR1, v);
	res("read queued", read(fd, s, sizeof s));
	record("queued", &s[0]);

	/* SIGCHLD through a blocking signalfd. */
	int bfd = signalfd(-1, &m, 0);
	pid_t pid = fork();
	if (pid == 0)
		_exit(3);
	res("read blocking", read(bfd, s, sizeof s[0]));
	out("chld: signo %u code %d status %d pid ok %d\n", s[0].ssi_signo, s[0].ssi_code, s[0].ssi_status,
	    s[0].ssi_pid == (uint32_t)pid);
	int st;
	waitpid(pid, &st, 0);

	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7};
	res("epoll_ctl", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	struct epoll_event got;
	res("epoll_wait empty", epoll_wait(ep, &got, 1, 0));
	kill(getpid(), SIGUSR2);
	res("epoll_wait", epoll_wait(ep, &got, 1, 0));
	out("events %#x data %u\n", got.events, got.data.u32);
	res("read", read(fd, s, sizeof s));
	record("usr2", &s[0]);

	sigset_t kill9;
	sigemptyset(&kill9);
	sigaddset(&kill9, SIGKILL);
	sigaddset(&kill9, SIGSTOP);
	res("signalfd SIGKILL|SIGSTOP", signalfd(-1, &kill9, 0) >= 0);
	return 0;
}
