/* dirlist ROOT: lists ROOT/data and ROOT/data/sub with getdents64 in small
 * batches (so the listing needs several calls), sorted, with d_type. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		printf("open %s: %s\n", dir, errname(errno));
		return;
	}
	char *names[256];
	int n = 0, calls = 0;
	char buf[128]; /* small on purpose: forces several getdents64 calls */
	for (;;) {
		long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
		if (got < 0) {
			printf("getdents64 %s: %s\n", dir, errname(errno));
			break;
		}
		if (got == 0)
			break;
		calls++;
		for (long off = 0; off < got;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			char t = d->d_type == DT_DIR ? 'd' : d->d_type == DT_REG ? 'f' : d->d_type == DT_LNK ? 'l' : '?';
			if (n < 256) {
				names[n] = malloc(strlen(d->d_name) + 3);
				sprintf(names[n], "%s %c", d->d_name, t);
				n++;
			}
			off += d->d_reclen;
		}
	}
	close(fd);
	qsort(names, n, sizeof names[0], cmp);
	printf("%s: %d entries, %s\n", dir, n, calls > 1 ? "several calls" : "one call");
	for (int i = 0; i < n; i++) {
		printf("  %s\n", names[i]);
		free(names[i]);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2 || chdir(argv[1]) != 0) {
		perror("chdir");
		return 1;
	}
	list("data");
	list("data/sub");
	list("data/emptydir");
	list("data/hello.txt");
	int fd = open("data/hello.txt", O_RDONLY);
	char buf[256];
	report("getdents64 on a file", syscall(SYS_getdents64, fd, buf, sizeof buf));
	report("getdents64 on a bad fd", syscall(SYS_getdents64, 99, buf, sizeof buf));
	return 0;
}
