/* difftest.h: helpers for the differential test programs, which run both
 * natively (chroot + new PID namespace) and in moat; their outputs must
 * match. Output goes through write(2) unbuffered, so fork never
 * duplicates a stdio buffer. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void out(const char *fmt, ...) {
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 1)
		n = sizeof buf - 1;
	if (write(1, buf, n) < 0)
		_exit(99);
}

/* res prints a call's result: the value, or -1 and the errno's name. */
static void res_(const char *what, long r) {
	if (r < 0)
		out("%s = -1 %s\n", what, strerrorname_np(errno));
	else
		out("%s = %ld\n", what, r);
}
#define res(what, r) res_(what, (long)(r))
