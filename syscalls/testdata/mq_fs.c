/* mq_fs.c: the mqueue file system at /dev/mqueue shows the queues:
 * listing, the QSIZE line, stat, unlink, creation by open(2). */
#include "difftest.h"
#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sys/stat.h>

int main(void) {
	mqd_t q = mq_open("/fsq", O_RDWR | O_CREAT, 0640, NULL);
	out("open ok %d\n", q >= 0);
	mq_send(q, "hello", 5, 1);
	mq_send(q, "hi", 2, 2);
	char buf[256];
	int fd = open("/dev/mqueue/fsq", O_RDONLY);
	int n = read(fd, buf, sizeof buf);
	out("read %d: %.*s", n, n, buf);
	close(fd);
	struct stat st;
	res("stat", stat("/dev/mqueue/fsq", &st));
	out("mode %o size %ld\n", st.st_mode, (long)st.st_size);
	res("stat dir", stat("/dev/mqueue", &st));
	out("dir mode %o\n", st.st_mode);
	res("create by open", open("/dev/mqueue/made", O_RDWR | O_CREAT, 0600) >= 0);
	mqd_t m = mq_open("/made", O_RDONLY);
	out("mq_open of made ok %d\n", m >= 0);
	DIR *d = opendir("/dev/mqueue");
	struct dirent *e;
	int fsq = 0, made = 0, other = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, "fsq") == 0 && e->d_type == DT_REG)
			fsq++;
		else if (strcmp(e->d_name, "made") == 0 && e->d_type == DT_REG)
			made++;
		else if (e->d_name[0] != '.')
			other++;
	}
	out("entries fsq %d made %d other %d\n", fsq, made, other);
	closedir(d);
	res("mkdir", mkdir("/dev/mqueue/sub", 0755));
	res("unlink fsq", unlink("/dev/mqueue/fsq"));
	res("mq_open after unlink", mq_open("/fsq", O_RDONLY));
	res("stat after unlink", stat("/dev/mqueue/fsq", &st));
	res("mq_unlink made", mq_unlink("/made"));
	res("stat made after mq_unlink", stat("/dev/mqueue/made", &st));
	return 0;
}
