/* escape MARKER: tries every way out of the root file system the test
 * could think of and reports, for each, whether the host file MARKER
 * (an absolute host path outside the bundle's rootfs) became visible.
 * Run natively (no chroot) it must see MARKER — that proves the program
 * can detect an escape; in a sandbox every line must say "hidden".
 *
 * The rootfs holds data/toroot -> "/", data/updotdot -> "/../..",
 * data/relup -> "../../../../../../../.." for the symlink attempts. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static int visible;

static void try(const char *how, const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd >= 0) {
		printf("%s: VISIBLE\n", how);
		visible = 1;
		close(fd);
		return;
	}
	printf("%s: hidden\n", how);
}

int main(int argc, char **argv)
{
	if (argc < 2 || argv[1][0] != '/') {
		fprintf(stderr, "usage: escape /abs/marker\n");
		return 2;
	}
	const char *m = argv[1];
	char p[PATH_MAX * 2];

	if (chdir("/") != 0)
		return 2;
	try("absolute path", m);
	snprintf(p, sizeof p, "../../../../../../../../..%s", m);
	try("dot-dot chain", p);
	snprintf(p, sizeof p, "/../../../../../../../../..%s", m);
	try("absolute dot-dot chain", p);

	/* chdir("..") far more times than any path is deep. */
	for (int i = 0; i < 64; i++)
		if (chdir("..") != 0)
			break;
	char cwd[PATH_MAX];
	printf("cwd after 64 chdir(..): %s\n", getcwd(cwd, sizeof cwd) ? (strcmp(cwd, "/") == 0 ? "/" : "not /") : errname(errno));
	try("relative after chdir(..) loop", m + 1);

	/* ".." of the root directory is the root itself. */
	struct stat a, b;
	if (stat("/", &a) == 0 && stat("/..", &b) == 0)
		printf("/.. is /: %s\n", a.st_ino == b.st_ino && a.st_dev == b.st_dev ? "yes" : "NO");
	int dfd = open("/", O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		snprintf(p, sizeof p, "../../..%s", m);
		int fd = openat(dfd, p, O_RDONLY);
		printf("openat(/, ../../..MARKER): %s\n", fd >= 0 ? "VISIBLE" : "hidden");
		if (fd >= 0)
			visible = 1, close(fd);
		close(dfd);
	}

	/* Symlinks planted in the rootfs that point at / and above it. */
	const char *links[] = {"/data/toroot", "/data/updotdot", "/data/relup"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", links[i], m);
		char how[64];
		snprintf(how, sizeof how, "symlink %s", links[i]);
		try(how, p);
		snprintf(p, sizeof p, "%s/..%s", links[i], m);
		snprintf(how, sizeof how, "symlink %s/..", links[i]);
		try(how, p);
	}
	if (chdir("/data/relup") == 0) {
		try("chdir through relup, relative", m + 1);
		if (chdir("/") != 0)
			return 2;
	}

	/* The kernel's magic links must not lead to the host root either. */
	snprintf(p, sizeof p, "/proc/self/root%s", m);
	try("/proc/self/root", p);
	snprintf(p, sizeof p, "/proc/1/root%s", m);
	try("/proc/1/root", p);
	snprintf(p, sizeof p, "/proc/self/cwd/../../..%s", m);
	try("/proc/self/cwd/..", p);

	printf("verdict: %s\n", visible ? "ESCAPED" : "contained");
	return 0;
}
