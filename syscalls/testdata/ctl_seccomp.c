/* ctl_seccomp.c: seccomp(2) and PR_SET_SECCOMP: filter checks, the
 * ERRNO, TRAP and KILL actions, stacking, inheritance by fork and exec,
 * strict mode, and the no_new_privs rule. Starts as root (PID 1); each
 * case runs in a child so filters do not accumulate; runs natively and
 * in moat, outputs must match. */
#include "difftest.h"
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define LD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define LD_ARCH BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))

static long sc(unsigned op, unsigned flags, void *args) { return syscall(SYS_seccomp, op, flags, args); }

/* install makes a filter returning action for system call nr, ALLOW
 * otherwise (and KILL for another architecture). */
static long install(int nr, unsigned action, unsigned flags) {
	struct sock_filter f[] = {
	    LD_ARCH,
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
	    RET(SECCOMP_RET_KILL_PROCESS),
	    LD_NR,
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
	    RET(action),
	    RET(SECCOMP_RET_ALLOW),
	};
	struct sock_fprog p = {sizeof f / sizeof f[0], f};
	return sc(SECCOMP_SET_MODE_FILTER, flags, &p);
}

static void errno_num(const char *what, long r) {
	if (r < 0)
		out("%s = -1 errno %d\n", what, errno);
	else
		out("%s = %ld\n", what, r);
}

/* child runs fn in a child process and prints how it ended. */
static void child(const char *name, void (*fn)(void)) {
	pid_t c = fork();
	if (c == 0) {
		struct rlimit no = {0, 0};
		setrlimit(RLIMIT_CORE, &no);
		fn();
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	if (WIFSIGNALED(st))
		out("%s: killed by %s\n", name, sigabbrev_np(WTERMSIG(st)));
	else
		out("%s: exit %d\n", name, WEXITSTATUS(st));
}

static void checks(void) {
	res("nnp", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	struct sock_filter ok[] = {RET(SECCOMP_RET_ALLOW)};
	struct sock_fprog p = {0, ok};
	res("len 0", sc(SECCOMP_SET_MODE_FILTER, 0, &p));
	p.len = 4097;
	res("len 4097", sc(SECCOMP_SET_MODE_FILTER, 0, &p));
	struct sock_filter noret[] = {LD_NR};
	struct sock_fprog p2 = {1, noret};
	res("no ret", sc(SECCOMP_SET_MODE_FILTER, 0, &p2));
	struct sock_filter far[] = {BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 0), RET(SECCOMP_RET_ALLOW)};
	struct sock_fprog p3 = {2, far};
	res("jump out", sc(SECCOMP_SET_MODE_FILTER, 0, &p3));
	struct sock_filter big[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64), RET(SECCOMP_RET_ALLOW)};
	struct sock_fprog p4 = {2, big};
	res("load past data", sc(SECCOMP_SET_MODE_FILTER, 0, &p4));
	struct sock_filter odd[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2), RET(SECCOMP_RET_ALLOW)};
	struct sock_fprog p5 = {2, odd};
	res("unaligned load", sc(SECCOMP_SET_MODE_FILTER, 0, &p5));
	struct sock_filter byte[] = {BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0), RET(SECCOMP_RET_ALLOW)};
	struct sock_fprog p6 = {2, byte};
	res("byte load", sc(SECCOMP_SET_MODE_FILTER, 0, &p6));
	struct sock_filter mem[] = {BPF_STMT(BPF_LD | BPF_MEM, 3), RET(SECCOMP_RET_ALLOW)};
	struct sock_fprog p7 = {2, mem};
	res("unwritten mem", sc(SECCOMP_SET_MODE_FILTER, 0, &p7));
	struct sock_filter div0[] = {BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), RET(SECCOMP_RET_ALLOW)};
	struct sock_fprog p8 = {2, div0};
	res("div by 0", sc(SECCOMP_SET_MODE_FILTER, 0, &p8));
	res("bad pointer", sc(SECCOMP_SET_MODE_FILTER, 0, (void *)8));
	res("bad flags", sc(SECCOMP_SET_MODE_FILTER, 1 << 30, &p));
	res("bad op", sc(77, 0, NULL));
	res("strict with flags", sc(SECCOMP_SET_MODE_STRICT, 1, NULL));
	unsigned act = SECCOMP_RET_ERRNO;
	res("avail ERRNO", sc(SECCOMP_GET_ACTION_AVAIL, 0, &act));
	act = SECCOMP_RET_KILL_PROCESS;
	res("avail KILL_PROCESS", sc(SECCOMP_GET_ACTION_AVAIL, 0, &act));
	act = 0x12340000;
	res("avail bogus", sc(SECCOMP_GET_ACTION_AVAIL, 0, &act));
	struct seccomp_notif_sizes sz;
	res("notif sizes", sc(SECCOMP_GET_NOTIF_SIZES, 0, &sz));
	out("sizes %d %d %d\n", sz.seccomp_notif, sz.seccomp_notif_resp, sz.seccomp_data);
	res("get_seccomp", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
	/* A program using memory, ALU and every jump kind, which allows. */
	struct sock_filter alu[] = {
	    LD_NR,
	    BPF_STMT(BPF_ST, 0),
	    BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 7),
	    BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 2),
	    BPF_STMT(BPF_MISC | BPF_TAX, 0),
	    BPF_STMT(BPF_LD | BPF_MEM, 0),
	    BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 7),
	    BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 4),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 1, 0),
	    RET(SECCOMP_RET_KILL_PROCESS),
	    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x80000000, 0, 1),
	    RET(SECCOMP_RET_KILL_PROCESS),
	    BPF_STMT(BPF_JMP | BPF_JA, 1),
	    RET(SECCOMP_RET_KILL_PROCESS),
	    BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
	    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 64, 1, 0),
	    RET(SECCOMP_RET_KILL_PROCESS),
	    RET(SECCOMP_RET_ALLOW),
	};
	struct sock_fprog pa = {sizeof alu / sizeof alu[0], alu};
	res("alu program", sc(SECCOMP_SET_MODE_FILTER, 0, &pa));
	res("get_seccomp", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
	res("strict after filter", sc(SECCOMP_SET_MODE_STRICT, 0, NULL));
}

