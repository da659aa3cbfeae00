/* ctl_vsyscall.c: the legacy vsyscall page (time, gettimeofday, getcpu
 * called at their fixed addresses), and with "int80" an int 0x80 from
 * 64-bit code. The vsyscall part runs natively and in moat, outputs must
 * match (where the host has vsyscall=none both fault alike); the int80
 * part runs in moat only, since Linux's answer depends on the host's IA32
 * emulation and moat always answers as a kernel without it. */
#include "difftest.h"
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static void on_segv(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	out("signal %d code %d addr %p\n", sig, si->si_code, si->si_addr);
	_exit(0);
}

int main(int argc, char **argv) {
	struct sigaction sa = {0};
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	if (argc > 1) {
		long r;
		__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
		out("int 0x80 returned %ld\n", r);
		return 1;
	}
	time_t (*vtime)(time_t *) = (void *)0xffffffffff600400;
	int (*vgettimeofday)(struct timeval *, void *) = (void *)0xffffffffff600000;
	long (*vgetcpu)(unsigned *, unsigned *, void *) = (void *)0xffffffffff600800;
	time_t saved = 0;
	time_t t = vtime(&saved);
	out("time plausible %d stored %d\n", t > 1600000000, t == saved);
	struct timeval tv = {0, 0};
	int r = vgettimeofday(&tv, NULL);
	out("gettimeofday = %d, not before time %d\n", r, tv.tv_sec >= t);
	unsigned cpu = 12345, node = 12345;
	long rc = vgetcpu(&cpu, &node, NULL);
	out("getcpu = %ld, cpu written %d\n", rc, cpu != 12345);
	return 0;
}
