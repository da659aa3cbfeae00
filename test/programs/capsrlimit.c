/* capsrlimit prints the Cap* lines of /proc/self/status, what capget
 * and prctl(PR_CAPBSET_READ) say, and RLIMIT_NOFILE: the e2e test
 * checks the spec's process.capabilities and process.rlimits reached
 * the container's init. */
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (f == NULL) {
		perror("open /proc/self/status");
		return 1;
	}
	char line[256];
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "Cap", 3) == 0)
			fputs(line, stdout);
	}
	fclose(f);

	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) != 0) {
		perror("capget");
		return 1;
	}
	printf("capget eff=%08x%08x prm=%08x%08x inh=%08x%08x\n",
	       d[1].effective, d[0].effective, d[1].permitted, d[0].permitted,
	       d[1].inheritable, d[0].inheritable);
	printf("bset CAP_CHOWN=%d CAP_SYS_ADMIN=%d\n",
	       prctl(PR_CAPBSET_READ, CAP_CHOWN, 0, 0, 0),
	       prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0));
	printf("ambient CAP_KILL=%d\n",
	       prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0));

	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		perror("getrlimit");
		return 1;
	}
	printf("nofile=%llu/%llu\n", (unsigned long long)rl.rlim_cur,
	       (unsigned long long)rl.rlim_max);
	return 0;
}
