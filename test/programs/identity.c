/* identity: prints the process's ids, groups and umask, what it may do
 * to root-owned files (read data/hello.txt 0644, read data/sub/inner.txt
 * 0600, write etc/file 0644), whether it may become root or rename the
 * host, and the host name. The e2e test runs it as a user and as root. */
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
	printf("sethostname: %s\n", sethostname("renamed", 7) == 0 ? "OK" : errname(errno));
	char host[65] = "";
	gethostname(host, sizeof host);
	printf("hostname=%s\n", host);
	return 0;
}
