/* identity: prints the process's ids, groups and umask, and what it may
 * do to root-owned files: read data/hello.txt (0644), read
 * data/sub/inner.txt (0600), write etc/file (0644). The e2e test runs it
 * in a bundle whose process.user is not root. */
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static void try_open(const char *path, int flags)
{
	int fd = open(path, flags);
	printf("open %s %s: %s\n", path, (flags & O_ACCMODE) == O_RDONLY ? "r" : "w",
	       fd < 0 ? errname(errno) : "OK");
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	uid_t r, e, s;
	gid_t gr, ge, gs, groups[16];
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	printf("uid=%d,%d,%d gid=%d,%d,%d\n", r, e, s, gr, ge, gs);
	int n = getgroups(16, groups);
	printf("groups=");
	for (int i = 0; i < n; i++)
		printf("%s%d", i ? "," : "", groups[i]);
	printf("\n");
	mode_t old = umask(0);
	printf("umask=%03o\n", old);
	try_open("/data/hello.txt", O_RDONLY);
	try_open("/data/sub/inner.txt", O_RDONLY);
	try_open("/etc/file", O_WRONLY);
	printf("setuid(0): %s\n", setuid(0) == 0 ? "OK" : errname(errno));
	printf("sethostname: %s\n", sethostname("x", 1) == 0 ? "OK" : errname(errno));
	return 0;
}
