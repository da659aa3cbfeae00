/* timeprog: clocks and sleeps, printing verdicts only (times differ). */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#include "common.h"

static long long ns(clockid_t c)
{
	struct timespec ts;
	if (clock_gettime(c, &ts) != 0)
		return -1;
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(void)
{
	long long prev = ns(CLOCK_MONOTONIC), bad = 0;
	for (int i = 0; i < 1000; i++) {
		long long now = ns(CLOCK_MONOTONIC);
		if (now < prev)
			bad++;
		prev = now;
	}
	printf("monotonic never goes back: %s\n", bad == 0 && prev > 0 ? "yes" : "NO");

	long long t0 = ns(CLOCK_MONOTONIC);
	struct timespec req = {0, 20 * 1000 * 1000};
	report("nanosleep 20ms", nanosleep(&req, NULL));
	long long slept = ns(CLOCK_MONOTONIC) - t0;
	printf("slept at least 20ms: %s\n", slept >= 20000000 ? "yes" : "NO");
	printf("slept less than 2s: %s\n", slept < 2000000000LL ? "yes" : "NO");

	t0 = ns(CLOCK_MONOTONIC);
	report("clock_nanosleep 10ms", -clock_nanosleep(CLOCK_MONOTONIC, 0, &(struct timespec){0, 10000000}, NULL));
	printf("clock_nanosleep slept: %s\n", ns(CLOCK_MONOTONIC) - t0 >= 10000000 ? "yes" : "NO");

	struct timeval tv;
	report("gettimeofday", gettimeofday(&tv, NULL));
	long long rt = ns(CLOCK_REALTIME) / 1000000000LL;
	printf("realtime agrees with gettimeofday: %s\n", rt - tv.tv_sec <= 2 && rt >= tv.tv_sec ? "yes" : "NO");
	printf("realtime after 2020: %s\n", rt > 1577836800LL ? "yes" : "NO");
	req.tv_nsec = 2000000000L; /* invalid */
	report("nanosleep invalid", nanosleep(&req, NULL));
	report("clock_gettime bad clock", clock_gettime((clockid_t)1234, &req));
	return 0;
}
