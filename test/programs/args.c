/* args: prints argc, argv (argv[0] by its last component, since the path a
 * program is started by differs between a bundle and the host), the
 * environment in order, and the auxiliary vector entries every Linux
 * program can count on. Values that legitimately differ between runs
 * (addresses, random bytes) are printed as "present". */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

extern char **environ;

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static void present(const char *name, unsigned long type)
{
	printf("%s=%s\n", name, getauxval(type) != 0 ? "present" : "absent");
}

static void value(const char *name, unsigned long type)
{
	errno = 0;
	unsigned long v = getauxval(type);
	if (v == 0 && errno == ENOENT) {
		printf("%s=absent\n", name);
		return;
	}
	printf("%s=%lu\n", name, v);
}

int main(int argc, char **argv, char **envp)
{
	printf("argc=%d\n", argc);
	printf("argv[0]=%s\n", base(argv[0]));
	for (int i = 1; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	if (argv[argc] != NULL)
		printf("argv not NULL-terminated\n");
	for (int i = 0; envp[i] != NULL; i++)
		printf("env[%d]=%s\n", i, envp[i]);
	if (envp != environ)
		printf("envp != environ\n");

	present("AT_PHDR", AT_PHDR);
	value("AT_PHENT", AT_PHENT);
	present("AT_PHNUM", AT_PHNUM);
	value("AT_PAGESZ", AT_PAGESZ);
	present("AT_ENTRY", AT_ENTRY);
	value("AT_UID", AT_UID);
	value("AT_EUID", AT_EUID);
	value("AT_GID", AT_GID);
	value("AT_EGID", AT_EGID);
	value("AT_SECURE", AT_SECURE);
	present("AT_RANDOM", AT_RANDOM);
	present("AT_HWCAP", AT_HWCAP);
	const char *fn = (const char *)getauxval(AT_EXECFN);
	printf("AT_EXECFN=%s\n", fn ? base(fn) : "absent");
	/* AT_RANDOM must point at 16 readable bytes that are not all zero. */
	const unsigned char *r = (const unsigned char *)getauxval(AT_RANDOM);
	if (r != NULL) {
		int nz = 0;
		for (int i = 0; i < 16; i++)
			nz |= r[i];
		printf("AT_RANDOM bytes %s\n", nz ? "nonzero" : "all zero");
	}
	return 0;
}
