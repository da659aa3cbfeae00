/* hello_dyn is built without -static: it runs through ld.so and the
 * host's libc, which maps itself with mmap, mprotect and friends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv)
{
	char *p = malloc(1 << 20); /* big enough for its own mmap */
	memset(p, 1, 1 << 20);
	p = realloc(p, 4 << 20); /* glibc grows it with mremap */
	printf("hello from %s, argc=%d, p[0]=%d, HOME=%s\n", argc > 1 ? argv[1] : "?", argc, p[0], getenv("HOME"));
	free(p);
	return 7;
}
