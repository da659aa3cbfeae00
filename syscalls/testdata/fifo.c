/* fifo.c: named FIFOs on a tmpfs at /tmp: open rules (blocking for the
 * other end, ENXIO, O_RDWR), data, readiness and hangup, interrupted
 * opens. Run natively and in moat; outputs must match. */
#include "difftest.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static volatile sig_atomic_t got_signal;
static void on_signal(int sig) { got_signal = sig; }

static void nap(void) {
	struct timespec d = {0, 30 * 1000 * 1000};
	nanosleep(&d, NULL);
}

int main(void) {
	char buf[16];
	res("mkfifo", mkfifo("/tmp/f", 0666));
	res("mkfifo again", mkfifo("/tmp/f", 0666));
	res("open w nonblock, no reader", open("/tmp/f", O_WRONLY | O_NONBLOCK));
	int r = open("/tmp/f", O_RDONLY | O_NONBLOCK);
	res("open r nonblock", r);
	struct stat st;
	fstat(r, &st);
	out("fifo=%d mode=%o\n", S_ISFIFO(st.st_mode), st.st_mode & 0777);
	res("F_GETPIPE_SZ", fcntl(r, F_GETPIPE_SZ));
	struct pollfd p = {.fd = r, .events = POLLIN};
	res("poll before any writer", poll(&p, 1, 0));
	out("revents %#x\n", p.revents);
	res("read before any writer", read(r, buf, sizeof buf));
	int w = open("/tmp/f", O_WRONLY | O_NONBLOCK);
	res("open w nonblock", w);
	res("write", write(w, "data", 4));
	res("poll data", poll(&p, 1, 0));
	out("revents %#x\n", p.revents);
	close(w);
	res("poll hup", poll(&p, 1, 0));
	out("revents %#x\n", p.revents);
	res("read", read(r, buf, sizeof buf));
	res("read at EOF", read(r, buf, sizeof buf));
	close(r);

	int rw = open("/tmp/f", O_RDWR);
	res("open rdwr", rw);
	res("rdwr write", write(rw, "x", 1));
	res("rdwr read", read(rw, buf, 1));
	close(rw);

	/* A blocking writer waits for a reader, and the other way round. */
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open("/tmp/f", O_WRONLY);
		write(fd, "hi", 2);
		_exit(fd < 0);
	}
	nap();
	r = open("/tmp/f", O_RDONLY);
	res("open r blocking", r);
	res("read from child", read(r, buf, sizeof buf));
	int status;
	waitpid(pid, &status, 0);
	out("child exit %d\n", WEXITSTATUS(status));
	res("read after child", read(r, buf, sizeof buf));
	close(r);

	/* A signal cuts a blocked open short. */
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	pid_t parent = getpid();
	pid = fork();
	if (pid == 0) {
		nap();
		kill(parent, SIGUSR1);
		_exit(0);
	}
	res("open r interrupted", open("/tmp/f", O_RDONLY));
	out("signal=%d\n", got_signal);
	waitpid(pid, NULL, 0);

	/* With SA_RESTART the open goes on and meets the writer. */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	got_signal = 0;
	pid = fork();
	if (pid == 0) {
		nap();
		kill(parent, SIGUSR1);
		nap();
		/* O_RDWR never blocks, so a parent that wrongly gave up
		 * makes a difference, not a hang. */
		int fd = open("/tmp/f", O_RDWR);
		write(fd, "ok", 2);
		nap();
		_exit(0);
	}
	r = open("/tmp/f", O_RDONLY);
	out("open r restarted: %s signal=%d\n", r >= 0 ? "ok" : strerrorname_np(errno), got_signal);
	res("read", read(r, buf, sizeof buf));
	close(r);
	waitpid(pid, NULL, 0);
	res("unlink", unlink("/tmp/f"));
	return 0;
}
