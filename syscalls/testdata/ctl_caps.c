/* ctl_caps.c: capability-based permission checks: CAP_DAC_OVERRIDE,
 * CAP_DAC_READ_SEARCH, CAP_CHOWN, CAP_FOWNER, CAP_FSETID dropped with
 * capset, the fs capabilities following setfsuid, the bounding set, and
 * execve's capability rules for root and others. Starts as root (PID 1)
 * with /secret (root, 0600) and a tmpfs on /tmp; runs natively and in
 * moat, outputs must match. */
#include "difftest.h"
#include <fcntl.h>
#include <linux/capability.h>
#include <stdint.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static struct __user_cap_data_struct d[2];

static void get(void) {
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	if (syscall(SYS_capget, &h, d) < 0)
		out("capget -1 %s\n", strerrorname_np(errno));
}

/* drop removes cap from the effective and permitted sets. */
static void drop(int cap) {
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	get();
	d[cap / 32].effective &= ~(1u << (cap % 32));
	d[cap / 32].permitted &= ~(1u << (cap % 32));
	if (syscall(SYS_capset, &h, d) < 0)
		out("capset -1 %s\n", strerrorname_np(errno));
}

static void show(const char *what) {
	get();
	out("%s: eff %08x perm %08x inh %08x\n", what, d[0].effective & 0x3fff, d[0].permitted & 0x3fff,
	    d[0].inheritable & 0x3fff);
}

static void try_open(const char *what, const char *path, int flags) {
	int fd = open(path, flags);
	out("%s: %s\n", what, fd >= 0 ? "ok" : strerrorname_np(errno));
	if (fd >= 0)
		close(fd);
}

static void dac(void) {
	int fd = open("/tmp/noperm", O_CREAT | O_WRONLY, 0);
	if (fd < 0)
		out("create noperm -1 %s\n", strerrorname_np(errno));
	else
		close(fd);
	mkdir("/tmp/d", 0);
	try_open("root read mode 0", "/tmp/noperm", O_RDONLY);
	try_open("root write mode 0", "/tmp/noperm", O_WRONLY);
	out("root search dir 0: %s\n", access("/tmp/d/x", F_OK) == 0 ? "ok" : strerrorname_np(errno));
	drop(CAP_DAC_OVERRIDE);
	show("no DAC_OVERRIDE");
	try_open("read", "/tmp/noperm", O_RDONLY);
	try_open("write", "/tmp/noperm", O_WRONLY);
	out("search dir 0: %s\n", access("/tmp/d/x", F_OK) == 0 ? "ok" : strerrorname_np(errno));
	res("create in dir 0", open("/tmp/d/x", O_CREAT | O_WRONLY, 0644));
	drop(CAP_DAC_READ_SEARCH);
	try_open("read without DAC_READ_SEARCH", "/tmp/noperm", O_RDONLY);
	out("search dir 0: %s\n", access("/tmp/d/x", F_OK) == 0 ? "ok" : strerrorname_np(errno));
	try_open("own 0600 file", "/secret", O_RDONLY);
}

static void owner(void) {
	int fd = open("/tmp/f", O_CREAT | O_WRONLY, 0644);
	close(fd);
	res("chown with CAP_CHOWN", chown("/tmp/f", 1000, 1000));
	res("chmod other's with CAP_FOWNER", chmod("/tmp/f", 0600));
	drop(CAP_FOWNER);
	res("chmod other's without CAP_FOWNER", chmod("/tmp/f", 0644));
	drop(CAP_CHOWN);
	fd = open("/tmp/g", O_CREAT | O_WRONLY, 0644);
	close(fd);
	res("chown own file without CAP_CHOWN", chown("/tmp/g", 1000, -1));
	res("chgrp own file to other group", chown("/tmp/g", -1, 1234));
	res("chmod setgid, group not mine", chmod("/tmp/f", 02755));
	drop(CAP_FSETID);
	fd = open("/tmp/h", O_CREAT | O_WRONLY, 0644);
	close(fd);
	res("chmod setgid own file, own group", chmod("/tmp/h", 02755));
	struct stat st;
	stat("/tmp/h", &st);
	out("mode %o\n", st.st_mode & 07777);
}

static void fsuid(void) {
	setfsuid(1000);
	show("fsuid 1000");
	try_open("fsuid 1000 read secret", "/secret", O_RDONLY);
	setfsuid(0);
	show("fsuid 0");
	try_open("fsuid 0 read secret", "/secret", O_RDONLY);
}

static void nonroot(void) {
	res("setresuid 1000", setresuid(1000, 1000, 1000));
	show("uid 1000");
	try_open("uid 1000 read secret", "/secret", O_RDONLY);
}

static void keepcaps(void) {
	prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
	res("setresuid 1000 keepcaps", setresuid(1000, 1000, 1000));
	show("kept");
	char *argv[] = {"ctl_caps", "show", NULL};
	execv("/ctl_caps", argv);
}

static void exec_root(void) {
	drop(CAP_DAC_OVERRIDE);
	show("before exec");
	char *argv[] = {"ctl_caps", "show", NULL};
	execv("/ctl_caps", argv);
}

static void exec_bounding(void) {
	res("bset drop", prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0));
	drop(CAP_DAC_OVERRIDE);
	char *argv[] = {"ctl_caps", "show", NULL};
	execv("/ctl_caps", argv);
}

static void exec_nnp(void) {
	drop(CAP_DAC_OVERRIDE);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	char *argv[] = {"ctl_caps", "show", NULL};
	execv("/ctl_caps", argv);
}

static void child(const char *name, void (*fn)(void)) {
	pid_t c = fork();
	if (c == 0) {
		fn();
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	out("%s: status %d\n", name, st);
}

int main(int argc, char **argv) {
	if (argc > 1) {
		show("after exec");
		out("keepcaps after exec %d\n", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
		return 0;
	}
	child("dac", dac);
	child("owner", owner);
	child("fsuid", fsuid);
	child("nonroot", nonroot);
	child("keepcaps", keepcaps);
	child("exec_root", exec_root);
	child("exec_bounding", exec_bounding);
	child("exec_nnp", exec_nnp);
	return 0;
}
