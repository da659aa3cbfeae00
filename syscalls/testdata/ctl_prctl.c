/* ctl_prctl.c: prctl(2) round trips, argument errors, PR_SET_PDEATHSIG
 * and PR_SET_CHILD_SUBREAPER. Starts as root (PID 1); runs natively and
 * in moat; outputs must match. Processes are sequenced with pipes and
 * signals, never with sleeps. */
#include "difftest.h"
#include <linux/capability.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef PR_GET_AUXV
#define PR_GET_AUXV 0x41555856
#endif
#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#endif

#define P(what, ...) res(what, prctl(__VA_ARGS__))

static void basics(void) {
	char name[16] = {0};
	P("set_name", PR_SET_NAME, (unsigned long)"ctl-prctl-long-name", 0, 0, 0);
	P("get_name", PR_GET_NAME, (unsigned long)name, 0, 0, 0);
	out("name %s\n", name);

	int sig = -1;
	P("get_pdeathsig", PR_GET_PDEATHSIG, (unsigned long)&sig, 0, 0, 0);
	out("pdeathsig %d\n", sig);
	P("set_pdeathsig 65", PR_SET_PDEATHSIG, 65, 0, 0, 0);
	P("set_pdeathsig USR2", PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0);
	P("get_pdeathsig", PR_GET_PDEATHSIG, (unsigned long)&sig, 0, 0, 0);
	out("pdeathsig %d\n", sig);
	P("set_pdeathsig 0", PR_SET_PDEATHSIG, 0, 0, 0, 0);
	P("get_pdeathsig bad ptr", PR_GET_PDEATHSIG, 8, 0, 0, 0);

	P("get_dumpable", PR_GET_DUMPABLE, 0, 0, 0, 0);
	P("set_dumpable 2", PR_SET_DUMPABLE, 2, 0, 0, 0);
	P("set_dumpable 0", PR_SET_DUMPABLE, 0, 0, 0, 0);
	P("get_dumpable", PR_GET_DUMPABLE, 0, 0, 0, 0);
	P("set_dumpable 1", PR_SET_DUMPABLE, 1, 0, 0, 0);

	P("get_nnp", PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	P("get_nnp arg", PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0);
	P("set_nnp 0", PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0);
	P("set_nnp 1 arg3", PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0);

	P("get_keepcaps", PR_GET_KEEPCAPS, 0, 0, 0, 0);
	P("set_keepcaps 2", PR_SET_KEEPCAPS, 2, 0, 0, 0);
	P("set_keepcaps 1", PR_SET_KEEPCAPS, 1, 0, 0, 0);
	P("get_keepcaps", PR_GET_KEEPCAPS, 0, 0, 0, 0);
	P("get_securebits", PR_GET_SECUREBITS, 0, 0, 0, 0);
	P("set_securebits 0", PR_SET_SECUREBITS, 0, 0, 0, 0);
	P("get_keepcaps", PR_GET_KEEPCAPS, 0, 0, 0, 0);
	P("set_securebits bad", PR_SET_SECUREBITS, 1 << 20, 0, 0, 0);

	P("capbset_read SYS_ADMIN", PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0);
	P("capbset_read 99", PR_CAPBSET_READ, 99, 0, 0, 0);
	P("ambient is_set CHOWN", PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0);
	P("ambient raise CHOWN", PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0);
	P("ambient clear_all arg", PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0);
	P("ambient clear_all", PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	P("ambient bad op", PR_CAP_AMBIENT, 9, 0, 0, 0);

	long slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	P("set_timerslack", PR_SET_TIMERSLACK, 12345, 0, 0, 0);
	P("get_timerslack", PR_GET_TIMERSLACK, 0, 0, 0, 0);
	P("set_timerslack 0", PR_SET_TIMERSLACK, 0, 0, 0, 0);
	out("timerslack back: %d\n", prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) == slack);

	P("get_seccomp", PR_GET_SECCOMP, 0, 0, 0, 0);
	P("set_seccomp bad mode", PR_SET_SECCOMP, 7, 0, 0, 0);
	unsigned int sz = 0;
	P("set_mm map_size", PR_SET_MM, PR_SET_MM_MAP_SIZE, (unsigned long)&sz, 0, 0);
	out("prctl_mm_map size %u\n", sz);
	P("set_mm arg5", PR_SET_MM, PR_SET_MM_START_CODE, 0, 0, 1);

	uintptr_t tidp = 0;
	P("get_tid_address", PR_GET_TID_ADDRESS, (unsigned long)&tidp, 0, 0, 0);
	out("tid address set: %d\n", tidp != 0);
	P("set_vma bad op", PR_SET_VMA, 99, 0, 0, 0);

	P("get_thp_disable", PR_GET_THP_DISABLE, 0, 0, 0, 0);
	P("set_thp_disable arg3", PR_SET_THP_DISABLE, 1, 1, 0, 0);
	P("set_thp_disable", PR_SET_THP_DISABLE, 1, 0, 0, 0);
	P("get_thp_disable", PR_GET_THP_DISABLE, 0, 0, 0, 0);
	P("get_thp_disable arg", PR_GET_THP_DISABLE, 1, 0, 0, 0);

	P("mce_kill_get", PR_MCE_KILL_GET, 0, 0, 0, 0);
	P("mce_kill set early", PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0);
	P("mce_kill_get", PR_MCE_KILL_GET, 0, 0, 0, 0);
	P("mce_kill set bad", PR_MCE_KILL, PR_MCE_KILL_SET, 7, 0, 0);
	P("mce_kill clear arg", PR_MCE_KILL, PR_MCE_KILL_CLEAR, 1, 0, 0);
	P("mce_kill clear", PR_MCE_KILL, PR_MCE_KILL_CLEAR, 0, 0, 0);
	P("mce_kill_get", PR_MCE_KILL_GET, 0, 0, 0, 0);
	P("mce_kill_get arg", PR_MCE_KILL_GET, 1, 0, 0, 0);

#ifdef __x86_64__
	int tsc = 0;
	P("get_tsc", PR_GET_TSC, (unsigned long)&tsc, 0, 0, 0);
	out("tsc %d\n", tsc);
	P("set_tsc enable", PR_SET_TSC, PR_TSC_ENABLE, 0, 0, 0);
	P("set_tsc bad", PR_SET_TSC, 9, 0, 0, 0);
#endif
	unsigned char auxv[64];
	P("get_auxv arg4", PR_GET_AUXV, (unsigned long)auxv, sizeof auxv, 1, 0);
	long n = prctl(PR_GET_AUXV, (unsigned long)auxv, sizeof auxv, 0, 0);
	out("get_auxv positive: %d\n", n > (long)sizeof auxv);
	P("unknown option", 0x12345, 0, 0, 0, 0);
}

/* inherit checks what a fork child gets: no_new_privs yes, pdeathsig
 * no, the subreaper mark no. */
static void inherit(void) {
	P("set_pdeathsig USR1", PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0);
	P("set_nnp", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	pid_t c = fork();
	if (c == 0) {
		int sig = -1, sr = -1;
		prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0);
		prctl(PR_GET_CHILD_SUBREAPER, &sr, 0, 0, 0);
		out("child: nnp %d pdeathsig %d subreaper %d dumpable %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), sig,
		    sr, prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
		/* A change of effective id: not dumpable, no parent-death signal. */
		prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0);
		res("setresuid 1000", setresuid(1000, 1000, 1000));
		prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0);
		out("after setresuid: pdeathsig %d dumpable %d\n", sig, prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	P("set_pdeathsig 0", PR_SET_PDEATHSIG, 0, 0, 0, 0);
}

/* orphans: S is a subreaper; its child A forks B, which asks for SIGUSR1
 * when its parent dies. A exits: B gets the signal from A and is
 * reparented to S, which reaps it. */
static void orphans(void) {
	pid_t s = fork();
	if (s != 0) {
		int st;
		waitpid(s, &st, 0);
		out("subreaper exited %d\n", WEXITSTATUS(st));
		return;
	}
	P("set_subreaper", PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	int sr = -1;
	P("get_subreaper", PR_GET_CHILD_SUBREAPER, (unsigned long)&sr, 0, 0, 0);
	out("subreaper %d\n", sr);
	pid_t spid = getpid();
	int ready[2];
	if (pipe(ready) < 0)
		_exit(3);
	pid_t a = fork();
	if (a == 0) {
		pid_t apid = getpid();
		pid_t b = fork();
		if (b == 0) {
			sigset_t set;
			sigemptyset(&set);
			sigaddset(&set, SIGUSR1);
			sigprocmask(SIG_BLOCK, &set, NULL);
			prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0);
			close(ready[0]);
			if (write(ready[1], "x", 1) != 1)
				_exit(4);
			siginfo_t si;
			int sig = sigwaitinfo(&set, &si);
			/* B reports through its status: S prints, in order. */
			_exit((sig == SIGUSR1) | (si.si_code == SI_USER) << 1 | (si.si_pid == apid) << 2 |
			      (getppid() == spid) << 3);
		}
		char x;
		close(ready[1]);
		if (read(ready[0], &x, 1) != 1)
			_exit(5);
		_exit(0);
	}
	close(ready[0]);
	close(ready[1]);
	int st;
	waitpid(a, &st, 0);
	out("A exited %d\n", WEXITSTATUS(st));
	pid_t w = wait(&st);
	/* 15: SIGUSR1, SI_USER, sent by A, reparented to S. */
	out("S reaped B: %d status %d\n", w > 0 && w != a, WEXITSTATUS(st));
	_exit(0);
}

int main(void) {
	basics();
	inherit();
	orphans();
	return 0;
}
