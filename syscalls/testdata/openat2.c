/* openat2.c: openat2(2), its struct open_how rules and every RESOLVE_*
 * flag, success and error cases, run natively (chroot) and in moat on
 * the same fresh tree (built by sys_openat2_diff_test.go):
 *   /top, /openat2       files
 *   /d/f, /d/sub/g       files; /d/rel -> f, /d/up -> ../d/f,
 *                        /d/abs -> /d/f, /d/out -> ../../..,
 *                        /d/loop1 <-> /d/loop2, /d/dangling -> nope,
 *                        /d/tomnt -> ../ro/f, /d/rootlink -> /
 *   /w                   writable, empty but for /w/dl -> /made
 *   /ro                  a read-only mount: f, d/, back -> ../d/f,
 *                        abs -> /top
 *   /proc                proc
 * and a file "outside" next to the root that must stay unreachable. */
#include "difftest.h"
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef RESOLVE_CACHED
#define RESOLVE_CACHED 0x20
#endif

static long openat2_(int dfd, const char *path, void *how, size_t size) {
	return syscall(SYS_openat2, dfd, path, how, size);
}

/* known files, to say which one an fd opened */
static struct known {
	const char *name;
	int follow;
	dev_t dev;
	ino_t ino;
	int ok;
} known[] = {
	{"/", 1},      {"/top", 1},    {"/d", 1},        {"/d/f", 1},      {"/d/sub", 1},
	{"/d/sub/g", 1}, {"/w", 1},    {"/ro", 1},       {"/ro/f", 1},     {"/ro/d", 1},
	{"/openat2", 1}, {"/d/rel", 0}, {"/d/dangling", 0}, {"/w/made", 1}, {"/w/new1", 1},
};

static void learn(void) {
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		struct stat s;
		int r = known[i].follow ? stat(known[i].name, &s) : lstat(known[i].name, &s);
		known[i].ok = r == 0;
		known[i].dev = s.st_dev;
		known[i].ino = s.st_ino;
	}
}

static const char *which(int fd) {
	struct stat s;
	if (fstat(fd, &s) < 0)
		return "fstat failed";
	learn(); /* files made by the calls themselves */
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (known[i].ok && known[i].dev == s.st_dev && known[i].ino == s.st_ino)
			return known[i].name;
	return "(other)";
}

static int escaped;

/* try opens path from dfd with how and prints which file it got. */
static void try(const char *label, int dfd, const char *path, uint64_t flags, uint64_t mode,
		uint64_t resolve) {
	struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};
	long fd = openat2_(dfd, path, &how, sizeof how);
	if (fd < 0) {
		res(label, fd);
		return;
	}
	char buf[32] = {0};
	if (pread(fd, buf, sizeof buf - 1, 0) > 0 && strstr(buf, "host file"))
		escaped = 1;
	out("%s = %s\n", label, which(fd));
	close(fd);
}

static void sizes(void) {
	char big[8192];
	memset(big, 0, sizeof big);
	struct open_how *how = (struct open_how *)big;
	how->flags = O_RDONLY;
	long fd;
	res("size 0", openat2_(AT_FDCWD, "/top", big, 0));
	res("size 23", openat2_(AT_FDCWD, "/top", big, 23));
	fd = openat2_(AT_FDCWD, "/top", big, 24);
	res("size 24 ok", fd >= 0 ? 0 : fd);
	close(fd);
	fd = openat2_(AT_FDCWD, "/top", big, 32);
	res("size 32 zero tail", fd >= 0 ? 0 : fd);
	close(fd);
	fd = openat2_(AT_FDCWD, "/top", big, 4096);
	res("size 4096 zero tail", fd >= 0 ? 0 : fd);
	close(fd);
	res("size 4097", openat2_(AT_FDCWD, "/top", big, 4097));
	big[31] = 1;
	res("size 32 nonzero tail", openat2_(AT_FDCWD, "/top", big, 32));
	res("size 24 nonzero beyond", (fd = openat2_(AT_FDCWD, "/top", big, 24)) >= 0 ? 0 : fd);
	close(fd);
	big[31] = 0;
	big[4095] = 1;
	res("size 4096 nonzero last", openat2_(AT_FDCWD, "/top", big, 4096));
	res("how NULL", openat2_(AT_FDCWD, "/top", NULL, 24));
	res("how bad", openat2_(AT_FDCWD, "/top", (void *)8, 24));
	big[4095] = 0;
	res("path NULL", openat2_(AT_FDCWD, NULL, big, 24));
	res("path empty", openat2_(AT_FDCWD, "", big, 24));
	/* a tail that runs off the end of the mapping */
	char *pg = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(pg + 4096, 4096);
	res("tail bad", openat2_(AT_FDCWD, "/top", pg + 4096 - 24, 100));
	res("tail bad, size 24", (fd = openat2_(AT_FDCWD, "/top", pg + 4096 - 24, 24)) >= 0 ? 0 : fd);
	close(fd);
}

