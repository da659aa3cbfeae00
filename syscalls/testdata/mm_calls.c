/* mm_calls exercises mremap, madvise, msync, mincore, mlock and file
 * mappings, printing results that must match between Linux and moat.
 * argv[1] is a readable file of at least 3 pages whose page i is filled
 * with the byte 'a'+i. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define P 4096
#define CHECK(what, expr)                                                         \
	do {                                                                      \
		long r_ = (long)(expr);                                           \
		printf("%s = %s\n", what, r_ == -1 ? strerror(errno) : "ok"); \
	} while (0)

static int all(const char *p, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != c)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	/* hole is far below where mmap puts anything (32 TiB), unmapped. */
	char *hole = (char *)0x200000000000UL;
	/* mremap: grow in place, move with data, shrink, fixed. */
	char *a = mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(a, 'x', 2 * P);
	munmap(a + 2 * P, 16 * P); /* make room above, whatever is there */
	char *g = mremap(a, 2 * P, 4 * P, 0);
	printf("grow in place: %s %d %d\n", g == a ? "same" : "moved", all(g, 2 * P, 'x'), all(g + 2 * P, 2 * P, 0));
	char *block = mmap(g + 4 * P, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	(void)block;
	errno = 0;
	CHECK("grow blocked", mremap(g, 4 * P, 8 * P, 0) == MAP_FAILED ? -1 : 0);
	char *m = mremap(g, 4 * P, 64 * P, MREMAP_MAYMOVE);
	printf("move: %s %d %d\n", m != g ? "moved" : "same", all(m, 2 * P, 'x'), all(m + 2 * P, 62 * P, 0));
	CHECK("old range gone", mincore(g, P, (unsigned char[1]){0}));
	char *s = mremap(m, 64 * P, P + 1, 0);
	printf("shrink: %s %d\n", s == m ? "same" : "moved", all(s, 2 * P, 'x'));
	CHECK("shrunk tail gone", mincore(m + 2 * P, P, (unsigned char[1]){0}));
	char *dst = mmap(0, 4 * P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *f = mremap(s, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, dst + P);
	printf("fixed: %d %d\n", f == dst + P, all(f, 2 * P, 'x'));
	CHECK("mremap unmapped", mremap(hole, P, P, 0) == MAP_FAILED ? -1 : 0);
	CHECK("mremap bad flags", mremap(f, P, P, 8) == MAP_FAILED ? -1 : 0);

	/* madvise */
	char *d = mmap(0, 3 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(d, 'y', 3 * P);
	CHECK("madvise dontneed", madvise(d + P, P, MADV_DONTNEED));
	printf("after dontneed: %d %d %d\n", all(d, P, 'y'), all(d + P, P, 0), all(d + 2 * P, P, 'y'));
	CHECK("madvise willneed", madvise(d, 3 * P, MADV_WILLNEED));
	CHECK("madvise free", madvise(d, 3 * P, MADV_FREE));
	CHECK("madvise dontfork", madvise(d, 3 * P, MADV_DONTFORK));
	CHECK("madvise unknown", madvise(d, 3 * P, 77));
	CHECK("madvise unaligned", madvise(d + 1, P, MADV_NORMAL));
	CHECK("madvise hole", madvise(hole, P, MADV_NORMAL));

	/* file mappings: private write is private; dontneed re-reads */
	int fd = open(argv[1], O_RDONLY);
	char *fm = mmap(0, 3 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	printf("file pages: %c %c %c\n", fm[0], fm[P], fm[2 * P]);
	fm[P] = 'Z';
	char *fo = mmap(0, P, PROT_READ, MAP_PRIVATE, fd, P);
	printf("private write stays private: %c %c\n", fm[P], fo[0]);
	CHECK("madvise dontneed file", madvise(fm + P, P, MADV_DONTNEED));
	printf("after dontneed: %c\n", fm[P]);
	fm[0] = 'Q';
	char *fmv = mremap(fm, 3 * P, 40 * P, MREMAP_MAYMOVE);
	printf("moved file mapping: %c %c %c\n", fmv[0], fmv[P], fmv[2 * P]);
	char *sh1 = mmap(0, 2 * P, PROT_READ, MAP_SHARED, fd, 0);
	char *sh2 = mmap(0, P, PROT_READ, MAP_SHARED, fd, P);
	printf("shared read: %c %c\n", sh1[P], sh2[0]);
	CHECK("shared writable on O_RDONLY", mmap(0, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0);
	CHECK("unaligned offset", mmap(0, P, PROT_READ, MAP_PRIVATE, fd, 1) == MAP_FAILED ? -1 : 0);
	CHECK("bad fd", mmap(0, P, PROT_READ, MAP_PRIVATE, 99, 0) == MAP_FAILED ? -1 : 0);
	CHECK("unknown prot bit", mmap(0, P, PROT_READ | 0x1000, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0);

	/* msync, mincore, mlock */
	CHECK("msync sync", msync(sh1, 2 * P, MS_SYNC));
	CHECK("msync both", msync(sh1, P, MS_SYNC | MS_ASYNC));
	CHECK("msync unmapped", msync(hole, P, MS_ASYNC));
	unsigned char vec[3];
	memset(vec, 9, sizeof vec);
	CHECK("mincore", mincore(d, 3 * P - 5, vec));
	printf("vec: %d %d %d\n", vec[0] & 1, vec[1] & 1, vec[2] & 1);
	CHECK("mincore unaligned", mincore(d + 1, P, vec));
	CHECK("mlock", mlock(d + 7, P));
	CHECK("munlock", munlock(d, 3 * P));
	CHECK("mlock unmapped", mlock(hole, P));
	CHECK("mlockall bad", mlockall(0));
	CHECK("munlockall", munlockall());
	return 0;
}
