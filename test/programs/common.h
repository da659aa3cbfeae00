/* Shared helpers for the programs that run inside moat sandboxes.
 *
 * Every program prints only what must be identical natively and under
 * moat: errno values are printed by name (strerror texts are locale and
 * libc dependent), and values that legitimately differ between runs
 * (addresses, random bytes) are printed as "present".
 */
#ifndef MOAT_TEST_COMMON_H
#define MOAT_TEST_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

static __attribute__((unused)) const char *errname(int e)
{
	switch (e) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case ENOEXEC: return "ENOEXEC";
	case EBADF: return "EBADF";
	case ECHILD: return "ECHILD";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EXDEV: return "EXDEV";
	case ENODEV: return "ENODEV";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case EMFILE: return "EMFILE";
	case ENOTTY: return "ENOTTY";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case ESPIPE: return "ESPIPE";
	case EROFS: return "EROFS";
	case ERANGE: return "ERANGE";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ENOSYS: return "ENOSYS";
	case ENOTEMPTY: return "ENOTEMPTY";
	case ELOOP: return "ELOOP";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return "E?";
	}
}

/* report prints "what: OK" when rc >= 0, else "what: ERRNO". */
static __attribute__((unused)) void report(const char *what, long rc)
{
	printf("%s: %s\n", what, rc < 0 ? errname(errno) : "OK");
}

#endif