static void flags(void) {
	try("flag 1<<30", AT_FDCWD, "/top", 1u << 30, 0, 0);
	try("flag 1<<32", AT_FDCWD, "/top", 1ull << 32, 0, 0);
	try("flag 3 (accmode)", AT_FDCWD, "/d", 3 | O_DIRECTORY, 0, 0);
	try("mode no creat", AT_FDCWD, "/top", O_RDONLY, 0644, 0);
	try("mode 010644", AT_FDCWD, "/w/m", O_CREAT | O_WRONLY, 010644, 0);
	try("mode 07777", AT_FDCWD, "/w/m7", O_CREAT | O_WRONLY, 07777, 0);
	try("creat|directory", AT_FDCWD, "/w/cd", O_CREAT | O_DIRECTORY, 0644, 0);
	try("path|rdwr", AT_FDCWD, "/top", O_PATH | O_RDWR, 0, 0);
	try("path|largefile", AT_FDCWD, "/top", O_PATH | 0100000, 0, 0);
	try("path|nofollow|directory|cloexec", AT_FDCWD, "/d", O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC, 0, 0);
	try("tmpfile rdonly", AT_FDCWD, "/w", O_TMPFILE | O_RDONLY, 0600, 0);
	try("__O_TMPFILE alone", AT_FDCWD, "/w", (O_TMPFILE & ~O_DIRECTORY) | O_RDWR, 0600, 0);
	try("resolve 0x40", AT_FDCWD, "/top", O_RDONLY, 0, 0x40);
	try("resolve 1<<63", AT_FDCWD, "/top", O_RDONLY, 0, 1ull << 63);
	try("beneath|in_root", AT_FDCWD, "/top", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT);
	try("einval before eagain", AT_FDCWD, "/top", O_CREAT, 010000, RESOLVE_CACHED);

	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC};
	long fd = openat2_(AT_FDCWD, "/top", &how, sizeof how);
	out("getfl %o getfd %d\n", fcntl(fd, F_GETFL), fcntl(fd, F_GETFD));
	close(fd);
	how.flags = O_WRONLY | O_CREAT | O_EXCL;
	how.mode = 0640;
	fd = openat2_(AT_FDCWD, "/w/created", &how, sizeof how);
	struct stat s;
	stat("/w/created", &s);
	out("created getfl %o mode %o\n", fcntl(fd, F_GETFL), s.st_mode);
	close(fd);
}

static void nosymlinks(int d) {
	uint64_t r = RESOLVE_NO_SYMLINKS;
	try("nosym f", d, "f", O_RDONLY, 0, r);
	try("nosym rel", d, "rel", O_RDONLY, 0, r);
	try("nosym rel nofollow", d, "rel", O_RDONLY | O_NOFOLLOW, 0, r);
	try("nosym rel path|nofollow", d, "rel", O_PATH | O_NOFOLLOW, 0, r);
	try("nosym rootlink/top", d, "rootlink/top", O_RDONLY, 0, r);
	try("nosym dangling creat", d, "dangling", O_CREAT | O_WRONLY, 0644, r);
	try("nosym /proc/self", AT_FDCWD, "/proc/self", O_RDONLY | O_DIRECTORY, 0, r);
	try("nosym /proc/self/exe", AT_FDCWD, "/proc/self/exe", O_RDONLY, 0, r);
	try("nosym loop1", d, "loop1", O_RDONLY, 0, r);
	try("nosym|beneath rel", d, "rel", O_RDONLY, 0, r | RESOLVE_BENEATH);
}

