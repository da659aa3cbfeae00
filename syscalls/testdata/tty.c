/* tty.c: pseudo-terminals and the line discipline: a devpts pair, the
 * pty ioctls, termios defaults and round trips, canonical editing and
 * echo, raw mode with VMIN/VTIME, output processing, a controlling
 * terminal and ^C, window size, hangups and errors. Runs as PID 1
 * leading session 1; the native run has a fresh devpts instance (so the
 * first pair is /dev/pts/0). Every read of the master collects an exact
 * byte count (the native kernel hands input to the line discipline
 * asynchronously), with a generous poll timeout only as a safety net. */
#include "difftest.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static void show(const char *what, const char *b, int n) {
	char esc[256];
	int k = 0;
	for (int i = 0; i < n && k < (int)sizeof esc - 5; i++) {
		unsigned char c = b[i];
		if (c >= 32 && c < 127 && c != '\\')
			esc[k++] = c;
		else
			k += snprintf(esc + k, sizeof esc - k, "\\%03o", c);
	}
	esc[k] = 0;
	out("%s: %d \"%s\"\n", what, n, esc);
}

/* collect reads fd until want bytes came (or 5 s pass without data). */
static void collect(const char *what, int fd, int want) {
	char b[256];
	int n = 0;
	while (n < want) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 5000) <= 0)
			break;
		int r = read(fd, b + n, sizeof b - n);
		if (r <= 0)
			break;
		n += r;
	}
	show(what, b, n);
}

static void slave_read(const char *what, int s) {
	char b[256];
	int r = read(s, b, sizeof b);
	if (r < 0)
		res(what, r);
	else
		show(what, b, r);
}

static void attrs(const char *what, int fd) {
	struct termios t;
	if (tcgetattr(fd, &t) < 0) {
		res(what, -1);
		return;
	}
	out("%s: i=%o o=%o c=%o l=%o cc=", what, t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag);
	for (int i = 0; i < 17; i++)
		out("%d,", t.c_cc[i]);
	out("\n");
}

static volatile sig_atomic_t got;
static void on_sig(int sig) { got = sig; }

