/* proc_signals.c: handlers, siginfo, masks, SA_* flags, sigaltstack,
 * SIGSEGV with siglongjmp, SA_RESTART vs EINTR, FP state across a
 * handler. */
#include "difftest.h"
#include <fenv.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>

static volatile sig_atomic_t got;
static volatile int got_code, got_pid_ok, depth, max_depth, calls, blocked_self, blocked_usr2;
static volatile int round_in_handler;
static sigjmp_buf jb;
static void *volatile fault_addr;
static char *alt;
static volatile int on_alt, alt_flags_onstack, alt_change_errno;

static volatile int frame_flags, frame_magic, frame_fp_aligned, frame_sp_aligned, frame_xsize;

static void info_handler(int sig, siginfo_t *si, void *uc) {
	ucontext_t *u = uc;
	char *fp = (char *)u->uc_mcontext.fpregs;
	uint32_t *sw = (uint32_t *)(fp + 464);
	frame_flags = u->uc_flags;
	/* _fpx_sw_bytes: magic1, extended_size, xfeatures, xstate_size. */
	frame_magic = sw[0] == 0x46505853 && *(uint32_t *)(fp + sw[4]) == 0x46505845;
	frame_xsize = sw[1] == sw[4] + 4 && sw[4] > 512;
	frame_fp_aligned = (uintptr_t)fp % 64 == 0;
	frame_sp_aligned = (uintptr_t)uc % 16 == 0; /* (rsp + 8) % 16 == 0, rsp = uc - 8 */
	got = sig;
	got_code = si->si_code;
	got_pid_ok = si->si_pid == getpid();
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	blocked_self = sigismember(&cur, sig);
	blocked_usr2 = sigismember(&cur, SIGUSR2);
	round_in_handler = fegetround();
	fesetround(FE_DOWNWARD);
}

static void nested(int sig) {
	depth++;
	calls++;
	if (depth > max_depth)
		max_depth = depth;
	if (calls < 3)
		raise(sig);
	depth--;
}

static void segv(int sig, siginfo_t *si, void *uc) {
	(void)sig;
	(void)uc;
	fault_addr = si->si_addr;
	got_code = si->si_code;
	siglongjmp(jb, 1);
}

static void on_stack(int sig) {
	(void)sig;
	char here;
	on_alt = &here >= alt && &here < alt + 65536;
	stack_t cur;
	sigaltstack(NULL, &cur);
	alt_flags_onstack = (cur.ss_flags & SS_ONSTACK) != 0;
	stack_t ns = {.ss_sp = alt, .ss_size = 65536};
	alt_change_errno = sigaltstack(&ns, NULL) < 0 ? errno : 0;
}

static void empty(int sig) { (void)sig; }

/* forge changes the frame: a result register, and EFLAGS bits no user
 * may set (IOPL), which rt_sigreturn must drop. */
static void forge(int sig, siginfo_t *si, void *uc) {
	(void)sig;
	(void)si;
	ucontext_t *u = uc;
	u->uc_mcontext.gregs[REG_RAX] = 77;
	u->uc_mcontext.gregs[REG_EFL] |= 0x3000;
}

