/* proc_wait.c: fork, exit codes, signals, wait4/waitid, process groups,
 * orphans, SIGCHLD rules. */
#include "difftest.h"
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

static void nap(long ms) {
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static void report(const char *what, int st) {
	if (WIFEXITED(st))
		out("%s: exited %d\n", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		out("%s: killed by %d\n", what, WTERMSIG(st));
	else
		out("%s: status %#x\n", what, st);
}

int main(void) {
	int st;
	pid_t me = getpid();
	out("pid=%d ppid=%d\n", me, getppid());

	/* Exit codes and the child's view of its parent. */
	pid_t c = fork();
	if (c == 0) {
		out("child: ppid is parent: %d\n", getppid() == me);
		_exit(7);
	}
	struct rusage ru;
	memset(&ru, 0xff, sizeof ru);
	pid_t w = wait4(c, &st, 0, &ru);
	out("wait4 returned child: %d\n", w == c);
	report("fork child", st);

	/* Killed by a signal, seen by WIFSIGNALED. */
	c = fork();
	if (c == 0) {
		kill(getpid(), SIGTERM);
		nap(5000);
		_exit(1);
	}
	waitpid(c, &st, 0);
	report("sigterm child", st);

	/* WNOHANG while the child runs, then the real wait. */
	c = fork();
	if (c == 0) {
		nap(100);
		_exit(3);
	}
	res("waitpid WNOHANG", waitpid(c, &st, WNOHANG));
	waitpid(c, &st, 0);
	report("slow child", st);

	/* No children left. */
	res("wait ECHILD", wait(&st));
	res("waitpid other pid", waitpid(12345, &st, 0));

	/* waitid with P_PID and WEXITED. */
	c = fork();
	if (c == 0)
		_exit(9);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	res("waitid", waitid(P_PID, c, &si, WEXITED));
	out("waitid: signo=%d code=%d status=%d pid ok=%d\n", si.si_signo, si.si_code, si.si_status, si.si_pid == c);
	res("waitid no flags", waitid(P_ALL, 0, &si, 0));

	/* Process groups: a child in its own group, waited for by -pgid. */
	/* The child says when it has printed, so the two outputs never
	 * interleave differently from one run to the next. */
	int printed[2];
	if (pipe(printed) != 0)
		return 1;
	c = fork();
	if (c == 0) {
		res("child setpgid", setpgid(0, 0));
		out("child pgid is own pid: %d\n", getpgid(0) == getpid());
		if (write(printed[1], "x", 1) != 1)
			_exit(1);
		nap(50);
		_exit(4);
	}
	setpgid(c, c); /* both sides, as shells do; one of them may race */
	char byte;
	if (read(printed[0], &byte, 1) != 1)
		return 1;
	close(printed[0]);
	close(printed[1]);
	res("setpgid on non-child", setpgid(1, 1));
	w = waitpid(-c, &st, 0);
	out("waitpid(-pgid) got child: %d\n", w == c);
	report("group child", st);

	/* setsid: init leads a group already; a child may. */
	res("init setsid", setsid());
	c = fork();
	if (c == 0) {
		pid_t s = setsid();
		out("child setsid is own pid: %d, getsid: %d\n", s == getpid(), getsid(0) == getpid());
		res("setpgid in new session", setpgid(0, me));
		_exit(0);
	}
	waitpid(c, &st, 0);

	/* kill of a process group. */
	c = fork();
	if (c == 0) {
		setpgid(0, 0);
		nap(5000);
		_exit(0);
	}
	setpgid(c, c);
	res("kill -pgid", kill(-c, SIGKILL));
	waitpid(c, &st, 0);
	report("group-killed child", st);
	res("kill missing group", kill(-31000, SIGTERM));

	/* Orphans go to init: a grandchild outlives its parent. */
	c = fork();
	if (c == 0) {
		pid_t g = fork();
		if (g == 0) {
			while (getppid() != 1)
				nap(5);
			out("orphan: ppid=%d\n", getppid());
			_exit(5);
		}
		_exit(6);
	}
	int pst;
	waitpid(c, &pst, 0);
	w = wait(&st);
	/* Printed after both waits: the orphan's own line comes first. */
	report("orphan's parent", pst);
	out("init reaped the orphan: %d\n", w > 0);
	report("orphan", st);

	/* SIGCHLD ignored: children are reaped at once, wait says ECHILD. */
	signal(SIGCHLD, SIG_IGN);
	c = fork();
	if (c == 0)
		_exit(0);
	nap(50);
	res("wait with SIGCHLD ignored", waitpid(c, &st, 0));
	signal(SIGCHLD, SIG_DFL);

	/* Threads' clone children need __WALL or __WCLONE. */
	c = syscall(SYS_clone, SIGUSR1, 0, 0, 0, 0);
	if (c == 0)
		_exit(8);
	nap(50);
	res("waitpid of clone child without __WALL", waitpid(c, &st, WNOHANG));
	w = waitpid(c, &st, __WALL);
	out("__WALL got clone child: %d\n", w == c);
	report("clone child", st);

	out("done\n");
	return 0;
}
