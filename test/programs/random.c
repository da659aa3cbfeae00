/* random: getrandom in its usual forms, printing lengths and verdicts. */
#include <stdio.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

int main(void)
{
	unsigned char a[64] = {0}, b[64] = {0};
	printf("getrandom 64: %zd\n", getrandom(a, sizeof a, 0));
	printf("getrandom 64 NONBLOCK: %zd\n", getrandom(b, sizeof b, GRND_NONBLOCK));
	int same = 1, zero = 1;
	for (int i = 0; i < 64; i++) {
		same &= a[i] == b[i];
		zero &= a[i] == 0;
	}
	printf("two draws differ: %s\n", same ? "NO" : "yes");
	printf("not all zero: %s\n", zero ? "NO" : "yes");
	printf("getrandom 0: %zd\n", getrandom(a, 0, 0));
	report("getrandom bad flags", getrandom(a, 8, 0x4000));
	report("getrandom bad buffer", syscall(SYS_getrandom, (void *)8, 8, 0));
	return 0;
}