static void nap(long ms) {
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* interrupted_wait has a child signal us while we wait for it. */
static void interrupted_wait(int flags) {
	struct sigaction sa = {.sa_handler = empty, .sa_flags = flags};
	sigaction(SIGUSR1, &sa, NULL);
	pid_t c = fork();
	if (c == 0) {
		nap(50);
		kill(getppid(), SIGUSR1);
		nap(50);
		_exit(3);
	}
	int st;
	pid_t w = waitpid(c, &st, 0);
	if (w < 0) {
		out("waitpid%s = -1 %s\n", flags ? " (SA_RESTART)" : "", strerrorname_np(errno));
		waitpid(c, &st, 0);
	} else {
		out("waitpid%s = child, exit %d\n", flags ? " (SA_RESTART)" : "", WEXITSTATUS(st));
	}
}

int main(void) {
	/* SA_SIGINFO handler, mask during the handler, siginfo from kill. */
	struct sigaction sa = {.sa_sigaction = info_handler, .sa_flags = SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaction(SIGUSR1, &sa, NULL);
	fesetround(FE_UPWARD);
	kill(getpid(), SIGUSR1);
	out("got=%d code=%d pid_ok=%d self_blocked=%d usr2_blocked=%d\n", got, got_code, got_pid_ok, blocked_self, blocked_usr2);
	out("frame: uc_flags=%d xstate magics=%d sizes=%d fpstate 64-aligned=%d sp+8 16-aligned=%d\n", frame_flags,
	    frame_magic, frame_xsize, frame_fp_aligned, frame_sp_aligned);
	out("handler started with round-to-nearest: %d; rounding restored: %d\n",
	    round_in_handler == FE_TONEAREST, fegetround() == FE_UPWARD);
	fesetround(FE_TONEAREST);
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	out("mask restored: usr1=%d usr2=%d\n", sigismember(&cur, SIGUSR1), sigismember(&cur, SIGUSR2));

	/* tgkill gives SI_TKILL. */
	raise(SIGUSR1);
	out("raise: code=%d\n", got_code);

	/* SA_NODEFER lets the handler nest; without it the signal waits. */
	struct sigaction nd = {.sa_handler = nested, .sa_flags = SA_NODEFER};
	sigaction(SIGUSR2, &nd, NULL);
	raise(SIGUSR2);
	out("SA_NODEFER max depth %d calls %d\n", max_depth, calls);
	depth = max_depth = calls = 0;
	nd.sa_flags = 0;
	sigaction(SIGUSR2, &nd, NULL);
	raise(SIGUSR2);
	out("deferred max depth %d calls %d\n", max_depth, calls);

	/* SA_RESETHAND: the second signal takes the default action. */
	pid_t c = fork();
	if (c == 0) {
		struct sigaction rh = {.sa_handler = empty, .sa_flags = SA_RESETHAND};
		sigaction(SIGTERM, &rh, NULL);
		raise(SIGTERM);
		out("child survived the first SIGTERM\n");
		raise(SIGTERM);
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	out("SA_RESETHAND child killed by %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);

	/* SIGSEGV on an unmapped page, caught and escaped with siglongjmp. */
	char *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sigaction sv = {.sa_sigaction = segv, .sa_flags = SA_SIGINFO};
	sigaction(SIGSEGV, &sv, NULL);
	if (sigsetjmp(jb, 1) == 0) {
		page[100] = 1;
		out("no fault?\n");
	}
	out("SIGSEGV at the page: %d code=%d\n", fault_addr == page + 100, got_code);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	out("SIGSEGV unblocked after siglongjmp: %d\n", !sigismember(&cur, SIGSEGV));

	/* sigaltstack. */
	alt = malloc(65536);
	stack_t ss = {.ss_sp = alt, .ss_size = 1024};
	res("sigaltstack too small", sigaltstack(&ss, NULL));
	ss.ss_size = 65536;
	ss.ss_flags = 77;
	res("sigaltstack bad flags", sigaltstack(&ss, NULL));
	ss.ss_flags = 0;
	res("sigaltstack", sigaltstack(&ss, NULL));
	struct sigaction os = {.sa_handler = on_stack, .sa_flags = SA_ONSTACK};
	sigaction(SIGUSR2, &os, NULL);
	raise(SIGUSR2);
	out("handler on alt stack: %d, SS_ONSTACK: %d, change while on it: %s\n", on_alt, alt_flags_onstack,
	    alt_change_errno ? strerrorname_np(alt_change_errno) : "ok");
	stack_t old;
	sigaltstack(NULL, &old);
	out("after: flags=%d size=%zu\n", old.ss_flags, old.ss_size);
	ss.ss_flags = SS_DISABLE;
	res("sigaltstack disable", sigaltstack(&ss, NULL));
	sigaltstack(NULL, &old);
	out("disabled: flags=%d\n", old.ss_flags);

	/* SA_RESTART vs EINTR on a blocking wait, and nanosleep's EINTR. */
	interrupted_wait(0);
	interrupted_wait(SA_RESTART);
	c = fork();
	if (c == 0) {
		nap(50);
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	struct timespec ts = {5, 0}, rem;
	res("nanosleep interrupted", nanosleep(&ts, &rem));
	out("remaining below 5s: %d\n", rem.tv_sec < 5);
	waitpid(c, &st, 0);

	/* sigsuspend: the signal arrives only while suspended; the old mask
	 * comes back afterwards. sigpending shows a blocked signal. */
	sigset_t blk, none;
	sigemptyset(&blk);
	sigaddset(&blk, SIGUSR1);
	sigprocmask(SIG_BLOCK, &blk, NULL);
	struct sigaction su = {.sa_sigaction = info_handler, .sa_flags = SA_SIGINFO};
	sigaction(SIGUSR1, &su, NULL);
	got = 0;
	c = fork();
	if (c == 0) {
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	waitpid(c, &st, 0);
	sigset_t pend;
	sigpending(&pend);
	out("pending before sigsuspend: %d, handled: %d\n", sigismember(&pend, SIGUSR1), got);
	sigemptyset(&none);
	res("sigsuspend", sigsuspend(&none));
	sigprocmask(SIG_BLOCK, NULL, &cur);
	out("handled: %d, USR1 blocked again: %d\n", got, sigismember(&cur, SIGUSR1));
	sigprocmask(SIG_UNBLOCK, &blk, NULL);

	/* A handler that edits its frame. */
	struct sigaction fg = {.sa_sigaction = forge, .sa_flags = SA_SIGINFO};
	sigaction(SIGUSR2, &fg, NULL);
	long r = syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), SIGUSR2);
	unsigned long fl;
	__asm__ volatile("pushf; pop %0" : "=r"(fl));
	out("tgkill result from the edited frame: %ld, IOPL after: %lu\n", r, (fl >> 12) & 3);

	/* A handler without SA_RESTORER: x86-64 kills with SIGSEGV. */
	c = fork();
	if (c == 0) {
		struct {
			void *handler;
			unsigned long flags;
			void *restorer;
			uint64_t mask;
		} ka = {(void *)empty, 0, NULL, 0};
		signal(SIGSEGV, SIG_DFL);
		syscall(13 /* rt_sigaction */, SIGUSR1, &ka, NULL, 8);
		raise(SIGUSR1);
		_exit(0);
	}
	waitpid(c, &st, 0);
	out("no SA_RESTORER: killed by %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);

	/* Default actions. */
	c = fork();
	if (c == 0) {
		signal(SIGSEGV, SIG_DFL);
		*(volatile int *)8 = 1;
		_exit(0);
	}
	waitpid(c, &st, 0);
	out("unhandled SIGSEGV: killed by %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return 0;
}
