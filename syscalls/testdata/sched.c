/* sched.c: scheduling policies and parameters, sched_setattr's size
 * rules, nice values through the raw getpriority, CPU masks, getcpu,
 * personality, ioprio, membarrier and pidfds. Runs as root; the
 * non-root rules are checked after setuid in a child. Nothing printed
 * depends on the host's CPU count or load. */
#include "difftest.h"
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/membarrier.h>

struct attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t prio;
	uint64_t runtime, deadline, period;
	uint32_t umin, umax;
};

static void sched_calls(void) {
	struct sched_param p = {0};
	res("getscheduler", sched_getscheduler(0));
	res("getscheduler -1", sched_getscheduler(-1));
	res("getscheduler nope", sched_getscheduler(99999));
	res("max FIFO", sched_get_priority_max(SCHED_FIFO));
	res("min RR", sched_get_priority_min(SCHED_RR));
	res("max OTHER", sched_get_priority_max(SCHED_OTHER));
	res("min IDLE", sched_get_priority_min(SCHED_IDLE));
	res("max bad", sched_get_priority_max(4));
	p.sched_priority = 5;
	res("OTHER prio 5", sched_setscheduler(0, SCHED_OTHER, &p));
	res("bad policy", sched_setscheduler(0, 42, &p));
	res("null param", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL));
	p.sched_priority = 0;
	res("BATCH", sched_setscheduler(0, SCHED_BATCH, &p));
	res("getscheduler", sched_getscheduler(0));
	res("IDLE|RESET", sched_setscheduler(0, SCHED_IDLE | SCHED_RESET_ON_FORK, &p));
	res("getscheduler", sched_getscheduler(0));
	res("OTHER", sched_setscheduler(0, SCHED_OTHER, &p));
	res("getparam", sched_getparam(0, &p));
	out("prio %d\n", p.sched_priority);
	res("setparam 3 on OTHER", sched_setparam(0, &(struct sched_param){3}));
	res("getparam null", syscall(SYS_sched_getparam, 0, NULL));

	struct attr a;
	memset(&a, 0, sizeof a);
	a.size = 40;
	res("setattr size 40", syscall(SYS_sched_setattr, 0, &a, 0));
	out("size now %u\n", a.size);
	memset(&a, 0, sizeof a);
	a.size = 48;
	a.nice = 5;
	res("setattr nice 5", syscall(SYS_sched_setattr, 0, &a, 0));
	res("setattr flags", syscall(SYS_sched_setattr, 0, &a, 1));
	res("getpriority raw", syscall(SYS_getpriority, PRIO_PROCESS, 0));
	char big[128];
	memset(big, 0, sizeof big);
	memcpy(big, &a, 48);
	((struct attr *)big)->size = 128;
	big[100] = 1;
	res("setattr tail nonzero", syscall(SYS_sched_setattr, 0, big, 0));
	big[100] = 0;
	res("setattr tail zero", syscall(SYS_sched_setattr, 0, big, 0));
	memset(&a, 0xff, sizeof a);
	res("getattr 48", syscall(SYS_sched_getattr, 0, &a, 48, 0));
	out("size %u policy %u flags %llu nice %d prio %u\n", a.size, a.policy,
	    (unsigned long long)a.flags, a.nice, a.prio);
	res("getattr 47", syscall(SYS_sched_getattr, 0, &a, 47, 0));
	res("getattr flags", syscall(SYS_sched_getattr, 0, &a, 48, 1));
	struct timespec ts;
	p.sched_priority = 0;
	res("rr_interval -1", sched_rr_get_interval(-1, &ts));
}

