/* proc_exec.c: execve of static binaries with argv and envp, vfork+exec,
 * #! scripts, exec errors, close-on-exec, handlers reset by exec. */
#include "difftest.h"
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;

static int child_mode(int argc, char **argv) {
	out("exec'd: argc=%d", argc);
	for (int i = 0; i < argc; i++)
		out(" [%s]", argv[i]);
	out("\n");
	for (char **e = environ; *e; e++)
		out("env: %s\n", *e);
	out("fd 5 open: %d, fd 6 open: %d\n", fcntl(5, F_GETFD) >= 0, fcntl(6, F_GETFD) >= 0);
	struct sigaction sa;
	sigaction(SIGUSR1, NULL, &sa);
	out("SIGUSR1 handler after exec is default: %d\n", sa.sa_handler == SIG_DFL);
	sigaction(SIGUSR2, NULL, &sa);
	out("SIGUSR2 still ignored: %d\n", sa.sa_handler == SIG_IGN);
	return 11;
}

static void handler(int sig) { (void)sig; }

static void run(const char *what, const char *path, char *const argv[]) {
	int st;
	pid_t c = fork();
	if (c == 0) {
		char *envp[] = {"A=1", "B=two", NULL};
		execve(path, argv, envp);
		out("%s: execve = -1 %s\n", what, strerrorname_np(errno));
		_exit(127);
	}
	waitpid(c, &st, 0);
	out("%s: exit %d\n", what, WEXITSTATUS(st));
}

int main(int argc, char **argv) {
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "child") == 0)
			return child_mode(argc, argv);

	signal(SIGUSR1, handler);
	signal(SIGUSR2, SIG_IGN);
	dup2(1, 5);
	dup2(1, 6);
	fcntl(6, F_SETFD, FD_CLOEXEC);

	run("static", "/proc_exec", (char *[]){"proc_exec", "child", "x y", "", NULL});
	run("script", "/script", (char *[]){"script", "child", "s1", NULL});
	run("missing", "/nonexistent", (char *[]){"x", NULL});
	run("not executable", "/notexec", (char *[]){"x", NULL});
	run("garbage", "/garbage", (char *[]){"x", NULL});
	run("directory", "/", (char *[]){"x", NULL});
	run("notdir", "/proc_exec/x", (char *[]){"x", NULL});
	run("script loop", "/loop1", (char *[]){"x", NULL});

	/* vfork: the parent resumes only after the child's exec. */
	volatile int touched = 0;
	pid_t c = vfork();
	if (c == 0) {
		touched = 1; /* shared memory until exec */
		execve("/proc_exec", (char *[]){"proc_exec", "child", "vfork", NULL}, (char *[]){NULL});
		_exit(127);
	}
	int st;
	waitpid(c, &st, 0);
	out("vfork parent sees child's write: %d\n", touched);
	out("vfork child exit %d\n", WEXITSTATUS(st));

	/* Errors in the calling process leave it running. */
	res("execve ENOENT", execve("/nope", argv, environ));
	char **bad = (char **)8;
	__asm__("" : "+r"(bad));
	res("execve EFAULT argv", execve("/proc_exec", bad, environ));

	/* exec replaces the image in place: this process becomes the child. */
	execve("/proc_exec", (char *[]){"proc_exec", "child", "last", NULL}, (char *[]){"Z=26", NULL});
	return 1;
}
