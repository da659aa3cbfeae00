/* sig_wait: rt_sigtimedwait (poll, timeout, EAGAIN, EINVAL, siginfo,
 * EINTR by a signal outside the set), sigqueue's value reaching an
 * SA_SIGINFO handler, rt_sigqueueinfo and rt_tgsigqueueinfo si_code
 * rules (EPERM for SI_USER and SI_TKILL to another process), and
 * restart_syscall called directly. */
#include "difftest.h"
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

static volatile int h_code, h_val, h_pid_ok, h_signo;

static void on_info(int sig, siginfo_t *si, void *u) {
	(void)u;
	h_signo = sig;
	h_code = si->si_code;
	h_val = si->si_value.sival_int;
	h_pid_ok = si->si_pid == getpid();
}

static void on_usr2(int sig) { (void)sig; }

int main(void) {
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	siginfo_t si;
	struct timespec zero = {0, 0}, short_ = {0, 10 * 1000 * 1000}, bad = {0, 1000000000};
	res("sigtimedwait poll", sigtimedwait(&set, &si, &zero));
	res("sigtimedwait 10ms", sigtimedwait(&set, &si, &short_));
	res("sigtimedwait bad timespec", sigtimedwait(&set, &si, &bad));
	res("rt_sigtimedwait bad size", syscall(SYS_rt_sigtimedwait, &set, &si, &zero, 4));
	res("rt_sigtimedwait bad set", syscall(SYS_rt_sigtimedwait, (void *)8, &si, &zero, 8));

	raise(SIGUSR1);
	memset(&si, 0, sizeof si);
	res("sigtimedwait pending", sigtimedwait(&set, &si, &zero));
	out("signo %d code %d pid ok %d\n", si.si_signo, si.si_code, si.si_pid == getpid());
	kill(getpid(), SIGUSR1);
	res("sigwaitinfo", sigwaitinfo(&set, &si));
	out("signo %d code %d\n", si.si_signo, si.si_code);

	/* EINTR: a child sends SIGUSR2 (caught) every few milliseconds until
	 * it is killed; one of them lands while the parent waits. */
	struct sigaction sa = {0};
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		for (;;) {
			kill(getppid(), SIGUSR2);
			struct timespec ts = {0, 5 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	struct timespec longer = {30, 0};
	res("sigtimedwait interrupted", sigtimedwait(&set, &si, &longer));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	/* sigqueue's value reaches an SA_SIGINFO handler. */
	sa.sa_handler = NULL;
	sa.sa_sigaction = on_info;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN, &sa, NULL);
	union sigval v = {.sival_int = 1234};
	res("sigqueue", sigqueue(getpid(), SIGRTMIN, v));
	out("handler: signo ok %d code %d value %d pid ok %d\n", h_signo == SIGRTMIN, h_code, h_val, h_pid_ok);

	/* rt_sigqueueinfo's si_code rules. */
	pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	memset(&si, 0, sizeof si);
	si.si_code = SI_USER;
	res("rt_sigqueueinfo SI_USER other", syscall(SYS_rt_sigqueueinfo, pid, SIGUSR1, &si));
	si.si_code = SI_TKILL;
	res("rt_sigqueueinfo SI_TKILL other", syscall(SYS_rt_sigqueueinfo, pid, SIGUSR1, &si));
	si.si_code = SI_KERNEL;
	res("rt_sigqueueinfo SI_KERNEL other", syscall(SYS_rt_sigqueueinfo, pid, SIGUSR1, &si));
	si.si_code = SI_QUEUE;
	res("rt_sigqueueinfo SI_QUEUE other sig 0", syscall(SYS_rt_sigqueueinfo, pid, 0, &si));
	res("rt_sigqueueinfo bad signal", syscall(SYS_rt_sigqueueinfo, pid, 65, &si));
	res("rt_sigqueueinfo no such pid", syscall(SYS_rt_sigqueueinfo, 99999, SIGUSR1, &si));
	res("rt_sigqueueinfo bad pointer", syscall(SYS_rt_sigqueueinfo, pid, SIGUSR1, (void *)8));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	si.si_code = SI_USER;
	si.si_value.sival_int = 77;
	h_code = 0;
	res("rt_sigqueueinfo SI_USER self", syscall(SYS_rt_sigqueueinfo, getpid(), SIGRTMIN, &si));
	out("handler: code %d value %d\n", h_code, h_val);
	si.si_code = SI_QUEUE;
	si.si_value.sival_int = 88;
	si.si_pid = getpid();
	res("rt_tgsigqueueinfo self", syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGRTMIN, &si));
	out("handler: code %d value %d pid ok %d\n", h_code, h_val, h_pid_ok);
	res("rt_tgsigqueueinfo tgid 0", syscall(SYS_rt_tgsigqueueinfo, 0, gettid(), SIGRTMIN, &si));
	res("rt_tgsigqueueinfo wrong tgid", syscall(SYS_rt_tgsigqueueinfo, getpid() + 1000, gettid(), SIGRTMIN, &si));

	res("restart_syscall", syscall(SYS_restart_syscall));
	return 0;
}