int main(void) {
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	res("posix_openpt", m >= 0 ? 0 : -1);
	res("grantpt", grantpt(m));
	int n = -1, lk = -1;
	res("TIOCGPTN", ioctl(m, TIOCGPTN, &n));
	out("ptn %d ptsname %s\n", n, ptsname(m));
	res("TIOCGPTLCK", ioctl(m, TIOCGPTLCK, &lk));
	out("locked %d\n", lk);
	res("open locked slave", open("/dev/pts/0", O_RDWR | O_NOCTTY));
	res("unlockpt", unlockpt(m));
	ioctl(m, TIOCGPTLCK, &lk);
	out("locked %d\n", lk);

	struct stat st;
	res("stat /dev/pts/0", stat("/dev/pts/0", &st));
	out("slave mode %o uid %d gid %d rdev %d:%d\n", st.st_mode, st.st_uid, st.st_gid,
	    major(st.st_rdev), minor(st.st_rdev));
	res("stat /dev/pts/ptmx", stat("/dev/pts/ptmx", &st));
	out("ptmx mode %o rdev %d:%d\n", st.st_mode, major(st.st_rdev), minor(st.st_rdev));

	int s = open("/dev/pts/0", O_RDWR | O_NOCTTY);
	res("open slave", s >= 0 ? 0 : -1);
	out("isatty master %d slave %d stdout %d\n", isatty(m), isatty(s), isatty(1));
	res("TIOCGPTN on slave", ioctl(s, TIOCGPTN, &n));
	attrs("slave termios", s);
	attrs("master termios", m);
	int pg = -1;
	res("TIOCGPGRP master", ioctl(m, TIOCGPGRP, &pg));
	out("pgrp %d\n", pg);
	res("tcgetpgrp slave (not ctty)", tcgetpgrp(s));
	res("tcsetpgrp slave (not ctty)", tcsetpgrp(s, 1));
	res("tcgetsid slave (not ctty)", tcgetsid(s));
	res("open /dev/tty (no ctty)", open("/dev/tty", O_RDWR));
	int ld = -1;
	res("TIOCGETD", ioctl(s, TIOCGETD, &ld));
	out("ldisc %d\n", ld);
	ld = 29;
	res("TIOCSETD 29", ioctl(s, TIOCSETD, &ld));

	/* Canonical mode: erase, kill, newline. */
	write(m, "hello\177o wor\025xy\n", 15);
	slave_read("canon read", s);
	collect("echo", m, 22);
	write(m, "abc\004", 4);
	slave_read("eof with data", s);
	collect("echo", m, 3);
	write(m, "\004", 1);
	slave_read("eof alone", s);
	write(m, "q\r", 2);
	slave_read("icrnl", s);
	collect("echo", m, 3);
	write(m, "one two\027x\n", 10);
	slave_read("werase", s);
	collect("echo", m, 19);
	write(m, "\026\025\n", 3);
	slave_read("lnext", s);
	collect("echo", m, 6);
	write(m, "\001\n", 2);
	slave_read("ctl", s);
	collect("echoctl", m, 4);
	int q = -1;
	write(m, "pending", 7);
	collect("echo", m, 7);
	res("FIONREAD slave partial line", ioctl(s, FIONREAD, &q));
	out("queued %d\n", q);
	write(m, "\n", 1);
	collect("echo", m, 2);
	ioctl(s, FIONREAD, &q);
	out("queued %d\n", q);
	slave_read("line", s);
	fcntl(s, F_SETFL, O_NONBLOCK);
	slave_read("nonblocking empty", s);
	fcntl(s, F_SETFL, 0);

	/* Output processing. */
	write(s, "a\nb\n", 4);
	collect("onlcr", m, 6);
	res("FIONREAD master", ioctl(m, FIONREAD, &q));

	/* Raw mode. */
	struct termios t;
	tcgetattr(s, &t);
	struct termios saved = t;
	t.c_lflag &= ~(ICANON | ECHO);
	t.c_oflag &= ~OPOST;
	t.c_cc[VMIN] = 3;
	t.c_cc[VTIME] = 0;
	res("tcsetattr raw", tcsetattr(s, TCSANOW, &t));
	attrs("raw termios", s);
	write(m, "xyz", 3);
	slave_read("vmin 3", s);
	write(s, "a\nb", 3);
	collect("no opost", m, 3);
	t.c_cc[VMIN] = 0;
	tcsetattr(s, TCSANOW, &t);
	slave_read("vmin 0 vtime 0", s);
	t.c_cc[VTIME] = 1;
	tcsetattr(s, TCSANOW, &t);
	slave_read("vmin 0 vtime 1", s);
	write(m, "\r", 1);
	t.c_cc[VMIN] = 1;
	tcsetattr(s, TCSANOW, &t);
	slave_read("icrnl raw", s);
	t.c_iflag |= IGNCR;
	tcsetattr(s, TCSANOW, &t);
	write(m, "r\r\n", 3);
	t.c_cc[VMIN] = 2;
	tcsetattr(s, TCSANOW, &t);
	slave_read("igncr", s);
	res("tcsetattr flush", tcsetattr(s, TCSAFLUSH, &saved));
	res("tcflush", tcflush(s, TCIOFLUSH));
	res("tcflush bad", tcflush(s, 7));
	res("tcflow", tcflow(s, TCOON));
	res("tcdrain", tcdrain(s));
	res("tcsendbreak", tcsendbreak(s, 0));

	/* Window size. */
	struct winsize w = {24, 80, 0, 0}, w2;
	res("TIOCSWINSZ master", ioctl(m, TIOCSWINSZ, &w));
	res("TIOCGWINSZ slave", ioctl(s, TIOCGWINSZ, &w2));
	out("winsize %d %d\n", w2.ws_row, w2.ws_col);

	/* A controlling terminal and ^C, in a child leading a new session. */
	int sync[2];
	pipe(sync);
	pid_t c = fork();
	if (c == 0) {
		close(sync[0]);
		setsid();
		signal(SIGINT, on_sig);
		signal(SIGWINCH, on_sig);
		sigset_t block, old;
		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGWINCH);
		sigprocmask(SIG_BLOCK, &block, &old);
		int cs = open("/dev/pts/0", O_RDWR);
		out("child: tcgetpgrp==getpgrp %d tcgetsid==getsid %d\n", tcgetpgrp(cs) == getpgrp(),
		    tcgetsid(cs) == getsid(0));
		res("child: TIOCSCTTY again", ioctl(cs, TIOCSCTTY, 0));
		int tty = open("/dev/tty", O_RDWR);
		out("child: /dev/tty %s isatty %d\n", tty >= 0 ? "ok" : strerrorname_np(errno), isatty(tty));
		res("child: tcsetpgrp other session", tcsetpgrp(cs, 1));
		res("child: tcsetpgrp none", tcsetpgrp(cs, 9999));
		res("child: tcsetpgrp own", tcsetpgrp(cs, getpgrp()));
		write(sync[1], "r", 1);
		while (got != SIGINT)
			sigsuspend(&old);
		out("child: got SIGINT\n");
		write(sync[1], "w", 1);
		got = 0;
		while (got != SIGWINCH)
			sigsuspend(&old);
		out("child: got SIGWINCH\n");
		_exit(0);
	}
	close(sync[1]);
	char r;
	read(sync[0], &r, 1);
	res("TIOCGPGRP master with ctty", ioctl(m, TIOCGPGRP, &pg));
	out("fg is child %d\n", pg == c);
	write(m, "\003", 1);
	read(sync[0], &r, 1);
	collect("intr echo", m, 2);
	w.ws_row = 50;
	ioctl(m, TIOCSWINSZ, &w);
	int status;
	waitpid(c, &status, 0);
	out("child status %x\n", status);

	/* TIOCGPTPEER, then hangups. */
	int p = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	out("TIOCGPTPEER isatty %d\n", isatty(p));
	close(p);
	close(s);
	char b[8];
	res("master read, slave closed", read(m, b, sizeof b));
	struct pollfd pf = {m, POLLIN, 0};
	poll(&pf, 1, 0);
	out("master poll %x\n", pf.revents);

	int m2 = posix_openpt(O_RDWR | O_NOCTTY);
	unlockpt(m2);
	out("second %s\n", ptsname(m2));
	int s2 = open(ptsname(m2), O_RDWR | O_NOCTTY);
	close(m2);
	res("slave read, master closed", read(s2, b, sizeof b));
	res("slave write, master closed", write(s2, "x", 1));
	res("slave TCGETS, master closed", tcgetattr(s2, &t));
	pf.fd = s2;
	pf.events = POLLIN | POLLOUT;
	poll(&pf, 1, 0);
	out("slave poll %x\n", pf.revents);
	res("stat closed pair", stat("/dev/pts/1", &st));
	res("open closed pair", open("/dev/pts/1", O_RDWR | O_NOCTTY));
	int pp[2];
	pipe(pp);
	res("TCGETS on a pipe", tcgetattr(pp[0], &t));
	return 0;
}
