/* creds.c: user and group IDs, groups, capabilities and the permission
 * checks that follow them. Starts as root; runs natively (on a read-only
 * bind mount of its root) and in moat; outputs must match. Expects
 * /secret (root, 0600) and /public (root, 0644). */
#include "difftest.h"
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void ids(const char *what) {
	uid_t r, e, s;
	gid_t gr, ge, gs;
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	out("%s: uid %d %d %d gid %d %d %d fsuid %d fsgid %d\n", what, r, e, s, gr, ge, gs,
	    setfsuid(-1), setfsgid(-1));
}

/* caps prints whether a few capabilities are effective / permitted. */
static void caps(const char *what) {
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0) {
		out("%s: capget -1 %s\n", what, strerrorname_np(errno));
		return;
	}
	out("%s: setuid eff=%d perm=%d dac eff=%d perm=%d\n", what, !!(d[0].effective & (1 << CAP_SETUID)),
	    !!(d[0].permitted & (1 << CAP_SETUID)), !!(d[0].effective & (1 << CAP_DAC_OVERRIDE)),
	    !!(d[0].permitted & (1 << CAP_DAC_OVERRIDE)));
}

static void files(const char *what) {
	int fd;
	fd = open("/secret", O_RDONLY);
	res_(what, fd);
	if (fd >= 0)
		close(fd);
	fd = open("/public", O_RDONLY);
	out("  public read: %s\n", fd >= 0 ? "ok" : strerrorname_np(errno));
	if (fd >= 0)
		close(fd);
	fd = open("/public", O_WRONLY);
	out("  public write: %s\n", fd >= 0 ? "ok" : strerrorname_np(errno));
	if (fd >= 0)
		close(fd);
	out("  access secret R_OK: %s\n", access("/secret", R_OK) == 0 ? "ok" : strerrorname_np(errno));
}

static void groups(void) {
	gid_t set[] = {30, 10, 20}, got[8];
	res("setgroups", setgroups(3, set));
	int n = getgroups(8, got);
	out("getgroups=%d:", n);
	for (int i = 0; i < n; i++)
		out(" %d", got[i]);
	out("\n");
	res("getgroups too small", getgroups(1, got));
	res("getgroups count", getgroups(0, NULL));
	res("setgroups huge", setgroups(70000, set));
	res("setgroups efault", setgroups(2, (gid_t *)8));
}

static void capabilities(void) {
	struct __user_cap_header_struct h = {0x12345678, 0};
	struct __user_cap_data_struct d[2];
	res("capget bad version", syscall(SYS_capget, &h, d));
	out("version written back=%#x\n", h.version);
	h.version = 0x12345678;
	res("capget probe", syscall(SYS_capget, &h, NULL));
	h.version = _LINUX_CAPABILITY_VERSION_3;
	h.pid = -1;
	res("capget pid -1", syscall(SYS_capget, &h, d));
	h.pid = 0;
	res("capset other pid", ({
		    struct __user_cap_header_struct o = {_LINUX_CAPABILITY_VERSION_3, 12345};
		    syscall(SYS_capset, &o, d);
	    }));
	static char longname[80];
	res("sethostname too long", sethostname(longname, 65));
}

static int gate[2];

/* thread_ids waits for the main thread's setresuid, then reports the ids
 * it sees itself: glibc applies set*id to every thread (SIGSETXID). */
static void *thread_ids(void *arg) {
	char c;
	(void)arg;
	read(gate[0], &c, 1);
	out("thread: uid %ld euid %ld\n", syscall(SYS_getuid), syscall(SYS_geteuid));
	return NULL;
}

static void threads(void) {
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t th;
		pipe(gate);
		pthread_create(&th, NULL, thread_ids, NULL);
		res("setresuid with a thread", setresuid(1000, 1000, 1000));
		write(gate[1], "x", 1);
		pthread_join(th, NULL);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	out("threads child exit %d\n", WEXITSTATUS(status));
}

int main(void) {
	ids("start");
	caps("root");
	groups();
	capabilities();
	files("root secret");

	res("setfsuid 1234", setfsuid(1234));
	ids("fsuid");
	caps("fsuid 1234");
	files("fsuid secret");
	setfsuid(0);

	res("seteuid 1000", seteuid(1000));
	ids("euid");
	caps("euid 1000");
	files("euid secret");
	res("setgroups as euid 1000", setgroups(0, NULL));
	res("seteuid 0", seteuid(0));
	caps("back");

	pid_t pid = fork();
	if (pid == 0) {
		res("setresgid", setresgid(1000, 1000, 1000));
		res("setgroups 0", setgroups(0, NULL));
		res("setresuid", setresuid(1000, 1000, 1000));
		ids("user");
		caps("user");
		files("user secret");
		res("setuid 0", setuid(0));
		res("setuid -1", setuid(-1));
		res("setuid self", setuid(1000));
		res("setreuid 0", setreuid(0, -1));
		res("setresuid 0", setresuid(-1, -1, 0));
		res("setgid 0", setgid(0));
		res("setgroups", setgroups(0, NULL));
		res("setfsuid 0 (old)", setfsuid(0));
		ids("after refusals");
		res("sethostname", sethostname("x", 1));
		res("setdomainname", setdomainname("x", 1));
		struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
		struct __user_cap_data_struct d[2] = {{1 << CAP_SETUID, 1 << CAP_SETUID, 0}, {0, 0, 0}};
		res("capset gain", syscall(SYS_capset, &h, d));
		/* Signals to root's processes: EPERM, but SIGCONT within the
		 * session; a group or kill(-1) skips what it may not signal. */
		res("kill root 0", kill(getppid(), 0));
		res("kill root SIGTERM", kill(getppid(), SIGTERM));
		res("kill root SIGCONT", kill(getppid(), SIGCONT));
		res("tkill root", syscall(SYS_tkill, getppid(), 0));
		res("tgkill root", syscall(SYS_tgkill, getppid(), getppid(), 0));
		res("kill own group", kill(0, 0));
		res("kill -1", kill(-1, 0));
		res("kill self", kill(getpid(), 0));
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	out("child exit %d\n", WEXITSTATUS(status));

	/* Real uid 1000, saved 0: back to root through the saved uid. */
	pid = fork();
	if (pid == 0) {
		res("setresuid 1000 1000 0", setresuid(1000, 1000, 0));
		caps("saved root");
		res("setuid 0 via saved", setuid(0));
		ids("regained");
		caps("regained");
		res("setreuid 2000 -1", setreuid(2000, -1));
		ids("setreuid");
		_exit(0);
	}
	waitpid(pid, &status, 0);
	out("child exit %d\n", WEXITSTATUS(status));

	/* Dropping a capability with capset. */
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	syscall(SYS_capget, &h, d);
	d[0].effective &= ~(1 << CAP_DAC_OVERRIDE);
	d[0].permitted &= ~(1 << CAP_DAC_OVERRIDE);
	res("capset drop", syscall(SYS_capset, &h, d));
	caps("dropped");
	d[0].effective |= 1 << CAP_DAC_OVERRIDE;
	res("capset regain", syscall(SYS_capset, &h, d));
	threads();
	res("umask", umask(027));
	res("umask again", umask(022));
	return 0;
}
