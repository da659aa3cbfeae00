/* proc_threads.c: pthread_create/join with a mutex-protected counter,
 * futex wait/wake between threads, exit of a thread vs the group, exec
 * from a thread. */
#include "difftest.h"
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *adder(void *arg) {
	for (int i = 0; i < 20000; i++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
	}
	return arg;
}

static _Atomic uint32_t word;

static long futex(void *addr, int op, uint32_t val, struct timespec *ts) {
	return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

static void *waker(void *arg) {
	struct timespec ts = {0, 50000000};
	nanosleep(&ts, NULL);
	atomic_store(&word, 1);
	long n = futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL);
	return (void *)n;
}

static void *exiter(void *arg) {
	(void)arg;
	pthread_exit((void *)42);
}

static void *exec_thread(void *arg) {
	(void)arg;
	execve("/proc_threads", (char *[]){"proc_threads", "after-exec", NULL}, (char *[]){NULL});
	out("execve from a thread failed: %s\n", strerrorname_np(errno));
	_exit(1);
}

static void *sleeper(void *arg) {
	(void)arg;
	for (;;)
		pause();
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "after-exec") == 0) {
		out("after exec from a thread: pid==tid %d\n", getpid() == (pid_t)syscall(SYS_gettid));
		return 12;
	}
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, adder, (void *)(long)i);
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(th[i], &r);
		out("joined %d -> %ld\n", i, (long)r);
	}
	out("counter = %ld\n", counter);

	/* futex: a wait that finds another value, a timed-out wait, and a
	 * wait woken by another thread. */
	res("futex wait EAGAIN", futex(&word, FUTEX_WAIT_PRIVATE, 5, NULL));
	struct timespec ts = {0, 20000000};
	res("futex wait timeout", futex(&word, FUTEX_WAIT_PRIVATE, 0, &ts));
	pthread_t w;
	pthread_create(&w, NULL, waker, NULL);
	while (atomic_load(&word) == 0)
		futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL);
	void *woke;
	pthread_join(w, &woke);
	out("woken, waker woke %ld\n", (long)woke);
	/* A relative timeout of ~2^63 s waits (for ever), it does not
	 * wrap into one already past. */
	atomic_store(&word, 0);
	pthread_create(&w, NULL, waker, NULL);
	struct timespec forever = {INT64_MAX, 0};
	long fr = futex(&word, FUTEX_WAIT_PRIVATE, 0, &forever);
	int ferr = errno;
	pthread_join(w, &woke);
	out("futex huge timeout woken: %d\n", fr == 0 || (fr == -1 && ferr == EAGAIN));
	res("futex wake nobody", futex(&word, FUTEX_WAKE_PRIVATE, 10, NULL));
	res("futex bad op", futex(&word, 99, 0, NULL));
	res("futex unaligned", futex((char *)&word + 1, FUTEX_WAKE, 1, NULL));

	pthread_t e;
	void *er;
	pthread_create(&e, NULL, exiter, NULL);
	pthread_join(e, &er);
	out("pthread_exit value %ld\n", (long)er);

	/* A process with threads forks; the child has one thread. */
	pid_t c = fork();
	if (c == 0) {
		pthread_t t2;
		pthread_create(&t2, NULL, adder, NULL);
		pthread_join(t2, NULL);
		out("child counter = %ld\n", counter);
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	out("child exit %d\n", WEXITSTATUS(st));

	/* execve from a non-leader thread: the other threads go, the exec'ing
	 * thread takes the process's PID. */
	c = fork();
	if (c == 0) {
		pthread_t s1, ex;
		pthread_create(&s1, NULL, sleeper, NULL);
		pthread_create(&ex, NULL, exec_thread, NULL);
		for (;;)
			pause();
	}
	waitpid(c, &st, 0);
	out("exec-from-thread child exit %d\n", WEXITSTATUS(st));

	/* SIGKILL ends every thread of a process. */
	c = fork();
	if (c == 0) {
		pthread_t s1, s2;
		pthread_create(&s1, NULL, sleeper, NULL);
		pthread_create(&s2, NULL, sleeper, NULL);
		for (;;)
			pause();
	}
	struct timespec nap = {0, 50000000};
	nanosleep(&nap, NULL);
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
	out("threaded child killed by %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return 0;
}
