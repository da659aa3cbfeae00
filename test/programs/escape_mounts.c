/* escape_mounts MARKER: tries to reach the host file MARKER (an absolute
 * host path) from inside a container whose mounts are laid out by
 * test/debian/escape_test.go:
 *   /mnt        bind of a host directory D (rw)
 *   /mnt/b      bind of a host directory O/bound whose parent O holds
 *               MARKER as O/marker2; /mnt/b holds "uplink" -> ../marker2,
 *               "abslink" -> MARKER, and a file "inner"
 *   /mnt/f      bind of a single host file O/filemount
 *   /proc       proc
 * Every attempt prints one line: what it tried and the outcome (an errno
 * name, "ok", or "VISIBLE" when the marker's contents were read). Lines
 * must be identical under chroot and in moat, and none may say VISIBLE.
 * Run natively with the marker's host path, "absolute path" says VISIBLE:
 * that proves the program can see an escape. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "common.h"

static int visible;

/* report prints how an open attempt ended, reading the file when it
 * opened to tell the marker from another file of the same name. */
static void show_open(const char *how, int fd)
{
	if (fd < 0) {
		printf("%s: %s\n", how, errname(errno));
		return;
	}
	char buf[64] = {0};
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n > 0 && strncmp(buf, "host secret", 11) == 0) {
		printf("%s: VISIBLE\n", how);
		visible = 1;
		return;
	}
	printf("%s: ok (not the marker)\n", how);
}

static void try_open(const char *how, const char *path)
{
	show_open(how, open(path, O_RDONLY));
}

static void try_openat(const char *how, int dfd, const char *path)
{
	show_open(how, openat(dfd, path, O_RDONLY));
}

static void try_openat2(const char *how, int dfd, const char *path, unsigned long long resolve)
{
	struct open_how h = {.flags = O_RDONLY, .resolve = resolve};
	show_open(how, (int)syscall(SYS_openat2, dfd, path, &h, sizeof h));
}

static void try_link(const char *how, int ofd, const char *old, int nfd, const char *new, int flags)
{
	int r = linkat(ofd, old, nfd, new, flags);
	printf("%s: %s\n", how, r == 0 ? "ok" : errname(errno));
}

