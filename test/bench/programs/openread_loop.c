/* openread_loop PATH N: N times open, read 4 KiB, close: the path walk
 * through the gofer plus two more calls. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	long n = atol(argv[2]);
	char buf[4096];
	for (long i = 0; i < n; i++) {
		int fd = open(argv[1], O_RDONLY);
		if (fd < 0)
			return 1;
		if (read(fd, buf, sizeof buf) < 0)
			return 1;
		close(fd);
	}
	return 0;
}
