/* boot.c runs inside a moat sandbox in syscalls' boot test: it prints
 * what it sees and exits with a code the test checks. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
	struct utsname u;
	struct rlimit rl;
	struct timespec ts = {0, 1000000};
	char *p;
	long r;

	printf("argv1=%s\n", argc > 1 ? argv[1] : "");
	printf("pid=%d ppid=%d\n", getpid(), getppid());
	if (uname(&u) == 0)
		printf("uname=%s %s %s\n", u.sysname, u.release, u.machine);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		printf("nofile=%llu/%llu\n", (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
	p = malloc(1 << 20);
	memset(p, 'x', 1 << 20);
	printf("malloc=%s\n", p[12345] == 'x' ? "ok" : "bad");
	printf("nanosleep=%d\n", nanosleep(&ts, NULL));
	r = syscall(SYS_mount, "a", "b", "c", 0, 0);
	printf("mount=%ld errno=%d\n", r, errno);
	r = syscall(1000);
	printf("unknown=%ld errno=%d\n", r, errno);
	printf("sigaction_kill=%d\n", sigaction(SIGKILL, &(struct sigaction){0}, NULL));
	fflush(stdout);
	return 42;
}
