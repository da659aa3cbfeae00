/* tty_jobs.c: controlling terminals and job control on a pty: TIOCSCTTY
 * rules, background reads (SIGTTIN) and writes with TOSTOP and termios
 * changes (SIGTTOU), tcsetpgrp from the background, TIOCNOTTY. Signals
 * are caught or ignored, never left to stop anyone. A session leader
 * child owns the terminal; its child in a group of its own is the
 * background job; each waits for the one below. */
#include "difftest.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

static volatile sig_atomic_t got;
static void on_sig(int sig) { got = sig; }

static void catch(int sig, void (*h)(int)) {
	struct sigaction sa = {0};
	sa.sa_handler = h; /* no SA_RESTART: an interrupted call fails */
	sigaction(sig, &sa, 0);
}

static void background(int s) {
	char b[8];
	catch(SIGTTIN, on_sig);
	got = 0;
	res("bg read, SIGTTIN caught", read(s, b, sizeof b));
	out("got %s\n", got ? strsignal(got) : "nothing");
	catch(SIGTTIN, SIG_IGN);
	res("bg read, SIGTTIN ignored", read(s, b, sizeof b));
	res("bg write, no TOSTOP", write(s, "w", 1));
	struct termios t;
	tcgetattr(s, &t);
	catch(SIGTTOU, on_sig);
	got = 0;
	res("bg tcsetattr, SIGTTOU caught", tcsetattr(s, TCSANOW, &t));
	out("got %s\n", got ? strsignal(got) : "nothing");
	catch(SIGTTOU, SIG_IGN);
	t.c_lflag |= TOSTOP;
	res("bg tcsetattr TOSTOP, SIGTTOU ignored", tcsetattr(s, TCSANOW, &t));
	res("bg write TOSTOP, SIGTTOU ignored", write(s, "x", 1));
	catch(SIGTTOU, on_sig);
	got = 0;
	res("bg write TOSTOP, SIGTTOU caught", write(s, "y", 1));
	out("got %s\n", got ? strsignal(got) : "nothing");
	res("bg TIOCSCTTY (not leader)", ioctl(s, TIOCSCTTY, 0));
	catch(SIGTTOU, SIG_IGN);
	res("bg tcsetpgrp self, SIGTTOU ignored", tcsetpgrp(s, getpgrp()));
	out("fg is me %d\n", tcgetpgrp(s) == getpgrp());
	res("fg write TOSTOP", write(s, "z", 1));
}

static void leader(void) {
	setsid();
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	unlockpt(m);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY);
	res("tcgetpgrp before TIOCSCTTY", tcgetpgrp(s));
	int ro = open(ptsname(m), O_RDONLY | O_NOCTTY);
	res("TIOCSCTTY", ioctl(s, TIOCSCTTY, 0));
	res("TIOCSCTTY again", ioctl(ro, TIOCSCTTY, 0));
	out("fg is me %d sid ok %d\n", tcgetpgrp(s) == getpgrp(), tcgetsid(s) == getsid(0));
	int m2 = posix_openpt(O_RDWR | O_NOCTTY);
	unlockpt(m2);
	int s2 = open(ptsname(m2), O_RDWR | O_NOCTTY);
	res("TIOCSCTTY second terminal", ioctl(s2, TIOCSCTTY, 0));
	res("tcgetpgrp second terminal", tcgetpgrp(s2));
	res("TIOCNOTTY second terminal", ioctl(s2, TIOCNOTTY));
	res("TIOCSTI-free TIOCGSID", tcgetsid(s) > 0 ? 0 : -1);
	int sync[2];
	pipe(sync);
	pid_t bg = fork();
	if (bg == 0) {
		setpgid(0, 0);
		close(sync[1]);
		char c;
		read(sync[0], &c, 1);
		background(s);
		_exit(0);
	}
	setpgid(bg, bg);
	close(sync[0]);
	write(sync[1], "g", 1);
	int st;
	waitpid(bg, &st, 0);
	out("bg status %x\n", st);
	/* The native kernel hands output to the master asynchronously:
	 * collect the three bytes (a poll timeout only as a safety net). */
	char b[16];
	int n = 0;
	while (n < 3) {
		struct pollfd p = {m, POLLIN, 0};
		if (poll(&p, 1, 5000) <= 0)
			break;
		int r = read(m, b + n, sizeof b - n);
		if (r <= 0)
			break;
		n += r;
	}
	out("master got %d bytes\n", n);
	res("tcgetpgrp is bg", tcgetpgrp(s) == bg ? 0 : -1);
	catch(SIGHUP, on_sig);
	catch(SIGCONT, on_sig);
	res("TIOCNOTTY", ioctl(s, TIOCNOTTY));
	res("tcgetpgrp after TIOCNOTTY", tcgetpgrp(s));
	res("open /dev/tty after TIOCNOTTY", open("/dev/tty", O_RDWR));
	_exit(0);
}

int main(void) {
	pid_t c = fork();
	if (c == 0)
		leader();
	int st;
	waitpid(c, &st, 0);
	out("leader status %x\n", st);
	/* A terminal of another session cannot be taken without force. */
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	unlockpt(m);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY);
	int sync[2], back[2];
	pipe(sync);
	pipe(back);
	c = fork();
	if (c == 0) {
		setsid();
		ioctl(s, TIOCSCTTY, 0);
		write(back[1], "k", 1);
		char x;
		read(sync[0], &x, 1);
		_exit(0);
	}
	char x;
	read(back[0], &x, 1);
	res("TIOCSCTTY of another session's terminal", ioctl(s, TIOCSCTTY, 0));
	res("TIOCSCTTY steal as root", ioctl(s, TIOCSCTTY, 1));
	out("sid is mine %d\n", tcgetsid(s) == getsid(0));
	write(sync[1], "q", 1);
	waitpid(c, &st, 0);
	out("child status %x\n", st);
	return 0;
}
