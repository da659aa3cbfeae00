/* ticker [N]: prints "tick I" every 20 ms, N times (default 3000: about a
 * minute), flushing each line; the exec test watches its output stop
 * while the container is paused and go on once it is resumed. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3000;
	for (int i = 1; i <= n; i++) {
		printf("tick %d\n", i);
		fflush(stdout);
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return 0;
}
