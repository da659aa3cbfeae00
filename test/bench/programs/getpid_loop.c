/* getpid_loop N: N getpid system calls (the raw call: glibc does not cache
 * it, but syscall(2) makes sure), the cost of one trap round trip. */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	for (long i = 0; i < n; i++)
		syscall(SYS_getpid);
	return 0;
}
