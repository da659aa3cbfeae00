/* hello: the smallest program that must run; with an argument it exits
 * the way the argument says (see exitcode.c for the full set). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	printf("hello from a static program\n");
	/* write(2) directly, too: stdio buffering must not hide a broken fd 1. */
	if (write(1, "direct write\n", 13) != 13)
		return 1;
	fprintf(stderr, "to stderr\n");
	return argc > 1 ? atoi(argv[1]) : 0;
}
