/* proc_execfmt.c: execve of "#!" scripts as Linux's binfmt_script runs
 * them: nesting (five levels work, six are ELOOP), AT_EXECFN (the path
 * given to execve, not the interpreter's), an empty or blank interpreter
 * name, a line longer than the kernel's 256-byte buffer, a relative
 * interpreter path (resolved from the working directory), a file with
 * mode 0111 (run as root and as a user without read permission), and brk
 * under RLIMIT_DATA. The test adds the script files to the root. */
#include "difftest.h"
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/wait.h>

static int child_mode(int argc, char **argv) {
	out("exec'd: argc=%d", argc);
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (n > 40)
			out(" [%.20s...(%zu bytes)]", argv[i], n);
		else
			out(" [%s]", argv[i]);
	}
	out("\nAT_EXECFN: %s\n", (const char *)getauxval(AT_EXECFN));
	return 7;
}

static void run(const char *what, const char *path) {
	int st;
	pid_t c = fork();
	if (c == 0) {
		execve(path, (char *[]){"argv0", "child", NULL}, (char *[]){NULL});
		out("%s: execve = -1 %s\n", what, strerrorname_np(errno));
		_exit(127);
	}
	waitpid(c, &st, 0);
	out("%s: exit %d\n", what, WEXITSTATUS(st));
}

static void data_limit(void) {
	void *start = sbrk(0);
	struct rlimit rl;
	getrlimit(RLIMIT_DATA, &rl);
	rl.rlim_cur = 1 << 20;
	res("setrlimit RLIMIT_DATA 1M", setrlimit(RLIMIT_DATA, &rl));
	out("sbrk 64K ok: %d\n", sbrk(64 << 10) != (void *)-1);
	errno = 0;
	void *r = sbrk(8 << 20);
	out("sbrk 8M: %s %s\n", r == (void *)-1 ? "fails" : "works", strerrorname_np(errno));
	rl.rlim_cur = 64 << 20;
	res("setrlimit RLIMIT_DATA 64M", setrlimit(RLIMIT_DATA, &rl));
	out("sbrk 8M under 64M: %s\n", sbrk(8 << 20) == (void *)-1 ? "fails" : "works");
	brk(start);
}

int main(int argc, char **argv) {
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "child") == 0)
			return child_mode(argc, argv);

	run("direct", "/proc_execfmt");
	run("script", "/sc1");
	run("execute-only file", "/xonly");
	run("nested 5", "/sc5");
	run("nested 6", "/sc6");
	run("empty interpreter", "/emptyinterp");
	run("blank interpreter", "/blankinterp");
	run("long argument", "/longarg");
	run("long interpreter name", "/longname");
	res("chdir /", chdir("/"));
	run("relative interpreter from /", "/relscript");
	res("chdir /d", chdir("/d"));
	run("relative interpreter from /d", "/relscript");
	run("relative script path", "../sc1");
	res("chdir /", chdir("/"));
	data_limit();
	return 0;
}
