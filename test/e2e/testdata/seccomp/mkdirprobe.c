/* mkdirprobe: tries mkdir and getpid and prints what they return, for
 * the linux.seccomp e2e test (test/e2e/seccomp_test.go). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
	int r = mkdir("/probe-dir", 0755);
	printf("mkdir %s\n", r == 0 ? "ok" : strerrorname_np(errno));
	printf("getpid %d\n", getpid());
	printf("seccomp mode %d nnp %d\n", prctl(PR_GET_SECCOMP, 0, 0, 0, 0), prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	return 0;
}