int main(int argc, char **argv)
{
	if (argc < 2 || argv[1][0] != '/') {
		fprintf(stderr, "usage: escape_mounts /abs/host/marker\n");
		return 2;
	}
	const char *m = argv[1];
	char p[PATH_MAX * 2];

	try_open("absolute path", m);
	try_open("/mnt/b/.. then marker2", "/mnt/b/../marker2");
	try_open("/mnt/b/../../.. then marker2", "/mnt/b/../../../marker2");
	try_open("symlink uplink", "/mnt/b/uplink");
	try_open("symlink abslink", "/mnt/b/abslink");
	snprintf(p, sizeof p, "/mnt/b/../..%s", m);
	try_open("/mnt/b/../.. + host path", p);

	/* chdir into the bind mount and climb. */
	if (chdir("/mnt/b") == 0) {
		try_open("cwd /mnt/b, ../marker2", "../marker2");
		for (int i = 0; i < 16; i++)
			if (chdir("..") != 0)
				break;
		char cwd[PATH_MAX];
		printf("cwd after 16 chdir(..) from /mnt/b: %s\n", getcwd(cwd, sizeof cwd) ? cwd : errname(errno));
		if (chdir("/") != 0)
			return 2;
	}

	/* Directory fds on the bind mount, plain and O_PATH. */
	int dfd = open("/mnt/b", O_RDONLY | O_DIRECTORY);
	try_openat("openat(/mnt/b fd, ../marker2)", dfd, "../marker2");
	try_openat2("openat2(/mnt/b fd, ../marker2, 0)", dfd, "../marker2", 0);
	try_openat2("openat2(/mnt/b fd, ../marker2, BENEATH)", dfd, "../marker2", RESOLVE_BENEATH);
	try_openat2("openat2(/mnt/b fd, uplink, IN_ROOT)", dfd, "uplink", RESOLVE_IN_ROOT);
	try_openat2("openat2(/mnt/b fd, abslink, NO_SYMLINKS)", dfd, "abslink", RESOLVE_NO_SYMLINKS);
	try_openat2("openat2(/mnt/b fd, inner, NO_XDEV)", dfd, "inner", RESOLVE_NO_XDEV);
	try_openat2("openat2(/mnt fd, b/inner, NO_XDEV)", AT_FDCWD, "/mnt/b/inner", RESOLVE_NO_XDEV);
	int pfd = open("/mnt/b", O_PATH | O_DIRECTORY);
	try_openat("openat(O_PATH /mnt/b, ../marker2)", pfd, "../marker2");
	snprintf(p, sizeof p, "/proc/self/fd/%d/../marker2", pfd);
	try_open("/proc/self/fd/O_PATH-dir/../marker2", p);
	snprintf(p, sizeof p, "/proc/self/fd/%d/uplink", pfd);
	try_open("/proc/self/fd/O_PATH-dir/uplink", p);
	int lfd = open("/mnt/b/uplink", O_PATH | O_NOFOLLOW);
	snprintf(p, sizeof p, "/proc/self/fd/%d", lfd);
	try_open("/proc/self/fd/O_PATH-symlink", p);
	char target[PATH_MAX] = {0};
	ssize_t n = readlinkat(lfd, "", target, sizeof target - 1);
	printf("readlinkat(O_PATH symlink, \"\"): %s\n", n >= 0 ? target : errname(errno));

	/* The kernel's magic links. */
	n = readlink("/proc/self/root", target, sizeof target - 1);
	target[n > 0 ? n : 0] = 0;
	printf("readlink /proc/self/root: %s\n", n >= 0 ? target : errname(errno));
	snprintf(p, sizeof p, "/proc/self/root%s", m);
	try_open("/proc/self/root + host path", p);
	try_open("/proc/self/root/mnt/b/../marker2", "/proc/self/root/mnt/b/../marker2");
	try_open("/proc/1/root/mnt/b/uplink", "/proc/1/root/mnt/b/uplink");
	if (chdir("/mnt/b") == 0) {
		try_open("/proc/self/cwd/../marker2", "/proc/self/cwd/../marker2");
		snprintf(p, sizeof p, "/proc/self/cwd/../../../..%s", m);
		try_open("/proc/self/cwd/../../../.. + host path", p);
		if (chdir("/") != 0)
			return 2;
	}

	/* Hard links: across the bind-mount edge, through the symlinks that
	 * point out of it, and through O_PATH fds and their /proc links. */
	try_link("link /mnt/f -> /mnt/b/hl-f", AT_FDCWD, "/mnt/f", AT_FDCWD, "/mnt/b/hl-f", 0);
	try_link("link /mnt/b/inner -> /mnt/hl-inner", AT_FDCWD, "/mnt/b/inner", AT_FDCWD, "/mnt/hl-inner", 0);
	try_link("link uplink (nofollow) -> /mnt/b/hl-up", AT_FDCWD, "/mnt/b/uplink", AT_FDCWD, "/mnt/b/hl-up", 0);
	try_link("link uplink FOLLOW -> /mnt/b/hl-upf", AT_FDCWD, "/mnt/b/uplink", AT_FDCWD, "/mnt/b/hl-upf", AT_SYMLINK_FOLLOW);
	try_link("link abslink FOLLOW -> /mnt/b/hl-abs", AT_FDCWD, "/mnt/b/abslink", AT_FDCWD, "/mnt/b/hl-abs", AT_SYMLINK_FOLLOW);
	try_link("link ../marker2 via dirfd -> /mnt/b/hl-dd", dfd, "../marker2", AT_FDCWD, "/mnt/b/hl-dd", 0);
	int ffd = open("/mnt/f", O_PATH);
	try_link("linkat(O_PATH /mnt/f, \"\", EMPTY_PATH) -> /mnt/b/hl-e", ffd, "", AT_FDCWD, "/mnt/b/hl-e", AT_EMPTY_PATH);
	snprintf(p, sizeof p, "/proc/self/fd/%d", ffd);
	try_link("link /proc/self/fd/O_PATH-f FOLLOW -> /mnt/b/hl-p", AT_FDCWD, p, AT_FDCWD, "/mnt/b/hl-p", AT_SYMLINK_FOLLOW);
	int ifd = open("/mnt/b/inner", O_PATH);
	snprintf(p, sizeof p, "/proc/self/fd/%d", ifd);
	try_link("link /proc/self/fd/O_PATH-inner FOLLOW -> /mnt/hl-pi", AT_FDCWD, p, AT_FDCWD, "/mnt/hl-pi", AT_SYMLINK_FOLLOW);
	try_link("linkat(O_PATH inner, \"\", EMPTY_PATH) -> /mnt/b/hl-ie", ifd, "", AT_FDCWD, "/mnt/b/hl-ie", AT_EMPTY_PATH);
	int r = rename("/mnt/b/inner", "/mnt/moved-inner");
	printf("rename /mnt/b/inner -> /mnt/moved-inner: %s\n", r == 0 ? "ok" : errname(errno));

	printf("verdict: %s\n", visible ? "ESCAPED" : "contained");
	return 0;
}
