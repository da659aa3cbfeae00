/* sig_jobctl: job control. A child stops itself; the parent sees the
 * stop with wait4(WUNTRACED) and waitid(WSTOPPED|WNOWAIT) and its
 * SIGCHLD (CLD_STOPPED), resumes it with SIGCONT (WCONTINUED,
 * CLD_CONTINUED) and reaps it. SIGTSTP with a handler and by default,
 * SA_NOCLDSTOP, SIGKILL of a stopped child, SIGTSTP discarded in an
 * orphaned process group, a stop during nanosleep (restarted, not
 * EINTR), a two-thread stop, and SIGHUP+SIGCONT for a group orphaned
 * with a stopped member. Processes are sequenced with pipes; SIGCHLD is
 * blocked and taken with sigtimedwait, so nothing depends on timing. */
#include "difftest.h"
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

static sigset_t chld;

static void status(const char *what, int st) {
	if (WIFEXITED(st))
		out("%s: exited %d\n", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		out("%s: killed by %d\n", what, WTERMSIG(st));
	else if (WIFSTOPPED(st))
		out("%s: stopped by %d (raw %#x)\n", what, WSTOPSIG(st), st);
	else if (WIFCONTINUED(st))
		out("%s: continued (raw %#x)\n", what, st);
	else
		out("%s: raw %#x\n", what, st);
}

/* sigchld takes the pending SIGCHLD (it was sent before the wait woke). */
static void sigchld(pid_t pid) {
	siginfo_t si;
	struct timespec zero = {0, 0};
	int r = sigtimedwait(&chld, &si, &zero);
	if (r < 0) {
		out("SIGCHLD: none (%s)\n", strerrorname_np(errno));
		return;
	}
	out("SIGCHLD: code %d status %d pid ok %d\n", si.si_code, si.si_status, si.si_pid == pid);
}

static void self_stop(void) {
	int p[2], q[2];
	if (pipe(p) < 0 || pipe(q) < 0)
		_exit(90);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		close(q[1]);
		raise(SIGSTOP);
		write(p[1], "c", 1);
		/* Exit only once the parent took CLD_CONTINUED: a second
		 * SIGCHLD would merge with it. */
		read(q[0], &pid, 1);
		_exit(7);
	}
	close(p[1]);
	close(q[0]);
	int st = 0;
	siginfo_t si;
	memset(&si, 0, sizeof si);
	res("waitid WSTOPPED|WNOWAIT", waitid(P_PID, pid, &si, WSTOPPED | WNOWAIT));
	out("waitid: code %d status %d pid ok %d\n", si.si_code, si.si_status, si.si_pid == pid);
	res("wait4 WUNTRACED", waitpid(pid, &st, WUNTRACED) == pid);
	status("child", st);
	sigchld(pid);
	res("wait4 WUNTRACED|WNOHANG again", waitpid(pid, &st, WUNTRACED | WNOHANG));
	res("wait4 WNOHANG (no exit yet)", waitpid(pid, &st, WNOHANG));
	res("kill SIGCONT", kill(pid, SIGCONT));
	res("wait4 WCONTINUED", waitpid(pid, &st, WCONTINUED) == pid);
	status("child", st);
	/* Linux sends CLD_CONTINUED when the child runs again: it has once
	 * it writes. */
	char c = 0;
	res("read", read(p[0], &c, 1));
	sigchld(pid);
	close(q[1]);
	res("wait4", waitpid(pid, &st, 0) == pid);
	status("child", st);
	sigchld(pid);
	close(p[0]);
}

static void on_tstp(int sig) {
	(void)sig;
	write(10, "h", 1);
}

static void tstp(void) {
	int p[2];
	if (pipe(p) < 0 || dup2(p[1], 10) < 0)
		_exit(90);
	close(p[1]);
	struct sigaction sa = {0};
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		/* Its own group, with the parent in another of the same
		 * session: not orphaned, so SIGTSTP stops it. */
		setpgid(0, 0);
		signal(SIGTSTP, on_tstp);
		raise(SIGTSTP);
		signal(SIGTSTP, SIG_DFL);
		raise(SIGTSTP);
		write(10, "x", 1);
		_exit(0);
	}
	close(10);
	char c = 0;
	res("read handler mark", read(p[0], &c, 1));
	out("mark %c\n", c);
	int st = 0;
	res("wait4 WUNTRACED", waitpid(pid, &st, WUNTRACED) == pid);
	status("tstp child", st);
	sigset_t pend;
	sigpending(&pend);
	out("SIGCHLD pending with SA_NOCLDSTOP: %d\n", sigismember(&pend, SIGCHLD));
	res("kill SIGKILL (stopped)", kill(pid, SIGKILL));
	res("wait4", waitpid(pid, &st, 0) == pid);
	status("tstp child", st);
	res("read after kill (EOF)", read(p[0], &c, 1));
	sigchld(pid);
	close(p[0]);
	sa.sa_flags = 0;
	sigaction(SIGCHLD, &sa, NULL);
}

