/* timer.c: timerfd, POSIX timers, ITIMER_VIRTUAL/PROF, CPU-time clocks,
 * times and getrusage. Only facts that do not depend on timing are
 * printed: errors, that a timer fired (never when), lower bounds on
 * expiration counts and CPU times that elapsed time guarantees, and
 * relative orders. */
#include "difftest.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>

#define MS 1000000L

static long now_ns(clockid_t c) {
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void nap(long ns) {
	struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* burn spins until *flag is set or limit ns of CPU time went by; it
 * returns whether the flag was set. The bound only stops a broken
 * timer from hanging the test. */
static int burn(volatile sig_atomic_t *flag, long limit) {
	long start = now_ns(CLOCK_MONOTONIC);
	while (!*flag) {
		for (volatile int i = 0; i < 10000; i++)
			;
		if (now_ns(CLOCK_MONOTONIC) - start > limit)
			return 0;
	}
	return 1;
}

/* burn_cpu spins until this thread has used ns of CPU time (bounded by
 * ten seconds of wall time). */
static void burn_cpu(long ns) {
	long start = now_ns(CLOCK_THREAD_CPUTIME_ID), wall = now_ns(CLOCK_MONOTONIC);
	while (now_ns(CLOCK_THREAD_CPUTIME_ID) - start < ns && now_ns(CLOCK_MONOTONIC) - wall < 10000 * MS)
		for (volatile int i = 0; i < 10000; i++)
			;
}

/* gettime_err calls timer_gettime and returns its errno name ("ok"). */
static const char *gettime_err(int id) {
	struct itimerspec v;
	if (syscall(SYS_timer_gettime, id, &v) < 0)
		return strerrorname_np(errno);
	return "ok";
}

static long tc(int clock, struct sigevent *ev, int *id) {
	return syscall(SYS_timer_create, clock, ev, id);
}
static long ts_(int id, int flags, long vs, long vns, long is, long ins, struct itimerspec *old) {
	struct itimerspec v = {{is, ins}, {vs, vns}};
	return syscall(SYS_timer_settime, id, flags, &v, old);
}

static volatile sig_atomic_t got, got_code, got_val, got_id, got_ovr, vt, pr;

static void on_info(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	got = sig;
	got_code = si->si_code;
	got_val = si->si_value.sival_int;
	got_id = si->si_timerid;
	got_ovr = si->si_overrun;
}
static void on_vt(int sig) { (void)sig; vt++; }
static void on_pr(int sig) { (void)sig; pr++; }

static void timerfds(void) {
	out("-- timerfd\n");
	res("create clock 99", timerfd_create(99, 0));
	res("create MONOTONIC_RAW", timerfd_create(CLOCK_MONOTONIC_RAW, 0));
	res("create PROCESS_CPUTIME", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0));
	res("create bad flags", timerfd_create(CLOCK_MONOTONIC, 1));
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	out("create ok: %d, cloexec %d, nonblock %d\n", fd >= 0, fcntl(fd, F_GETFD),
	    (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
	uint64_t n = 0;
	char small[4];
	res("read empty", read(fd, &n, 8));
	res("read 4 bytes", read(fd, small, 4));
	res("write", write(fd, &n, 8));
	struct itimerspec v;
	res("gettime", timerfd_gettime(fd, &v));
	out("disarmed: %ld.%09ld / %ld.%09ld\n", v.it_value.tv_sec, v.it_value.tv_nsec,
	    v.it_interval.tv_sec, v.it_interval.tv_nsec);
	struct itimerspec s = {{0, 0}, {0, 1000000000}};
	res("settime nsec=1e9", timerfd_settime(fd, 0, &s, NULL));
	s = (struct itimerspec){{0, 0}, {-1, 0}};
	res("settime sec=-1", timerfd_settime(fd, 0, &s, NULL));
	s = (struct itimerspec){{0, 0}, {1, 0}};
	res("settime flags 4", timerfd_settime(fd, 4, &s, NULL));
	res("settime bad fd", timerfd_settime(-1, 0, &s, NULL));
	res("gettime bad fd", timerfd_gettime(-1, &v));
	int p[2];
	pipe(p);
	res("settime on a pipe", timerfd_settime(p[0], 0, &s, NULL));
	res("gettime on a pipe", timerfd_gettime(p[0], &v));
	res("settime bad ptr", timerfd_settime(fd, 0, (void *)8, NULL));
	close(p[0]);
	close(p[1]);

	/* Remaining time and the old value. */
	s = (struct itimerspec){{2, 0}, {5, 0}};
	res("set 5s every 2s", timerfd_settime(fd, 0, &s, NULL));
	timerfd_gettime(fd, &v);
	out("armed: value sec 4 or 5: %d, interval %ld.%09ld\n",
	    v.it_value.tv_sec == 4 || (v.it_value.tv_sec == 5 && v.it_value.tv_nsec == 0),
	    v.it_interval.tv_sec, v.it_interval.tv_nsec);
	struct itimerspec old;
	s = (struct itimerspec){{0, 0}, {0, 0}};
	res("disarm", timerfd_settime(fd, 0, &s, &old));
	out("old: sec 4: %d, interval %ld\n", old.it_value.tv_sec == 4, old.it_interval.tv_sec);
	timerfd_gettime(fd, &v);
	out("disarmed again: %ld %ld\n", v.it_value.tv_sec + v.it_value.tv_nsec, v.it_interval.tv_sec);

	/* A periodic timer: poll, then a count of expirations. */
	s = (struct itimerspec){{0, 5 * MS}, {0, 5 * MS}};
	res("set 5ms every 5ms", timerfd_settime(fd, 0, &s, NULL));
	struct pollfd pf = {fd, POLLIN, 0};
	res("poll", poll(&pf, 1, -1));
	out("revents %#x\n", pf.revents);
	nap(30 * MS);
	res("read", read(fd, &n, 8));
	out("at least 5 expirations: %d\n", n >= 5);
	res("read again", read(fd, &n, 8));

	/* epoll readiness. */
	int ep = epoll_create1(0);
	struct epoll_event ev = {EPOLLIN, {.u64 = 7}}, evs[2];
	res("epoll_ctl", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	res("epoll_wait", epoll_wait(ep, evs, 2, -1));
	out("event %#x data %lu\n", evs[0].events, (unsigned long)evs[0].data.u64);
	close(ep);

	/* Absolute times, one in the past, and a blocking read. */
	int bfd = timerfd_create(CLOCK_REALTIME, 0);
	struct timespec t0;
	clock_gettime(CLOCK_REALTIME, &t0);
	s = (struct itimerspec){{0, 0}, {t0.tv_sec - 10, 0}};
	res("abs in the past", timerfd_settime(bfd, TFD_TIMER_ABSTIME, &s, NULL));
	res("read past", read(bfd, &n, 8));
	out("count %lu\n", (unsigned long)n);
	clock_gettime(CLOCK_REALTIME, &t0);
	t0.tv_nsec += 20 * MS;
	if (t0.tv_nsec >= 1000000000L) {
		t0.tv_sec++;
		t0.tv_nsec -= 1000000000L;
	}
	s = (struct itimerspec){{0, 0}, t0};
	res("abs +20ms cancel-on-set", timerfd_settime(bfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &s, NULL));
	res("blocking read", read(bfd, &n, 8));
	out("count %lu, after deadline: %d\n", (unsigned long)n,
	    now_ns(CLOCK_REALTIME) >= t0.tv_sec * 1000000000L + t0.tv_nsec);
	timerfd_gettime(bfd, &v);
	out("expired one-shot: %ld\n", v.it_value.tv_sec + v.it_value.tv_nsec);
	/* A set drops unread expirations. */
	s = (struct itimerspec){{0, 0}, {0, 1}};
	timerfd_settime(fd, 0, &s, NULL);
	nap(5 * MS);
	s = (struct itimerspec){{0, 0}, {100, 0}};
	timerfd_settime(fd, 0, &s, NULL);
	res("read after re-set", read(fd, &n, 8));
	close(bfd);
	close(fd);
}

static void posix_timers(char *self) {
	out("-- posix timers\n");
	int id = -1, id2 = -1;
	struct sigevent ev = {0};
	res("create clock 99", tc(99, NULL, &id));
	res("create MONOTONIC_RAW", tc(CLOCK_MONOTONIC_RAW, NULL, &id));
	ev.sigev_notify = 99;
	res("create notify 99", tc(CLOCK_MONOTONIC, &ev, &id));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = 0;
	res("create signo 0", tc(CLOCK_MONOTONIC, &ev, &id));
	ev.sigev_signo = 65;
	res("create signo 65", tc(CLOCK_MONOTONIC, &ev, &id));
	ev.sigev_signo = SIGUSR1;
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev._sigev_un._tid = 999999;
	res("create bad tid", tc(CLOCK_MONOTONIC, &ev, &id));
	res("create bad ptr", tc(CLOCK_MONOTONIC, (void *)8, &id));
	res("create bad id ptr", tc(CLOCK_MONOTONIC, NULL, (void *)8));
	res("settime bad id", ts_(12345, 0, 1, 0, 0, 0, NULL));
	struct itimerspec v;
	res("gettime bad id", syscall(SYS_timer_gettime, 12345, &v));
	res("getoverrun bad id", syscall(SYS_timer_getoverrun, 12345));
	res("delete bad id", syscall(SYS_timer_delete, 12345));

	res("create default", tc(CLOCK_MONOTONIC, NULL, &id));
	res("create second", tc(CLOCK_REALTIME, NULL, &id2));
	out("ids: first >= 0: %d, distinct: %d\n", id >= 0, id != id2);
	res("settime NULL", syscall(SYS_timer_settime, id, 0, NULL, NULL));
	res("settime nsec=1e9", ts_(id, 0, 0, 1000000000L, 0, 0, NULL));
	res("settime interval nsec=-1", ts_(id, 0, 1, 0, 0, -1, NULL));
	res("set 5s every 2s", ts_(id, 0, 5, 0, 2, 0, NULL));
	res("gettime", syscall(SYS_timer_gettime, id, &v));
	out("armed: value sec 4 or 5: %d, interval %ld.%09ld\n",
	    v.it_value.tv_sec == 4 || (v.it_value.tv_sec == 5 && v.it_value.tv_nsec == 0),
	    v.it_interval.tv_sec, v.it_interval.tv_nsec);
	struct itimerspec old;
	res("disarm", ts_(id, 0, 0, 0, 0, 0, &old));
	out("old: sec 4: %d, interval %ld\n", old.it_value.tv_sec == 4, old.it_interval.tv_sec);
	syscall(SYS_timer_gettime, id, &v);
	out("disarmed: %ld %ld\n", v.it_value.tv_sec + v.it_value.tv_nsec, v.it_interval.tv_sec);
	res("getoverrun", syscall(SYS_timer_getoverrun, id));
	res("delete", syscall(SYS_timer_delete, id));
	res("delete again", syscall(SYS_timer_delete, id));
	res("settime deleted", ts_(id, 0, 1, 0, 0, 0, NULL));
	syscall(SYS_timer_delete, id2);

	/* A signal with SI_TIMER, the value and the id. */
	struct sigaction sa = {0};
	sa.sa_sigaction = on_info;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigset_t block, empty;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigemptyset(&empty);
	sigprocmask(SIG_BLOCK, &block, NULL);
	ev = (struct sigevent){0};
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGUSR1;
	ev.sigev_value.sival_int = 0x1234;
	res("create SIGUSR1", tc(CLOCK_MONOTONIC, &ev, &id));
	res("set 10ms", ts_(id, 0, 0, 10 * MS, 0, 0, NULL));
	got = 0;
	while (!got)
		sigsuspend(&empty);
	out("signal %d code %d value %#x id ok %d overrun %d\n", got, got_code, got_val, got_id == id, got_ovr);
	syscall(SYS_timer_gettime, id, &v);
	out("fired one-shot: %ld\n", v.it_value.tv_sec + v.it_value.tv_nsec);
	/* Absolute time in the past: at once. */
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	got = 0;
	res("abs in the past", ts_(id, TIMER_ABSTIME, t0.tv_sec - 1, 0, 0, 0, NULL));
	while (!got)
		sigsuspend(&empty);
	out("abs: signal %d code %d\n", got, got_code);

	/* Overruns: a 1ms timer whose signal stays blocked for 30ms. */
	ev.sigev_signo = SIGUSR2;
	ev.sigev_value.sival_int = 7;
	res("create SIGUSR2", tc(CLOCK_MONOTONIC, &ev, &id2));
	res("set 1ms every 1ms", ts_(id2, 0, 0, MS, 0, MS, NULL));
	nap(30 * MS);
	got = 0;
	while (!got)
		sigsuspend(&empty);
	int ovr = got_ovr;
	long go = syscall(SYS_timer_getoverrun, id2);
	out("signal %d value %d overrun >= 5: %d, getoverrun >= 5: %d\n", got, got_val, ovr >= 5, go >= 5);
	res("disarm", ts_(id2, 0, 0, 0, 0, 0, NULL));
	res("getoverrun after a set", syscall(SYS_timer_getoverrun, id2));
	syscall(SYS_timer_delete, id2);

	/* SIGEV_THREAD_ID to this thread. */
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SIGUSR2;
	ev._sigev_un._tid = gettid();
	res("create THREAD_ID", tc(CLOCK_MONOTONIC, &ev, &id2));
	ts_(id2, 0, 0, MS, 0, 0, NULL);
	got = 0;
	while (!got)
		sigsuspend(&empty);
	out("thread: signal %d code %d\n", got, got_code);
	syscall(SYS_timer_delete, id2);

	/* SIGEV_NONE: no signal, the time still runs. */
	ev.sigev_notify = SIGEV_NONE;
	res("create NONE", tc(CLOCK_MONOTONIC, &ev, &id2));
	ts_(id2, 0, 0, MS, 0, 0, NULL);
	nap(10 * MS);
	syscall(SYS_timer_gettime, id2, &v);
	out("none expired: %ld\n", v.it_value.tv_sec + v.it_value.tv_nsec);
	syscall(SYS_timer_delete, id2);
	sigprocmask(SIG_UNBLOCK, &block, NULL);

	/* CPU clocks: the timer fires after the process burned 20ms. */
	static volatile sig_atomic_t fired;
	sa.sa_flags = 0;
	sa.sa_handler = on_vt;
	sigaction(SIGVTALRM, &sa, NULL);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGVTALRM;
	res("create PROCESS_CPUTIME", tc(CLOCK_PROCESS_CPUTIME_ID, &ev, &id2));
	vt = 0;
	ts_(id2, 0, 0, 20 * MS, 0, 0, NULL);
	fired = burn(&vt, 10000 * MS);
	out("process CPU timer fired: %d\n", fired);
	syscall(SYS_timer_delete, id2);
	res("create THREAD_CPUTIME", tc(CLOCK_THREAD_CPUTIME_ID, &ev, &id2));
	vt = 0;
	ts_(id2, 0, 0, 20 * MS, 0, 0, NULL);
	out("thread CPU timer fired: %d\n", burn(&vt, 10000 * MS));

	/* Not inherited by fork. */
	pid_t c = fork();
	if (c == 0) {
		out("child: gettime %s\n", gettime_err(id2));
		_exit(0);
	}
	waitpid(c, NULL, 0);

	/* Deleted by execve. */
	ev.sigev_notify = SIGEV_NONE;
	tc(CLOCK_MONOTONIC, &ev, &id);
	ts_(id, 0, 100, 0, 0, 0, NULL);
	char arg[16];
	snprintf(arg, sizeof arg, "%d", id);
	execl(self, self, arg, (char *)NULL);
	out("execl failed\n");
}

static void itimers(void) {
	out("-- itimers\n");
	struct sigaction sa = {0};
	sa.sa_handler = on_vt;
	sigaction(SIGVTALRM, &sa, NULL);
	sa.sa_handler = on_pr;
	sigaction(SIGPROF, &sa, NULL);
	struct itimerval v = {{0, 0}, {0, 20000}}, g;
	vt = 0;
	res("virtual 20ms", setitimer(ITIMER_VIRTUAL, &v, NULL));
	res("getitimer", getitimer(ITIMER_VIRTUAL, &g));
	/* Linux adds one tick (1000/HZ ms) to a CPU itimer's value. */
	out("armed: value in (0,40ms]: %d\n", g.it_value.tv_sec == 0 && g.it_value.tv_usec > 0 && g.it_value.tv_usec <= 40000);
	out("virtual fired: %d\n", burn(&vt, 10000 * MS));
	getitimer(ITIMER_VIRTUAL, &g);
	out("after: %ld.%06ld\n", g.it_value.tv_sec, g.it_value.tv_usec);
	pr = 0;
	v = (struct itimerval){{0, 5000}, {0, 5000}};
	res("prof 5ms every 5ms", setitimer(ITIMER_PROF, &v, NULL));
	volatile sig_atomic_t three = 0;
	long start = now_ns(CLOCK_MONOTONIC);
	while (pr < 3 && now_ns(CLOCK_MONOTONIC) - start < 10000 * MS)
		;
	three = pr >= 3;
	struct itimerval o;
	v = (struct itimerval){{0, 0}, {0, 0}};
	res("prof disarm", setitimer(ITIMER_PROF, &v, &o));
	out("prof fired 3 times: %d, old interval %ld.%06ld\n", three, o.it_interval.tv_sec, o.it_interval.tv_usec);
	/* Kept across execve (checked after the exec). */
	v = (struct itimerval){{0, 0}, {100, 0}};
	setitimer(ITIMER_VIRTUAL, &v, NULL);
}

static void accounting(void) {
	out("-- accounting\n");
	struct rusage ru;
	res("getrusage children", getrusage(RUSAGE_CHILDREN, &ru));
	out("children zero: %d\n", ru.ru_utime.tv_sec + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec == 0);
	res("getrusage 5", syscall(SYS_getrusage, 5, &ru));
	res("getrusage -2", syscall(SYS_getrusage, -2, &ru));
	res("getrusage bad ptr", syscall(SYS_getrusage, RUSAGE_SELF, (void *)8));
	struct timespec r;
	res("getres PROCESS", clock_getres(CLOCK_PROCESS_CPUTIME_ID, &r));
	out("res %ld.%09ld\n", r.tv_sec, r.tv_nsec);
	res("getres THREAD", clock_getres(CLOCK_THREAD_CPUTIME_ID, &r));
	out("res %ld.%09ld\n", r.tv_sec, r.tv_nsec);

	struct timespec zero = {0, 0};
	res("nanosleep THREAD_CPUTIME", syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &zero, NULL));
	res("nanosleep PROCESS_CPUTIME 0", syscall(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 0, &zero, NULL));
	res("nanosleep PROCESS_CPUTIME abs past", syscall(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, &zero, NULL));
	struct timespec badts = {0, 1000000000L};
	res("nanosleep PROCESS_CPUTIME bad", syscall(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 0, &badts, NULL));

	struct tms t1, t2;
	clock_t c1 = times(&t1);
	long p1 = now_ns(CLOCK_PROCESS_CPUTIME_ID), th1 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	burn_cpu(50 * MS);
	long p2 = now_ns(CLOCK_PROCESS_CPUTIME_ID), th2 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	clock_t c2 = times(&t2);
	out("process clock +40ms: %d, thread clock +40ms: %d\n", p2 - p1 >= 40 * MS, th2 - th1 >= 40 * MS);
	out("times monotonic: %d, cpu ticks >= 4: %d\n", c2 >= c1, t2.tms_utime + t2.tms_stime >= 4);
	res("times NULL", times(NULL) > 0);
	res("times bad ptr", syscall(SYS_times, (void *)8));
	res("getrusage self", getrusage(RUSAGE_SELF, &ru));
	long self = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000L + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
	out("self >= 40ms: %d\n", self >= 40000);
	res("getrusage thread", getrusage(RUSAGE_THREAD, &ru));
	long thr = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000L + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
	out("thread >= 40ms: %d\n", thr >= 40000);

	/* A child's time counts once it is reaped; its clock is readable
	 * while it lives. */
	int p[2];
	pipe(p);
	pid_t c = fork();
	if (c == 0) {
		burn_cpu(40 * MS);
		char x;
		close(p[1]);
		read(p[0], &x, 1);
		_exit(0);
	}
	clockid_t cc;
	res("getcpuclockid", clock_getcpuclockid(c, &cc));
	struct timespec ct;
	res("child clock", clock_gettime(cc, &ct));
	res("bad pid clock", clock_gettime((~(clockid_t)999999) << 3 | 2, &ct));
	res("clock kind 3", clock_gettime((~(clockid_t)0) << 3 | 3, &ct));
	close(p[1]);
	waitpid(c, NULL, 0);
	close(p[0]);
	getrusage(RUSAGE_CHILDREN, &ru);
	long ch = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000L + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
	out("children >= 30ms: %d\n", ch >= 30000);
	times(&t2);
	out("times children ticks >= 3: %d\n", t2.tms_cutime + t2.tms_cstime >= 3);
}

int main(int argc, char **argv) {
	if (argc > 1) {
		out("after exec: gettime %s\n", gettime_err(atoi(argv[1])));
		struct itimerval g;
		getitimer(ITIMER_VIRTUAL, &g);
		out("after exec: virtual still armed: %d\n", g.it_value.tv_sec > 90);
		return 0;
	}
	timerfds();
	accounting();
	itimers();
	posix_timers(argv[0]);
	return 0;
}
