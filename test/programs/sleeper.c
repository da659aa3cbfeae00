/* sleeper SECONDS: prints "sleeping", then sleeps (nanosleep) at most
 * SECONDS; the life-cycle tests kill it long before. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 60;
	printf("sleeping\n");
	fflush(stdout);
	for (int i = 0; i < n * 10; i++) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	printf("woke up\n");
	return 0;
}