static void nice_calls(void) {
	res("setpriority 3", setpriority(PRIO_PROCESS, 0, 3));
	res("getpriority raw", syscall(SYS_getpriority, PRIO_PROCESS, 0));
	errno = 0;
	int n = getpriority(PRIO_PROCESS, 0);
	out("nice %d errno %d\n", n, errno);
	res("setpriority 40 clamps", setpriority(PRIO_PROCESS, 0, 40));
	res("getpriority raw", syscall(SYS_getpriority, PRIO_PROCESS, 0));
	res("setpriority -5", setpriority(PRIO_PROCESS, 0, -5));
	res("getpriority pgrp", syscall(SYS_getpriority, PRIO_PGRP, 0));
	res("getpriority user", syscall(SYS_getpriority, PRIO_USER, 0));
	res("getpriority bad which", syscall(SYS_getpriority, 7, 0));
	res("getpriority nope", syscall(SYS_getpriority, PRIO_PROCESS, 99999));
	res("setpriority user 0", setpriority(PRIO_USER, 0, 0));

	int fds[2];
	if (pipe(fds) < 0)
		_exit(1);
	int ppfd = syscall(SYS_pidfd_open, getpid(), 0);
	pid_t c = fork();
	if (c == 0) {
		/* The child inherits nice; an unprivileged user may raise it
		 * but not lower it beyond RLIMIT_NICE, nor touch root's. */
		res("child getpriority raw", syscall(SYS_getpriority, PRIO_PROCESS, 0));
		struct rlimit rl = {0, 0};
		setrlimit(RLIMIT_NICE, &rl);
		setrlimit(RLIMIT_RTPRIO, &rl);
		if (setresuid(1000, 1000, 1000) < 0)
			_exit(2);
		res("user setpriority 10", setpriority(PRIO_PROCESS, 0, 10));
		res("user setpriority 5", setpriority(PRIO_PROCESS, 0, 5));
		res("user setpriority parent", setpriority(PRIO_PROCESS, getppid(), 10));
		struct sched_param p = {10};
		res("user FIFO", sched_setscheduler(0, SCHED_FIFO, &p));
		p.sched_priority = 0;
		res("user IDLE", sched_setscheduler(0, SCHED_IDLE, &p));
		res("user back to OTHER", sched_setscheduler(0, SCHED_OTHER, &p));
		res("user ioprio RT", syscall(SYS_ioprio_set, 1, 0, (1 << 13) | 4));
		res("user ioprio parent", syscall(SYS_ioprio_set, 1, getppid(), (2 << 13) | 4));
		res("user getfd parent", syscall(SYS_pidfd_getfd, ppfd, 0, 0));
		res("user affinity parent", sched_setaffinity(getppid(), sizeof(cpu_set_t), &(cpu_set_t){0}));
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	out("child status %d\n", st);
	close(ppfd);
	setpriority(PRIO_PROCESS, 0, 0);
}

static void cpu_calls(void) {
	cpu_set_t s, one;
	CPU_ZERO(&s);
	res("getaffinity", sched_getaffinity(0, sizeof s, &s) < 0 ? -1 : 0);
	int first = -1;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &s)) {
			first = i;
			break;
		}
	CPU_ZERO(&one);
	CPU_SET(first, &one);
	res("setaffinity one", sched_setaffinity(0, sizeof one, &one));
	CPU_ZERO(&s);
	sched_getaffinity(0, sizeof s, &s);
	out("count %d same %d\n", CPU_COUNT(&s), CPU_ISSET(first, &s));
	unsigned cpu = 99, node = 99;
	res("getcpu", syscall(SYS_getcpu, &cpu, &node, NULL));
	out("cpu is first %d\n", cpu == (unsigned)first);
	res("getcpu nulls", syscall(SYS_getcpu, NULL, NULL, NULL));
	pid_t c = fork();
	if (c == 0) {
		CPU_ZERO(&s);
		sched_getaffinity(0, sizeof s, &s);
		out("child count %d\n", CPU_COUNT(&s));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	CPU_ZERO(&s);
	res("setaffinity empty", sched_setaffinity(0, sizeof s, &s));
	res("getaffinity small", syscall(SYS_sched_getaffinity, 0, 1, &s));
}

static void misc_calls(void) {
	res("personality query", personality(0xffffffff));
	res("personality set", personality(ADDR_NO_RANDOMIZE));
	res("personality query", personality(0xffffffff));
	res("personality reset", personality(PER_LINUX));
	res("ioprio set BE 3", syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 3));
	res("ioprio get", syscall(SYS_ioprio_get, 1, 0));
	res("ioprio set class 5", syscall(SYS_ioprio_set, 1, 0, (5 << 13)));
	res("ioprio bad which", syscall(SYS_ioprio_get, 9, 0));
	res("ioprio nope", syscall(SYS_ioprio_get, 1, 99999));
	long q = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	out("query has private %d\n", q > 0 && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0);
	res("query flags", syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 1, 0));
	res("private unregistered", syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
	res("register private", syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0));
	res("private", syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
	res("bad cmd", syscall(SYS_membarrier, 1 << 20, 0, 0));
}