static void nomagic(int d) {
	uint64_t r = RESOLVE_NO_MAGICLINKS;
	char fdpath[64];
	snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", d);
	try("fd link", AT_FDCWD, fdpath, O_RDONLY | O_DIRECTORY, 0, 0);
	try("nomagic fd link", AT_FDCWD, fdpath, O_RDONLY | O_DIRECTORY, 0, r);
	try("exe", AT_FDCWD, "/proc/self/exe", O_RDONLY, 0, 0);
	try("nomagic exe", AT_FDCWD, "/proc/self/exe", O_RDONLY, 0, r);
	long fd;
	struct open_how how = {.flags = O_PATH | O_NOFOLLOW, .resolve = r};
	fd = openat2_(AT_FDCWD, "/proc/self/exe", &how, sizeof how);
	res("nomagic exe path|nofollow", fd >= 0 ? 0 : fd);
	close(fd);
	try("nomagic cwd", AT_FDCWD, "/proc/self/cwd", O_RDONLY | O_DIRECTORY, 0, r);
	try("nomagic root/top", AT_FDCWD, "/proc/self/root/top", O_RDONLY, 0, r);
	how = (struct open_how){.flags = O_RDONLY | O_DIRECTORY, .resolve = r};
	fd = openat2_(AT_FDCWD, "/proc/self", &how, sizeof how);
	res("nomagic /proc/self (plain link)", fd >= 0 ? 0 : fd);
	close(fd);
	try("nomagic d/rel", d, "rel", O_RDONLY, 0, r);
	try("nomagic cwd/d/f", AT_FDCWD, "/proc/self/cwd/d/f", O_RDONLY, 0, r);
}

static void noxdev(int d, int ro, int self) {
	uint64_t r = RESOLVE_NO_XDEV;
	try("noxdev /ro/f", AT_FDCWD, "/ro/f", O_RDONLY, 0, r);
	try("noxdev /ro path", AT_FDCWD, "/ro", O_PATH, 0, r);
	try("noxdev tomnt", d, "tomnt", O_RDONLY, 0, r);
	try("noxdev ro: f", ro, "f", O_RDONLY, 0, r);
	try("noxdev ro: d", ro, "d", O_RDONLY | O_DIRECTORY, 0, r);
	try("noxdev ro: ../top", ro, "../top", O_RDONLY, 0, r);
	try("noxdev ro: back", ro, "back", O_RDONLY, 0, r);
	try("noxdev ro: abs", ro, "abs", O_RDONLY, 0, r);
	try("noxdev ro: /top", ro, "/top", O_RDONLY, 0, r);
	try("noxdev d: abs", d, "abs", O_RDONLY, 0, r);
	try("noxdev d: ../../../top", d, "../../../top", O_RDONLY, 0, r);
	/* an absolute symlink before the walk needed the root: Linux refuses */
	try("noxdev d: ../d/abs", d, "../d/abs", O_RDONLY, 0, r);
	try("noxdev d: sub/../abs", d, "sub/../abs", O_RDONLY, 0, r);
	try("noxdev /d/abs", AT_FDCWD, "/d/abs", O_RDONLY, 0, r);
	try("noxdev d: rootlink/d/abs", d, "rootlink/d/abs", O_RDONLY, 0, r);
	try("noxdev d: out/top", d, "out/top", O_RDONLY, 0, r);
	try("noxdev /proc/self/exe", AT_FDCWD, "/proc/self/exe", O_RDONLY, 0, r);
	try("noxdev self: exe", self, "exe", O_RDONLY, 0, r);
	try("noxdev self: cwd", self, "cwd", O_RDONLY | O_DIRECTORY, 0, r);
	try("noxdev self: ..", self, "..", O_RDONLY | O_DIRECTORY, 0, r);
}

