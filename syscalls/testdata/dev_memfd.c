/* dev_memfd.c: the character devices of /dev (null, zero, full, random,
 * urandom), mmap of /dev/zero, and memfd_create (flags, names, seals,
 * mmap coherence, fstat), error paths included. Run natively and in
 * moat; outputs must match. */
#include "difftest.h"
#include <fcntl.h>
#include <linux/memfd.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U /* Linux 6.3; bookworm's headers predate it */
#endif

static int memfd(const char *name, unsigned flags) {
	return syscall(SYS_memfd_create, name, flags);
}

/* typeof_ names a file type from st_mode. */
static const char *type_of(mode_t m) {
	switch (m & S_IFMT) {
	case S_IFCHR:
		return "chr";
	case S_IFREG:
		return "reg";
	case S_IFDIR:
		return "dir";
	}
	return "other";
}

static void devstat(const char *path) {
	struct stat st;
	if (stat(path, &st) < 0) {
		out("stat %s = -1 %s\n", path, strerrorname_np(errno));
		return;
	}
	out("stat %s: %s %o rdev %u:%u\n", path, type_of(st.st_mode), st.st_mode & 07777,
	    major(st.st_rdev), minor(st.st_rdev));
}

static void devices(void) {
	char buf[256];
	memset(buf, 'x', sizeof buf);
	devstat("/dev/null");
	devstat("/dev/zero");
	devstat("/dev/full");
	devstat("/dev/urandom");

	int fd = open("/dev/null", O_RDWR);
	res("open null", fd >= 0 ? 0 : -1);
	res("read null", read(fd, buf, sizeof buf));
	res("write null", write(fd, buf, sizeof buf));
	res("pwrite null", pwrite(fd, buf, 10, 1000));
	res("lseek null", lseek(fd, 123, SEEK_SET));
	close(fd);

	fd = open("/dev/zero", O_RDWR);
	res("read zero", read(fd, buf, 100));
	int zeros = 1;
	for (int i = 0; i < 100; i++)
		zeros &= buf[i] == 0;
	out("zero gave zeros: %d, byte 100 untouched: %d\n", zeros, buf[100] == 'x');
	res("write zero", write(fd, buf, 50));
	close(fd);

	fd = open("/dev/full", O_RDWR);
	res("read full", read(fd, buf, 10));
	res("write full", write(fd, buf, 10));
	close(fd);

	const char *rnd[] = {"/dev/urandom", "/dev/random"};
	for (int i = 0; i < 2; i++) {
		fd = open(rnd[i], O_RDONLY);
		char a[64], b[64];
		res(rnd[i], read(fd, a, sizeof a));
		read(fd, b, sizeof b);
		out("%s: two reads differ: %d\n", rnd[i], memcmp(a, b, sizeof a) != 0);
		res("write random (read-only open)", write(fd, a, 4));
		close(fd);
	}
	fd = open("/dev/urandom", O_WRONLY);
	res("write urandom", write(fd, buf, 16));
	close(fd);
}

static void zero_mmap(void) {
	int fd = open("/dev/zero", O_RDWR);
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	res("mmap zero private", p == MAP_FAILED ? -1 : 0);
	if (p != MAP_FAILED) {
		out("private reads %d, ", p[5000]);
		p[5000] = 7;
		out("then %d\n", p[5000]);
		munmap(p, 8192);
	}

	/* MAP_SHARED is shared anonymous memory: a child's write shows. */
	int *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	res("mmap zero shared", s == MAP_FAILED ? -1 : 0);
	if (s != MAP_FAILED) {
		pid_t c = fork();
		if (c == 0) {
			s[10] = 42;
			_exit(0);
		}
		waitpid(c, NULL, 0);
		out("shared after child wrote: %d\n", s[10]);
		munmap(s, 4096);
	}
	close(fd);

	fd = open("/dev/zero", O_RDONLY);
	s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	res("mmap zero shared writable, read-only open", s == MAP_FAILED ? -1 : 0);
	close(fd);

	fd = open("/dev/null", O_RDWR);
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	res("mmap null", p == MAP_FAILED ? -1 : 0);
	close(fd);
}

