/* fileread ROOT: chdir(ROOT), then reads the files the test put under
 * ROOT/data through open/read/pread/lseek/fstat/stat/lstat/readlink/
 * access, including the error cases, and prints what it saw. Paths are
 * relative to ROOT so the output is the same natively and in a bundle. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static void try_open(const char *path, int flags)
{
	int fd = open(path, flags);
	printf("open %s: %s\n", path, fd < 0 ? errname(errno) : "OK");
	if (fd >= 0)
		close(fd);
}

static void print_stat(const char *what, const struct stat *st)
{
	const char *type = S_ISREG(st->st_mode)   ? "reg"
			   : S_ISDIR(st->st_mode) ? "dir"
			   : S_ISLNK(st->st_mode) ? "lnk"
						  : "other";
	printf("%s: type=%s mode=%o size=%lld\n", what, type,
	       (unsigned)(st->st_mode & 07777),
	       S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_size);
}

int main(int argc, char **argv)
{
	if (argc < 2 || chdir(argv[1]) != 0) {
		perror("chdir");
		return 1;
	}

	char buf[256];
	int fd = open("data/hello.txt", O_RDONLY);
	if (fd < 0) {
		printf("open data/hello.txt: %s\n", errname(errno));
		return 1;
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("read %zd: %s", n, buf);
	printf("read at EOF: %zd\n", read(fd, buf, sizeof buf));
	n = pread(fd, buf, 5, 6);
	buf[n > 0 ? n : 0] = 0;
	printf("pread 5@6: %zd %s\n", n, buf);
	printf("lseek END: %lld\n", (long long)lseek(fd, 0, SEEK_END));
	printf("lseek SET 3: %lld\n", (long long)lseek(fd, 3, SEEK_SET));
	n = read(fd, buf, 4);
	buf[n > 0 ? n : 0] = 0;
	printf("read after lseek: %zd %s\n", n, buf);
	printf("lseek CUR -2: %lld\n", (long long)lseek(fd, -2, SEEK_CUR));
	errno = 0;
	report("lseek to -1", lseek(fd, -1, SEEK_SET));
	struct stat st;
	if (fstat(fd, &st) == 0)
		print_stat("fstat data/hello.txt", &st);
	int fd2 = dup(fd);
	printf("dup shares offset: %lld\n", (long long)lseek(fd2, 0, SEEK_CUR));
	close(fd2);
	close(fd);
	report("read closed fd", read(fd, buf, 1));

	/* A file bigger than any single transfer buffer, checked by sum. */
	fd = open("data/big.bin", O_RDONLY);
	if (fd >= 0) {
		static unsigned char big[1 << 20];
		long long total = 0;
		unsigned long sum = 0;
		while ((n = read(fd, big, 70000)) > 0) {
			for (ssize_t i = 0; i < n; i++)
				sum = sum * 31 + big[i];
			total += n;
		}
		printf("big.bin: %lld bytes, sum %lu\n", total, sum);
		close(fd);
	} else {
		printf("open data/big.bin: %s\n", errname(errno));
	}

	if (stat("data/sub", &st) == 0)
		print_stat("stat data/sub", &st);
	if (stat("data/link", &st) == 0)
		print_stat("stat data/link", &st);
	if (lstat("data/link", &st) == 0)
		print_stat("lstat data/link", &st);
	n = readlink("data/link", buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("readlink data/link: %zd %s\n", n, n > 0 ? buf : errname(errno));
	n = readlink("data/hello.txt", buf, sizeof buf);
	printf("readlink data/hello.txt: %s\n", n < 0 ? errname(errno) : "OK");
	fd = open("data/link", O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("read via link: %s", n > 0 ? buf : "failed\n");
	if (fd >= 0)
		close(fd);
	report("access data/hello.txt R_OK", access("data/hello.txt", R_OK));
	report("access data/missing F_OK", access("data/missing", F_OK));
	report("stat data/missing", stat("data/missing", &st));

	try_open("data/missing", O_RDONLY);
	try_open("data/hello.txt/x", O_RDONLY);
	try_open("data/hello.txt", O_RDONLY | O_DIRECTORY);
	try_open("data/sub", O_RDONLY | O_DIRECTORY);
	try_open("data/link", O_RDONLY | O_NOFOLLOW);
	try_open("data/sub/../hello.txt", O_RDONLY);
	try_open("./data/./sub/.././hello.txt", O_RDONLY);

	fd = open("data/sub", O_RDONLY);
	report("read a directory", fd < 0 ? -1 : read(fd, buf, sizeof buf));
	if (fd >= 0)
		close(fd);

	fd = open("data/sub", O_RDONLY | O_DIRECTORY);
	int fd3 = fd < 0 ? -1 : openat(fd, "inner.txt", O_RDONLY);
	n = fd3 < 0 ? -1 : read(fd3, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("openat sub/inner.txt: %s", n > 0 ? buf : "failed\n");
	if (fd3 >= 0)
		close(fd3);
	if (fd >= 0)
		close(fd);
	return 0;
}
