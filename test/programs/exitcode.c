/* exitcode MODE: ends the way MODE says, so the caller can check the exit
 * status moat reports: a number N → exit(N); "kill" → SIGKILL (137);
 * "abort" → SIGABRT (134); "segv" → write to a read-only page (139);
 * "sleep-segv" → the same after 300 ms, so a test can watch it run. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

int main(int argc, char **argv)
{
	if (argc < 2)
		return 0;
	const char *m = argv[1];
	printf("mode %s\n", m);
	fflush(stdout);
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