static void beneath(int root, int d, int w, int file) {
	uint64_t r = RESOLVE_BENEATH;
	try("beneath f", d, "f", O_RDONLY, 0, r);
	try("beneath sub/../f", d, "sub/../f", O_RDONLY, 0, r);
	try("beneath ./sub/./g", d, "./sub/./g", O_RDONLY, 0, r);
	try("beneath rel", d, "rel", O_RDONLY, 0, r);
	try("beneath up", d, "up", O_RDONLY, 0, r);
	try("beneath ../d/f", d, "../d/f", O_RDONLY, 0, r);
	try("beneath ..", d, "..", O_RDONLY | O_DIRECTORY, 0, r);
	try("beneath abs", d, "abs", O_RDONLY, 0, r);
	try("beneath /d/f", d, "/d/f", O_RDONLY, 0, r);
	try("beneath out", d, "out", O_RDONLY, 0, r);
	try("beneath loop1", d, "loop1", O_RDONLY, 0, r);
	try("beneath dangling", d, "dangling", O_RDONLY, 0, r);
	try("beneath sub/missing", d, "sub/missing", O_RDONLY, 0, r);
	try("beneath w: new1 creat", w, "new1", O_CREAT | O_WRONLY, 0644, r);
	try("beneath w: ../w/new2 creat", w, "../w/new2", O_CREAT | O_WRONLY, 0644, r);
	res("new2 exists", access("/w/new2", F_OK));
	try("beneath w: dl creat", w, "dl", O_CREAT | O_WRONLY, 0644, r);
	res("/made exists", access("/made", F_OK));
	try("beneath /: ro/f", root, "ro/f", O_RDONLY, 0, r);
	try("beneath /: ro/back", root, "ro/back", O_RDONLY, 0, r);
	try("beneath /: d/out", root, "d/out", O_RDONLY | O_DIRECTORY, 0, r);
	try("beneath /: proc/self/exe", root, "proc/self/exe", O_RDONLY, 0, r);
	try("beneath /: proc/self/root", root, "proc/self/root", O_RDONLY | O_DIRECTORY, 0, r);
	try("beneath cwd: d/f", AT_FDCWD, "d/f", O_RDONLY, 0, r);
	try("beneath cwd: ..", AT_FDCWD, "..", O_RDONLY | O_DIRECTORY, 0, r);
	try("beneath bad fd abs", 99, "/d/f", O_RDONLY, 0, r);
	try("beneath bad fd rel", 99, "d/f", O_RDONLY, 0, r);
	try("beneath file fd rel", file, "x", O_RDONLY, 0, r);
}

static void inroot(int root, int d, int w, int ro, int file) {
	uint64_t r = RESOLVE_IN_ROOT;
	try("inroot /f", d, "/f", O_RDONLY, 0, r);
	try("inroot ../../f", d, "../../f", O_RDONLY, 0, r);
	try("inroot out", d, "out", O_RDONLY | O_DIRECTORY, 0, r);
	try("inroot abs", d, "abs", O_RDONLY, 0, r);
	try("inroot /sub/g", d, "/sub/g", O_RDONLY, 0, r);
	try("inroot up", d, "up", O_RDONLY, 0, r);
	try("inroot rootlink", d, "rootlink", O_RDONLY | O_DIRECTORY, 0, r);
	try("inroot w: dl creat", w, "dl", O_CREAT | O_WRONLY, 0644, r);
	res("/w/made exists", access("/w/made", F_OK));
	res("/made exists", access("/made", F_OK));
	try("inroot ro: /f", ro, "/f", O_RDONLY, 0, r);
	try("inroot ro: abs", ro, "abs", O_RDONLY, 0, r);
	try("inroot ro: back", ro, "back", O_RDONLY, 0, r);
	try("inroot /: proc/self/exe", root, "proc/self/exe", O_RDONLY, 0, r);
	try("inroot /: /d/rel", root, "/d/rel", O_RDONLY, 0, r);
	try("inroot cwd: /top", AT_FDCWD, "/top", O_RDONLY, 0, r);
	try("inroot bad fd abs", 99, "/d/f", O_RDONLY, 0, r);
	try("inroot file fd abs", file, "/x", O_RDONLY, 0, r);
	try("inroot|nosym rel", d, "rel", O_RDONLY, 0, r | RESOLVE_NO_SYMLINKS);
	try("inroot|noxdev ..", ro, "..", O_RDONLY | O_DIRECTORY, 0, r | RESOLVE_NO_XDEV);
}