static void errnos(void) {
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	res("install getpid EPERM", install(SYS_getpid, SECCOMP_RET_ERRNO | EPERM, 0));
	res("getpid", syscall(SYS_getpid));
	res("install getppid 0", install(SYS_getppid, SECCOMP_RET_ERRNO | 0, 0));
	res("getppid", syscall(SYS_getppid));
	res("install getuid 5000", install(SYS_getuid, SECCOMP_RET_ERRNO | 5000, 0));
	errno_num("getuid", syscall(SYS_getuid));
	/* Stacked: both ERRNO, the newest filter wins. */
	res("install getpid EACCES", install(SYS_getpid, SECCOMP_RET_ERRNO | EACCES, 0));
	res("getpid", syscall(SYS_getpid));
	/* TRACE with no tracer: ENOSYS. */
	res("install getgid TRACE", install(SYS_getgid, SECCOMP_RET_TRACE | 3, 0));
	res("getgid", syscall(SYS_getgid));
	res("install getegid LOG", install(SYS_getegid, SECCOMP_RET_LOG, 0));
	res("getegid", syscall(SYS_getegid));
}

static void on_sigsys(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	out("SIGSYS: sig %d code %d syscall %d errno %d arch %#x addr set %d\n", sig, si->si_code, si->si_syscall,
	    si->si_errno, si->si_arch, si->si_call_addr != NULL);
}