static void orphaned(void) {
	pid_t pid = fork();
	if (pid == 0) {
		/* A new session: its group has no parent in the session, so
		 * it is orphaned and terminal stops are discarded. */
		setsid();
		raise(SIGTSTP);
		raise(SIGTTIN);
		raise(SIGTTOU);
		_exit(3);
	}
	int st = 0;
	res("wait4 WUNTRACED (orphaned)", waitpid(pid, &st, WUNTRACED) == pid);
	status("orphan", st);
	sigchld(pid);
}

static void sleeping(void) {
	int p[2];
	if (pipe(p) < 0)
		_exit(90);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		write(p[1], "s", 1);
		struct timespec ts = {0, 300 * 1000 * 1000};
		int r = nanosleep(&ts, NULL);
		_exit(r == 0 ? 0 : 100 + errno);
	}
	close(p[1]);
	char c;
	read(p[0], &c, 1);
	close(p[0]);
	int st = 0;
	res("kill SIGSTOP", kill(pid, SIGSTOP));
	res("wait4 WUNTRACED", waitpid(pid, &st, WUNTRACED) == pid);
	status("sleeper", st);
	sigchld(pid);
	res("kill SIGCONT", kill(pid, SIGCONT));
	res("wait4", waitpid(pid, &st, 0) == pid);
	status("sleeper", st);
	/* The continue's SIGCHLD and the exit's (one pending at a time). */
	sigchld(pid);
}

static int thr_fd;
static void *reader(void *arg) {
	(void)arg;
	char c = 0;
	long r = read(thr_fd, &c, 1);
	return (void *)(r == 1 && c == 'd' ? 5L : 6L);
}

/* Both threads of a child stop: one blocked in read, one in
 * pthread_join (a futex wait); data written while it is stopped is read
 * once it continues. */
static void threads(void) {
	int p[2], q[2];
	if (pipe(p) < 0 || pipe(q) < 0)
		_exit(90);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		close(q[1]);
		thr_fd = q[0];
		pthread_t th;
		pthread_create(&th, NULL, reader, NULL);
		write(p[1], "r", 1);
		void *ret;
		pthread_join(th, &ret);
		_exit((int)(long)ret);
	}
	close(p[1]);
	close(q[0]);
	char c;
	read(p[0], &c, 1);
	int st = 0;
	res("kill SIGSTOP (threads)", kill(pid, SIGSTOP));
	res("wait4 WUNTRACED", waitpid(pid, &st, WUNTRACED) == pid);
	status("threads", st);
	sigchld(pid);
	res("write while stopped", write(q[1], "d", 1));
	res("kill SIGCONT", kill(pid, SIGCONT));
	res("wait4", waitpid(pid, &st, 0) == pid);
	status("threads", st);
	sigchld(pid);
	close(p[0]);
	close(q[1]);
}

static int hup_fd;
static void on_hup(int sig) {
	(void)sig;
	write(hup_fd, "H", 1);
}

/* A process group that its leader's exit orphans while a member is
 * stopped gets SIGHUP and SIGCONT: A leads a session, B (its child) has
 * a group of its own in it and stops; when A exits, B's new parent (the
 * test's init) is in another session. */
static void orphaned_by_exit(void) {
	int p[2];
	if (pipe(p) < 0)
		_exit(90);
	pid_t a = fork();
	if (a == 0) {
		close(p[0]);
		setsid();
		pid_t b = fork();
		if (b == 0) {
			setpgid(0, 0);
			hup_fd = p[1];
			signal(SIGHUP, on_hup);
			raise(SIGSTOP);
			write(p[1], "C", 1);
			_exit(0);
		}
		int st;
		waitpid(b, &st, WUNTRACED);
		_exit(WIFSTOPPED(st) ? 0 : 1);
	}
	close(p[1]);
	int st = 0;
	res("wait4 session leader", waitpid(a, &st, 0) == a);
	status("leader", st);
	char buf[8] = {0};
	int n = 0, r;
	while (n < (int)sizeof buf - 1 && (r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	out("orphan wrote %s\n", buf);
	res("wait4 orphan", waitpid(-1, &st, 0) > 0);
	status("orphan", st);
	close(p[0]);
	siginfo_t si;
	struct timespec zero = {0, 0};
	sigtimedwait(&chld, &si, &zero);
}

int main(void) {
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	self_stop();
	tstp();
	orphaned();
	sleeping();
	threads();
	orphaned_by_exit();
	return 0;
}
