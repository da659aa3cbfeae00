/* mem [ok|segv] [SELF]: brk, mmap, munmap, mprotect on anonymous memory and a
 * private file mapping; with "segv", writes to a page made read-only and
 * must die of SIGSEGV (exit status 139 from the runtime). */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

int main(int argc, char **argv)
{
	/* brk: grow by 1 MiB, touch every page, shrink back. */
	void *b0 = sbrk(0);
	report("sbrk +1MiB", sbrk(1 << 20) == (void *)-1 ? -1 : 0);
	memset(b0, 0x5a, 1 << 20);
	printf("brk moved by: %ld\n", (long)((char *)sbrk(0) - (char *)b0));
	report("sbrk -1MiB", sbrk(-(1 << 20)) == (void *)-1 ? -1 : 0);
	printf("brk back: %s\n", sbrk(0) == b0 ? "yes" : "NO");

	/* Anonymous mapping: zero-filled, writable, then unmapped. */
	size_t len = 16 * 4096;
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	report("mmap anon 64KiB", p == MAP_FAILED ? -1 : 0);
	int zero = 1;
	for (size_t i = 0; i < len; i++)
		zero &= p[i] == 0;
	printf("zero filled: %s\n", zero ? "yes" : "NO");
	memset(p, 7, len);
	printf("page aligned: %s\n", ((uintptr_t)p & 4095) == 0 ? "yes" : "NO");
	report("munmap middle page", munmap(p + 4096, 4096));
	report("mprotect read-only", mprotect(p, 4096, PROT_READ));
	printf("still readable: %d\n", p[0]);
	report("mprotect RW again", mprotect(p, 4096, PROT_READ | PROT_WRITE));
	p[0] = 9;
	printf("written: %d\n", p[0]);
	report("munmap rest", munmap(p, len));
	report("munmap unaligned", munmap(p + 1, 4096));
	report("mmap len 0", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0);
	report("mprotect unaligned", mprotect((char *)b0 + 1, 4096, PROT_READ));

	/* MAP_FIXED over a hint we own. */
	unsigned char *q = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	q[0] = 1;
	unsigned char *r = mmap(q, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	printf("MAP_FIXED same address, zeroed: %s\n", r == q && q[0] == 0 ? "yes" : "NO");
	munmap(q, 8192);

	/* A private file mapping of the program itself (argv[2], its path:
	 * the sandbox need not have /proc): starts with ELF magic. */
	int fd = open(argc > 2 ? argv[2] : "/proc/self/exe", O_RDONLY);
	report("open self", fd);
	if (fd >= 0) {
		unsigned char *f = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
		printf("file mapping ELF magic: %s\n", f != MAP_FAILED && memcmp(f, "\177ELF", 4) == 0 ? "yes" : "NO");
		close(fd);
	}

	/* Huge anonymous reservation that is never touched. */
	void *h = mmap(NULL, 1UL << 32, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	report("mmap 4GiB PROT_NONE", h == MAP_FAILED ? -1 : 0);
	if (h != MAP_FAILED)
		munmap(h, 1UL << 32);

	if (argc > 1 && strcmp(argv[1], "segv") == 0) {
		printf("about to write a read-only page\n");
		fflush(stdout);
		unsigned char *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		mprotect(s, 4096, PROT_READ);
		*(volatile unsigned char *)s = 1;
		printf("write succeeded: NO\n");
	}
	return 0;
}
