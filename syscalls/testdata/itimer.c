/* itimer.c: setitimer, getitimer and alarm: SIGALRM interrupting a read,
 * interval reload, remaining-time reports, cancel, errors, fork (a
 * child starts with no timer) and execve (ITIMER_REAL survives). Only
 * coarse, deterministic facts about times are printed. */
#include "difftest.h"
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static volatile sig_atomic_t alarms;

static void on_alarm(int sig) {
	(void)sig;
	alarms++;
}

static void get(const char *what, struct itimerval *v) {
	if (syscall(SYS_getitimer, ITIMER_REAL, v) < 0)
		out("%s: getitimer = -1 %s\n", what, strerrorname_np(errno));
}

/* set arms ITIMER_REAL with raw values (no libc checks). */
static long set(long vs, long vus, long is, long ius, struct itimerval *old) {
	struct itimerval v = {{is, ius}, {vs, vus}};
	return syscall(SYS_setitimer, ITIMER_REAL, &v, old);
}

int main(int argc, char **argv) {
	struct itimerval v;
	if (argc > 1) {
		/* After execve: the alarm armed before it is still pending. */
		unsigned left = alarm(0);
		out("after exec: alarm left %u\n", left);
		return 0;
	}

	struct sigaction sa = {0};
	sa.sa_handler = on_alarm; /* no SA_RESTART: a read fails with EINTR */
	sigaction(SIGALRM, &sa, NULL);

	get("initial", &v);
	out("initial: %ld.%06ld / %ld.%06ld\n", v.it_value.tv_sec, v.it_value.tv_usec,
	    v.it_interval.tv_sec, v.it_interval.tv_usec);

	/* Errors. */
	struct itimerval bad = {{0, 0}, {0, 1000000}};
	res("setitimer usec=1e6", syscall(SYS_setitimer, ITIMER_REAL, &bad, NULL));
	bad = (struct itimerval){{0, 0}, {-1, 0}};
	res("setitimer sec=-1", syscall(SYS_setitimer, ITIMER_REAL, &bad, NULL));
	bad = (struct itimerval){{0, -1}, {1, 0}};
	res("setitimer interval usec=-1", syscall(SYS_setitimer, ITIMER_REAL, &bad, NULL));
	res("setitimer which=7", syscall(SYS_setitimer, 7, &v, NULL));
	res("getitimer which=7", syscall(SYS_getitimer, 7, &v));
	res("setitimer bad ptr", syscall(SYS_setitimer, ITIMER_REAL, (void *)8, NULL));
	res("getitimer bad ptr", syscall(SYS_getitimer, ITIMER_REAL, (void *)8));
	res("setitimer virtual", syscall(SYS_setitimer, ITIMER_VIRTUAL, &(struct itimerval){{0, 0}, {0, 0}}, NULL));
	res("getitimer prof", syscall(SYS_getitimer, ITIMER_PROF, &v));

	/* Remaining time and the old value. */
	res("set 10s every 2.5s", set(10, 0, 2, 500000, NULL));
	get("armed", &v);
	out("armed: value in (9,10]: %d, interval %ld.%06ld\n",
	    (v.it_value.tv_sec == 9 && v.it_value.tv_usec > 0) || (v.it_value.tv_sec == 10 && v.it_value.tv_usec == 0),
	    v.it_interval.tv_sec, v.it_interval.tv_usec);
	struct itimerval old;
	res("disarm", set(0, 0, 0, 0, &old));
	out("old: value sec 9: %d, interval %ld.%06ld\n", old.it_value.tv_sec == 9,
	    old.it_interval.tv_sec, old.it_interval.tv_usec);
	get("disarmed", &v);
	out("disarmed: %ld.%06ld / %ld.%06ld\n", v.it_value.tv_sec, v.it_value.tv_usec,
	    v.it_interval.tv_sec, v.it_interval.tv_usec);

	/* alarm: old values round to the nearest second, and 0 cancels. */
	out("alarm(5) = %u\n", alarm(5));
	out("alarm(3) = %u\n", alarm(3));
	out("alarm(0) = %u\n", alarm(0));
	out("alarm(0) again = %u\n", alarm(0));
	set(0, 300000, 0, 0, NULL);
	out("alarm(0) with 0.3s left = %u\n", alarm(0));
	set(0, 700000, 0, 0, NULL);
	out("alarm(0) with 0.7s left = %u\n", alarm(0));

	/* A cancelled alarm does not fire: the sleep is not interrupted. */
	set(0, 50000, 0, 0, NULL);
	alarm(0);
	struct timespec ts = {0, 200000000};
	res("nanosleep after cancel", nanosleep(&ts, NULL));
	out("alarms after cancel: %d\n", alarms);

	/* alarm interrupts a blocking read. */
	int p[2];
	if (pipe(p) < 0)
		return 1;
	char c;
	alarm(1);
	res("read interrupted", read(p[0], &c, 1));
	out("alarms: %d\n", alarms);

	/* An interval timer fires again and again. */
	alarms = 0;
	set(0, 20000, 0, 20000, NULL);
	while (alarms < 3)
		pause();
	set(0, 0, 0, 0, NULL);
	out("interval fired at least 3 times: %d\n", alarms >= 3);

	/* A fork child starts with no timer; the parent keeps its own. */
	set(30, 0, 0, 0, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		get("child", &v);
		out("child: %ld.%06ld / %ld.%06ld\n", v.it_value.tv_sec, v.it_value.tv_usec,
		    v.it_interval.tv_sec, v.it_interval.tv_usec);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	get("parent", &v);
	out("parent still armed: %d\n", v.it_value.tv_sec >= 29);

	/* execve keeps ITIMER_REAL (the 30s set above). */
	execv("/itimer", (char *[]){"itimer", "exec", NULL});
	out("execv = -1 %s\n", strerrorname_np(errno));
	return 1;
}
