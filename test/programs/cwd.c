/* cwd ROOT: getcwd/chdir relative to ROOT (whose absolute path differs
 * between the host and a bundle, so only the part below it is printed). */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static char root[PATH_MAX];

static void pwd(const char *what)
{
	char buf[PATH_MAX];
	if (getcwd(buf, sizeof buf) == NULL) {
		printf("%s: getcwd %s\n", what, errname(errno));
		return;
	}
	size_t n = strlen(root);
	if (strcmp(root, "/") == 0)
		n = 0;
	if (strncmp(buf, root, n) != 0) {
		printf("%s: outside ROOT\n", what);
		return;
	}
	/* With ROOT "/", the cwd "/" is ROOT itself, not "ROOT/". */
	printf("%s: ROOT%s\n", what, strcmp(buf + n, "/") == 0 ? "" : buf + n);
}

int main(int argc, char **argv)
{
	if (argc < 2 || chdir(argv[1]) != 0 || getcwd(root, sizeof root) == NULL) {
		perror("chdir");
		return 1;
	}
	pwd("start");
	report("chdir data", chdir("data"));
	pwd("after chdir data");
	report("chdir sub", chdir("sub"));
	pwd("after chdir sub");
	report("chdir ..", chdir(".."));
	pwd("after chdir ..");
	report("chdir ./sub/../sub/.", chdir("./sub/../sub/."));
	pwd("after chdir ./sub/../sub/.");
	report("chdir missing", chdir("missing"));
	report("chdir inner.txt", chdir("inner.txt"));
	report("chdir ''", chdir(""));
	pwd("after failed chdirs");
	report("chdir ../link", chdir("../link"));
	char small[2];
	errno = 0;
	printf("getcwd(size 2): %s\n", getcwd(small, sizeof small) ? "OK" : errname(errno));
	return 0;
}