static void cached(int d, int ro) {
	uint64_t r = RESOLVE_CACHED;
	int fd = open("/d/sub/g", O_RDONLY);
	close(fd);
	fd = open("/ro/f", O_RDONLY);
	close(fd);
	try("cached d: sub/g (looked up)", d, "sub/g", O_RDONLY, 0, r);
	try("cached /ro/f (looked up)", AT_FDCWD, "/ro/f", O_RDONLY, 0, r);
	try("cached creat", d, "f", O_CREAT | O_RDONLY, 0644, r);
	try("cached trunc", d, "f", O_TRUNC | O_RDONLY, 0, r);
	try("cached tmpfile", AT_FDCWD, "/w", O_TMPFILE | O_RDWR, 0600, r);
	try("cached /proc/self/exe", AT_FDCWD, "/proc/self/exe", O_RDONLY, 0, r);
	/* Linux's lockless walk leaves these EXDEV cases to the slow walk */
	try("cached|beneath d: ../top", d, "../top", O_RDONLY, 0, r | RESOLVE_BENEATH);
	try("cached|noxdev /ro/f", AT_FDCWD, "/ro/f", O_RDONLY, 0, r | RESOLVE_NO_XDEV);
	try("cached|noxdev ro: ../top", ro, "../top", O_RDONLY, 0, r | RESOLVE_NO_XDEV);
	try("cached|beneath d: /top", d, "/top", O_RDONLY, 0, r | RESOLVE_BENEATH);
	try("cached|inroot d: ../sub/g", d, "../sub/g", O_RDONLY, 0, r | RESOLVE_IN_ROOT);
}

/* escape tries to reach /../outside by every path and every flag. */
static void escape(int root, int d) {
	static const char *paths[] = {"../outside", "/../outside", "out/outside", "../../../../outside",
				      "/proc/self/root/../outside", "rootlink/../outside", "/ro/../../outside"};
	static const uint64_t rs[] = {0, RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_XDEV,
				      RESOLVE_NO_SYMLINKS, RESOLVE_NO_MAGICLINKS};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		for (size_t j = 0; j < sizeof rs / sizeof rs[0]; j++) {
			char label[96];
			snprintf(label, sizeof label, "escape / %s resolve %#lx", paths[i], (unsigned long)rs[j]);
			try(label, root, paths[i], O_RDONLY, 0, rs[j]);
			snprintf(label, sizeof label, "escape /d %s resolve %#lx", paths[i], (unsigned long)rs[j]);
			try(label, d, paths[i], O_RDONLY, 0, rs[j]);
		}
}

int main(void) {
	learn();
	int root = open("/", O_PATH | O_DIRECTORY);
	int d = open("/d", O_PATH | O_DIRECTORY);
	int w = open("/w", O_RDONLY | O_DIRECTORY);
	int ro = open("/ro", O_PATH | O_DIRECTORY);
	int self = open("/proc/self", O_PATH | O_DIRECTORY);
	int file = open("/top", O_RDONLY);
	if (root < 0 || d < 0 || w < 0 || ro < 0 || self < 0 || file < 0) {
		out("setup failed: %d %d %d %d %d %d\n", root, d, w, ro, self, file);
		return 1;
	}
	umask(022);
	sizes();
	flags();
	nosymlinks(d);
	nomagic(d);
	noxdev(d, ro, self);
	beneath(root, d, w, file);
	inroot(root, d, w, ro, file);
	cached(d, ro);
	escape(root, d);
	out("escaped %d\n", escaped);
	return escaped;
}