static void traps(void) {
	struct sigaction sa = {0};
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	res("install getuid TRAP", install(SYS_getuid, SECCOMP_RET_TRAP | 42, 0));
	long r = syscall(SYS_getuid);
	out("getuid returned nr: %d\n", r == SYS_getuid);
	/* TRAP beats a newer ERRNO. */
	res("install getuid ERRNO", install(SYS_getuid, SECCOMP_RET_ERRNO | EPERM, 0));
	syscall(SYS_getuid);
	/* A blocked SIGSYS kills. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	sigprocmask(SIG_BLOCK, &set, NULL);
	syscall(SYS_getuid);
	out("not reached\n");
}

static void kill_process(void) {
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	install(SYS_getppid, SECCOMP_RET_KILL_PROCESS, 0);
	syscall(SYS_getppid);
	out("not reached\n");
}

static void kill_thread(void) {
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	install(SYS_getppid, SECCOMP_RET_KILL_THREAD, 0);
	syscall(SYS_getppid);
	out("not reached\n");
}

static void strict_ok(void) {
	res("strict", prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0));
	out("write works\n");
	syscall(SYS_exit, 3);
}

static void strict_kill(void) {
	res("strict", sc(SECCOMP_SET_MODE_STRICT, 0, NULL));
	syscall(SYS_getpid);
	out("not reached\n");
}

static void inherited(void) {
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	res("install getppid EPERM", install(SYS_getppid, SECCOMP_RET_ERRNO | EPERM, 0));
	pid_t c = fork();
	if (c == 0) {
		res("fork child getppid", syscall(SYS_getppid));
		char *argv[] = {"ctl_seccomp", "after-exec", NULL};
		execv("/ctl_seccomp", argv);
		out("exec failed %s\n", strerrorname_np(errno));
		_exit(1);
	}
	int st;
	waitpid(c, &st, 0);
	out("exec child exit %d\n", WEXITSTATUS(st));
}

static void unprivileged(void) {
	res("root without nnp", install(SYS_getpid, SECCOMP_RET_ERRNO | EPERM, 0));
	res("setuid 1000", setresuid(1000, 1000, 1000));
	res("user without nnp", install(SYS_getppid, SECCOMP_RET_ERRNO | EPERM, 0));
	res("user nnp", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	res("user with nnp", install(SYS_getppid, SECCOMP_RET_ERRNO | EPERM, 0));
	res("getppid", syscall(SYS_getppid));
}

static int to_thread[2], from_thread[2];

/* worker waits for a command byte: 'u' calls getuid and reports its
 * errno, 'f' installs a filter of its own and reports its tid, 'q' ends. */
static void *worker(void *arg) {
	(void)arg;
	char c;
	while (read(to_thread[0], &c, 1) == 1) {
		int v = 0;
		if (c == 'u')
			v = syscall(SYS_getuid) < 0 ? errno : 0;
		else if (c == 'f')
			v = install(SYS_getppid, SECCOMP_RET_ERRNO | EPERM, 0) == 0 ? (int)syscall(SYS_gettid) : -1;
		else
			break;
		if (write(from_thread[1], &v, sizeof v) != sizeof v)
			_exit(9);
	}
	return NULL;
}

static int ask(char c) {
	int v = -1;
	if (write(to_thread[1], &c, 1) != 1 || read(from_thread[0], &v, sizeof v) != sizeof v)
		_exit(8);
	return v;
}

static void tsync(void) {
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (pipe(to_thread) < 0 || pipe(from_thread) < 0)
		_exit(7);
	pthread_t th;
	pthread_create(&th, NULL, worker, NULL);
	out("thread getuid errno %d\n", ask('u'));
	res("tsync", install(SYS_getuid, SECCOMP_RET_ERRNO | EACCES, SECCOMP_FILTER_FLAG_TSYNC));
	out("thread getuid errno %d (EACCES %d)\n", ask('u'), EACCES);
	int tid = ask('f');
	long r = install(SYS_getgid, SECCOMP_RET_ERRNO | EPERM, SECCOMP_FILTER_FLAG_TSYNC);
	out("tsync against a diverged thread returns its tid: %d\n", r == tid);
	res("tsync esrch", install(SYS_getgid, SECCOMP_RET_ERRNO | EPERM,
	                           SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH));
	res("getgid (not installed)", syscall(SYS_getgid) >= 0);
	if (write(to_thread[1], "q", 1) != 1)
		_exit(8);
	pthread_join(th, NULL);
}

int main(int argc, char **argv) {
	if (argc > 1) {
		res("after exec getppid", syscall(SYS_getppid));
		res("after exec get_seccomp", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
		res("after exec nnp", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
		return 4;
	}
	child("checks", checks);
	child("errnos", errnos);
	child("traps", traps);
	child("kill_process", kill_process);
	child("kill_thread", kill_thread);
	child("strict_ok", strict_ok);
	child("strict_kill", strict_kill);
	child("inherited", inherited);
	child("unprivileged", unprivileged);
	child("tsync", tsync);
	return 0;
}
