/* uname: prints the utsname fields, one per line, and the gethostname
 * view of the node name; the test compares them with what moat promises
 * (its own kernel identity, the spec's hostname). */
#include <stdio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common.h"

int main(void)
{
	struct utsname u;
	if (uname(&u) != 0) {
		printf("uname: %s\n", errname(errno));
		return 1;
	}
	printf("sysname=%s\nnodename=%s\nrelease=%s\nversion=%s\nmachine=%s\n",
	       u.sysname, u.nodename, u.release, u.version, u.machine);
	char h[256];
	if (gethostname(h, sizeof h) == 0)
		printf("hostname=%s\n", h);
	return 0;
}
