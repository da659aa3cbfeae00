/* exitcode MODE: ends the way MODE says, so the caller can check the exit
 * status moat reports: a number N → exit(N); "kill" → SIGKILL (137);
 * "abort" → SIGABRT (134); "segv" → write to a read-only page (139);
 * "sleep-segv" → the same after 300 ms, so a test can watch it run.
 * Run as a container's init (PID 1 of a PID namespace), "kill" and
 * "abort" act differently: init ignores signals it has no handler for, so
 * raise(SIGKILL) returns (exit 0) and abort() ends in glibc's last resort,
 * a SIGSEGV (139). "child-kill" and "child-abort" do the same in a forked
 * child and report its wait status as a shell would (exit 128+signal),
 * with RLIMIT_CORE 0 so no core is dumped (WCOREDUMP stays clear). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void segv(void)
{
	volatile char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		exit(2);
	p[0] = 1;
	if (mprotect((void *)p, 4096, PROT_READ) != 0)
		exit(2);
	p[0] = 2; /* SIGSEGV */
	exit(3);
}

/* in_child runs mode in a forked child and reports how it ended. */
static int in_child(const char *mode)
{
	struct rlimit rl = {0, 0};
	if (getrlimit(RLIMIT_CORE, &rl) == 0) {
		rl.rlim_cur = 0;
		setrlimit(RLIMIT_CORE, &rl);
	}
	pid_t pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		if (strcmp(mode, "kill") == 0)
			raise(SIGKILL);
		abort();
	}
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return 2;
	if (!WIFSIGNALED(st)) {
		printf("child exited %d\n", WEXITSTATUS(st));
		return 2;
	}
	printf("child killed by signal %d, core dumped %d\n", WTERMSIG(st), WCOREDUMP(st) ? 1 : 0);
	return 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 0;
	const char *m = argv[1];
	printf("mode %s\n", m);
	fflush(stdout);
	if (strncmp(m, "child-", 6) == 0)
		return in_child(m + 6);
	if (strcmp(m, "kill") == 0)
		raise(SIGKILL);
	if (strcmp(m, "abort") == 0)
		abort();
	if (strcmp(m, "segv") == 0)
		segv();
	if (strcmp(m, "sleep-segv") == 0) {
		struct timespec ts = {0, 300 * 1000 * 1000};
		nanosleep(&ts, NULL);
		segv();
	}
	return atoi(m);
}