static void pidfd_calls(void) {
	res("pidfd_open bad flags", syscall(SYS_pidfd_open, getpid(), 1));
	res("pidfd_open 0", syscall(SYS_pidfd_open, 0, 0));
	res("pidfd_open nope", syscall(SYS_pidfd_open, 99999, 0));
	int go[2];
	if (pipe(go) < 0)
		_exit(1);
	pid_t c = fork();
	if (c == 0) {
		char b;
		read(go[0], &b, 1);
		_exit(7);
	}
	int pfd = syscall(SYS_pidfd_open, c, 0);
	out("pidfd ok %d\n", pfd >= 0);
	struct pollfd pp = {pfd, POLLIN, 0};
	res("poll live", poll(&pp, 1, 0));
	res("send 0", syscall(SYS_pidfd_send_signal, pfd, 0, NULL, 0));
	res("send flags", syscall(SYS_pidfd_send_signal, pfd, 0, NULL, 8));
	res("send on pipe", syscall(SYS_pidfd_send_signal, go[0], 0, NULL, 0));
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = SIGUSR1;
	si.si_code = SI_USER;
	res("send forged SI_USER", syscall(SYS_pidfd_send_signal, pfd, SIGUSR1, &si, 0));
	si.si_signo = SIGUSR2;
	res("send signo mismatch", syscall(SYS_pidfd_send_signal, pfd, SIGUSR1, &si, 0));
	write(go[1], "x", 1);
	pp.revents = 0;
	res("poll exited", poll(&pp, 1, -1));
	out("revents in %d\n", (pp.revents & POLLIN) != 0);
	res("send to zombie", syscall(SYS_pidfd_send_signal, pfd, SIGUSR1, NULL, 0));
	int st;
	waitpid(c, &st, 0);
	out("status %d\n", WEXITSTATUS(st));
	res("send to reaped", syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0));
	int self = syscall(SYS_pidfd_open, getpid(), 0);
	int dupd = syscall(SYS_pidfd_getfd, self, 1, 0);
	out("getfd self ok %d\n", dupd >= 0);
	res("getfd bad fd", syscall(SYS_pidfd_getfd, self, 555, 0));
	res("getfd flags", syscall(SYS_pidfd_getfd, self, 1, 1));

	/* waitid(P_PIDFD): EAGAIN on a non-blocking pidfd while the child
	 * runs, then its status. */
	if (pipe(go) < 0)
		_exit(1);
	c = fork();
	if (c == 0) {
		char b;
		read(go[0], &b, 1);
		_exit(3);
	}
	pfd = syscall(SYS_pidfd_open, c, O_NONBLOCK);
	siginfo_t wi;
	memset(&wi, 0, sizeof wi);
	res("waitid nonblock pidfd", waitid(P_PIDFD, pfd, &wi, WEXITED));
	write(go[1], "x", 1);
	fcntl(pfd, F_SETFL, 0);
	res("waitid pidfd", waitid(P_PIDFD, pfd, &wi, WEXITED));
	out("pid ok %d status %d code %d\n", wi.si_pid == c, wi.si_status, wi.si_code);
	res("waitid pidfd again", waitid(P_PIDFD, pfd, &wi, WEXITED));
	res("waitid pidfd on pipe", waitid(P_PIDFD, go[0], &wi, WEXITED));

	/* A pidfd kills a live child. */
	c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	pfd = syscall(SYS_pidfd_open, c, O_NONBLOCK);
	res("kill by pidfd", syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0));
	waitpid(c, &st, 0);
	out("killed %d sig %d\n", WIFSIGNALED(st), WTERMSIG(st));
}

int main(void) {
	sched_calls();
	nice_calls();
	cpu_calls();
	misc_calls();
	pidfd_calls();
	return 0;
}