static void memfds(void) {
	char name[300];
	res("memfd bad flags", memfd("x", 0x100));
	memset(name, 'n', sizeof name);
	name[249] = 0; /* 249 + "memfd:" = 255: the longest name */
	int fd = memfd(name, 0);
	res("memfd 249-byte name", fd >= 0 ? 0 : -1);
	close(fd);
	name[249] = 'n';
	name[250] = 0;
	res("memfd 250-byte name", memfd(name, 0));
	res("memfd bad name pointer", memfd((const char *)8, 0));

	fd = memfd("plain", 0);
	out("plain cloexec: %d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);

	fd = memfd("sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	out("sealed cloexec: %d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC);
	res("write", write(fd, "hello memfd", 11));

	struct stat st;
	res("fstat", fstat(fd, &st));
	out("fstat: %s %o size %ld nlink %ld\n", type_of(st.st_mode), st.st_mode & 07777,
	    (long)st.st_size, (long)st.st_nlink);

	res("ftruncate", ftruncate(fd, 8192));
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	res("mmap shared", m == MAP_FAILED ? -1 : 0);
	if (m != MAP_FAILED) {
		out("mapped: %.11s\n", m);
		/* Writes through the mapping show in read, and the reverse. */
		memcpy(m + 4096, "via map", 7);
		char buf[16] = {0};
		res("pread", pread(fd, buf, 7, 4096));
		out("pread sees: %s\n", buf);
		res("pwrite", pwrite(fd, "VIA FD", 6, 0));
		out("map sees: %.6s\n", m);
		munmap(m, 8192);
	}
	close(fd);
}

/* seals are the file seals of memfds (F_ADD_SEALS, F_GET_SEALS), run
 * with the argument "seals". */
static void seals(void) {
	int fd = memfd("plain", 0);
	res("plain F_GET_SEALS", fcntl(fd, F_GET_SEALS));
	res("plain F_ADD_SEALS", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	close(fd);

	fd = memfd("sealed", MFD_ALLOW_SEALING);
	res("sealed F_GET_SEALS", fcntl(fd, F_GET_SEALS));
	res("ftruncate", ftruncate(fd, 8192));
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	/* A shared writable mapping blocks F_SEAL_WRITE. */
	res("F_ADD_SEALS write while mapped", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	munmap(m, 8192);
	res("F_ADD_SEALS shrink|grow", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW));
	res("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
	res("ftruncate shrink (sealed)", ftruncate(fd, 10));
	res("ftruncate grow (sealed)", ftruncate(fd, 10000));
	res("F_ADD_SEALS write", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	res("write (sealed)", write(fd, "x", 1));
	res("F_ADD_SEALS seal", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
	res("F_ADD_SEALS after seal", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
	struct stat st;
	res("fstat", fstat(fd, &st));
	out("size now %ld\n", (long)st.st_size);
	/* F_SEAL_WRITE forbids writable shared mappings, not read-only ones. */
	m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	res("mmap shared writable (sealed)", m == MAP_FAILED ? -1 : 0);
	m = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
	res("mmap shared read-only (sealed)", m == MAP_FAILED ? -1 : 0);
	if (m != MAP_FAILED)
		munmap(m, 8192);
	m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	res("mmap private writable (sealed)", m == MAP_FAILED ? -1 : 0);
	if (m != MAP_FAILED)
		munmap(m, 8192);
	close(fd);

	/* F_SEAL_GROW lets writes through up to the last whole page within
	 * the size, page by page. */
	fd = memfd("grow", MFD_ALLOW_SEALING);
	res("ftruncate 5000", ftruncate(fd, 5000));
	res("F_ADD_SEALS grow", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
	static char big[10000];
	res("write within size", pwrite(fd, big, 100, 0));
	res("write across size", pwrite(fd, big, 8192, 0));
	res("write in last page across size", pwrite(fd, big, 1000, 4500));
	res("fallocate beyond size", fallocate(fd, 0, 0, 6000));
	res("fallocate within size", fallocate(fd, 0, 0, 4000));
	res("ftruncate same size", ftruncate(fd, 5000));
	close(fd);

	/* F_SEAL_FUTURE_WRITE: no new writes, existing mappings stay. */
	fd = memfd("future", MFD_ALLOW_SEALING);
	res("ftruncate", ftruncate(fd, 4096));
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	res("F_ADD_SEALS future write while mapped", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	if (m != MAP_FAILED) {
		m[0] = 'k'; /* the old mapping still writes */
		munmap(m, 4096);
	}
	res("write (future sealed)", write(fd, "x", 1));
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	res("mmap shared writable (future sealed)", m == MAP_FAILED ? -1 : 0);
	char c = 0;
	res("pread", pread(fd, &c, 1, 0));
	out("byte 0: %c\n", c);
	close(fd);

	/* A read-only descriptor of a sealable memfd cannot add seals. */
	fd = memfd("ro", MFD_ALLOW_SEALING);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	int ro = open(path, O_RDONLY);
	if (ro >= 0) {
		res("F_ADD_SEALS read-only fd", fcntl(ro, F_ADD_SEALS, F_SEAL_GROW));
		res("F_GET_SEALS read-only fd", fcntl(ro, F_GET_SEALS));
		close(ro);
	}
	res("F_ADD_SEALS bad bits", fcntl(fd, F_ADD_SEALS, 0x1000));
	close(fd);

	/* MFD_NOEXEC_SEAL: no execute bits, and none can be added. */
	fd = memfd("noexec", MFD_NOEXEC_SEAL);
	res("noexec F_GET_SEALS", fcntl(fd, F_GET_SEALS));
	res("fstat", fstat(fd, &st));
	out("noexec mode %o\n", st.st_mode & 07777);
	res("fchmod +x (exec sealed)", fchmod(fd, 0755));
	res("fchmod -w", fchmod(fd, 0444));
	res("write after fchmod", write(fd, "y", 1));
	close(fd);

	/* Seals on a pipe: no such thing. */
	int p[2];
	pipe(p);
	res("pipe F_GET_SEALS", fcntl(p[0], F_GET_SEALS));
	res("pipe F_ADD_SEALS", fcntl(p[1], F_ADD_SEALS, F_SEAL_GROW));
	res("pipe F_ADD_SEALS read end", fcntl(p[0], F_ADD_SEALS, F_SEAL_GROW));
	close(p[0]);
	close(p[1]);
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "seals") == 0) {
		seals();
		return 0;
	}
	devices();
	zero_mmap();
	memfds();
	return 0;
}
