/* proc_fp.c: a new process or thread starts with its parent's FP state
 * (x87 control word, MXCSR rounding mode, vector registers), as Linux
 * copies it on fork and clone. */
#include "difftest.h"
#include <fenv.h>
#include <math.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void report(const char *who) {
	unsigned int mxcsr;
	unsigned short cw;
	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	volatile double x = 1.5, y = -2.5;
	volatile long double lx = 2.5L;
	out("%s: downward=%d mxcsr=%#x cw=%#x rint(1.5)=%g rint(-2.5)=%g rintl(2.5)=%Lg\n", who,
	    fegetround() == FE_DOWNWARD, mxcsr, cw, rint(x), rint(y), rintl(lx));
}

static void *thread(void *arg) {
	report((const char *)arg);
	return NULL;
}

/* raw_fork forks with the fork system call directly, with xmm8 loaded
 * with v across it; it returns the pid and what xmm8 held afterwards. */
static long raw_fork(double v, double *after) {
	long pid;
	__asm__ volatile("movsd %[v], %%xmm8\n\t"
			 "mov $57, %%eax\n\t"
			 "syscall\n\t"
			 "movsd %%xmm8, %[after]\n\t"
			 : "=a"(pid), [after] "=m"(*after)
			 : [v] "m"(v)
			 : "rcx", "r11", "xmm8", "memory");
	return pid;
}

int main(void) {
	report("start");
	fesetround(FE_DOWNWARD);
	report("parent");

	int st;
	pid_t c = fork();
	if (c == 0) {
		report("fork child");
		_exit(0);
	}
	waitpid(c, &st, 0);

	pthread_t th;
	pthread_create(&th, NULL, thread, "thread");
	pthread_join(th, NULL);

	double after = 0;
	long pid = raw_fork(42.25, &after);
	if (pid == 0) {
		out("raw fork child: xmm8=%g\n", after);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	out("raw fork parent: xmm8=%g\n", after);

	fesetround(FE_TONEAREST);
	report("restored");
	return 0;
}
