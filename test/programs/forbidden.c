/* forbidden TARGET: calls system calls that are outside moat's table or
 * refused by it, each with arguments chosen so that even a call that
 * wrongly reached the host kernel would do no harm (bad flags, bogus file
 * system types, NULL images). Every line must report an error; the test
 * checks the host's mount table separately. TARGET is a directory the
 * mount attempt aims at. Never run natively: it is meant for sandboxes. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

static void call(const char *what, long rc)
{
	printf("%s: %s\n", what, rc < 0 ? errname(errno) : "SUCCEEDED");
}

int main(int argc, char **argv)
{
	const char *target = argc > 1 ? argv[1] : "/";
	char attr[128] = {0};

	call("mount", syscall(SYS_mount, "none", target, "tmpfs", 0L, "size=1m"));
	call("umount2", syscall(SYS_umount2, target, MNT_DETACH));
	call("ptrace(TRACEME)", syscall(SYS_ptrace, PTRACE_TRACEME, 0L, 0L, 0L));
	call("ptrace(ATTACH self)", syscall(SYS_ptrace, PTRACE_ATTACH, (long)getpid(), 0L, 0L));
	call("bpf", syscall(SYS_bpf, 5 /* BPF_PROG_LOAD */, attr, sizeof attr));
	call("kexec_load", syscall(SYS_kexec_load, 0L, 0L, NULL, 0xdead0000L));
	call("init_module", syscall(SYS_init_module, NULL, 0L, ""));
	call("finit_module", syscall(SYS_finit_module, -1, "", 0L));
	call("pivot_root", syscall(SYS_pivot_root, target, target));
	call("chroot", syscall(SYS_chroot, target));
	call("unshare(NEWNS)", syscall(SYS_unshare, (long)CLONE_NEWNS));
	return 0;
}
