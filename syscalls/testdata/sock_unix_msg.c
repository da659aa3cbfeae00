/* sock_unix_msg.c: AF_UNIX messages: datagram and seqpacket boundaries,
 * MSG_TRUNC/MSG_PEEK/MSG_WAITALL, sendmsg/recvmsg with iovecs,
 * sendmmsg/recvmmsg, SCM_RIGHTS (truncation, MSG_CMSG_CLOEXEC, release
 * of files that were not received), SCM_CREDENTIALS, and SIGPIPE. */
#include "difftest.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

static int sigpipes;
static void on_sigpipe(int sig) { (void)sig; sigpipes++; }

static void pair(int type, int sv[2]) {
	if (socketpair(AF_UNIX, type, 0, sv) < 0) {
		out("socketpair: %s\n", strerrorname_np(errno));
		_exit(1);
	}
}

static void dgram(void) {
	int sv[2];
	char buf[64];
	pair(SOCK_DGRAM, sv);
	res("send 1", send(sv[0], "first", 5, 0));
	res("send 2", send(sv[0], "second", 6, 0));
	res("send empty", send(sv[0], "", 0, 0));
	int n = -1;
	ioctl(sv[1], FIONREAD, &n);
	out("FIONREAD %d\n", n);
	res("recv peek", recv(sv[1], buf, sizeof buf, MSG_PEEK));
	res("recv trunc", recv(sv[1], buf, 2, 0));
	out("got %.2s\n", buf);
	res("recv MSG_TRUNC", recv(sv[1], buf, 2, MSG_TRUNC));
	res("recv empty msg", recv(sv[1], buf, sizeof buf, 0));
	struct msghdr m = {0};
	struct iovec iov = {buf, 3};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	send(sv[0], "truncated", 9, 0);
	res("recvmsg trunc", recvmsg(sv[1], &m, 0));
	out("msg_flags %#x\n", m.msg_flags);
	int v = 65536;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
	char *big = calloc(1, 200000);
	res("send too big", send(sv[0], big, 200000, 0));
	free(big);
	close(sv[1]);
	res("send to closed", send(sv[0], "x", 1, 0));
	res("send again", send(sv[0], "x", 1, 0));
	close(sv[0]);
}

static void seqpacket(void) {
	int sv[2];
	char buf[64];
	pair(SOCK_SEQPACKET, sv);
	res("send a", send(sv[0], "alpha", 5, 0));
	res("send b", send(sv[0], "beta", 4, 0));
	res("recv short", recv(sv[1], buf, 3, 0));
	struct msghdr m = {0};
	struct iovec iov = {buf, 2};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	res("recvmsg trunc", recvmsg(sv[1], &m, MSG_TRUNC));
	out("msg_flags %#x\n", m.msg_flags);
	int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	res("send unconnected", send(s, "x", 1, 0));
	res("recv unconnected", recv(s, buf, 1, 0));
	close(s);
	close(sv[0]);
	res("recv after close", recv(sv[1], buf, sizeof buf, 0));
	res("send after close", send(sv[1], "x", 1, MSG_NOSIGNAL));
	close(sv[1]);
}

static void iovecs(void) {
	int sv[2];
	pair(SOCK_STREAM, sv);
	struct iovec iov[3] = {{"one ", 4}, {"two ", 4}, {"three", 5}};
	struct msghdr m = {0};
	m.msg_iov = iov;
	m.msg_iovlen = 3;
	res("sendmsg", sendmsg(sv[0], &m, 0));
	char a[5], b[20];
	struct iovec riov[2] = {{a, 5}, {b, 20}};
	struct msghdr r = {0};
	r.msg_iov = riov;
	r.msg_iovlen = 2;
	r.msg_flags = 0x7fff;
	res("recvmsg", recvmsg(sv[1], &r, 0));
	out("got %.5s|%.8s flags %#x controllen %d namelen %d\n", a, b, r.msg_flags, (int)r.msg_controllen,
	    r.msg_namelen);
	m.msg_iovlen = 1025;
	res("sendmsg iovlen 1025", sendmsg(sv[0], &m, 0));
	m.msg_iovlen = 3;
	m.msg_namelen = -1;
	m.msg_name = b;
	res("sendmsg namelen -1", sendmsg(sv[0], &m, 0));
	m.msg_name = NULL;
	m.msg_namelen = 0;
	res("sendmsg fault", sendmsg(sv[0], (struct msghdr *)8, 0));
	res("recvmsg fault", recvmsg(sv[1], (struct msghdr *)8, 0));
	/* MSG_WAITALL collects two writes of another process. */
	pid_t pid = fork();
	if (pid == 0) {
		if (write(sv[0], "abc", 3) != 3 || write(sv[0], "def", 3) != 3)
			_exit(1);
		_exit(0);
	}
	char w[6];
	res("recv waitall", recv(sv[1], w, 6, MSG_WAITALL));
	out("waitall %.6s\n", w);
	waitpid(pid, NULL, 0);
	close(sv[0]);
	close(sv[1]);

	pair(SOCK_DGRAM, sv);
	struct mmsghdr mm[3];
	struct iovec mi[3] = {{"m1", 2}, {"mm2", 3}, {"mmm3", 4}};
	memset(mm, 0, sizeof mm);
	for (int i = 0; i < 3; i++) {
		mm[i].msg_hdr.msg_iov = &mi[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	res("sendmmsg", sendmmsg(sv[0], mm, 3, 0));
	out("msg_len %u %u %u\n", mm[0].msg_len, mm[1].msg_len, mm[2].msg_len);
	char rb[5][8];
	struct iovec ri[5];
	struct mmsghdr rm[5];
	memset(rm, 0, sizeof rm);
	for (int i = 0; i < 5; i++) {
		ri[i].iov_base = rb[i];
		ri[i].iov_len = 8;
		rm[i].msg_hdr.msg_iov = &ri[i];
		rm[i].msg_hdr.msg_iovlen = 1;
	}
	res("recvmmsg waitforone", recvmmsg(sv[1], rm, 5, MSG_WAITFORONE, NULL));
	out("lens %u %u %u %.4s\n", rm[0].msg_len, rm[1].msg_len, rm[2].msg_len, rb[2]);
	res("recvmmsg empty", recvmmsg(sv[1], rm, 5, MSG_DONTWAIT, NULL));
	struct timespec bad = {0, 2000000000};
	res("recvmmsg bad timeout", recvmmsg(sv[1], rm, 5, 0, &bad));
	close(sv[0]);
	close(sv[1]);
}

/* send_fds sends n copies of fd with one byte. */
static int send_fds(int s, int fd, int n, int type) {
	char data = 'F';
	struct iovec iov = {&data, 1};
	size_t len = CMSG_SPACE(sizeof(int) * n);
	char *ctl = calloc(1, len);
	struct msghdr m = {0};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	m.msg_controllen = len;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	for (int i = 0; i < n; i++)
		((int *)CMSG_DATA(c))[i] = fd;
	int r = sendmsg(s, &m, 0);
	free(ctl);
	return r;
}

/* recv_fds receives with room for ctllen bytes of control data and
 * reports what came. */
static void recv_fds(const char *what, int s, size_t ctllen, int flags) {
	char data;
	struct iovec iov = {&data, 1};
	char ctl[512];
	struct msghdr m = {0};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctllen ? ctl : NULL;
	m.msg_controllen = ctllen;
	memset(ctl, 0, sizeof ctl);
	int r = recvmsg(s, &m, flags);
	if (r < 0) {
		out("%s = -1 %s\n", what, strerrorname_np(errno));
		return;
	}
	out("%s = %d flags %#x controllen %d\n", what, r, m.msg_flags, (int)m.msg_controllen);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		out("  cmsg level %d type %d len %d\n", c->cmsg_level, c->cmsg_type, (int)c->cmsg_len);
		if (c->cmsg_type == SCM_RIGHTS) {
			int n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (int i = 0; i < n; i++) {
				int fd = ((int *)CMSG_DATA(c))[i];
				out("  fd valid %d cloexec %d\n", fcntl(fd, F_GETFD) >= 0, fcntl(fd, F_GETFD));
				close(fd);
			}
		}
		if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
			struct ucred *u = (struct ucred *)CMSG_DATA(c);
			out("  creds pid-is-me %d pid %d uid %d gid %d\n", u->pid == getpid(), u->pid == getpid() ? 0 : u->pid,
			    u->uid, u->gid);
		}
	}
}

static void rights(void) {
	int sv[2], p[2];
	char buf[8];
	pair(SOCK_DGRAM, sv);
	res("pipe", pipe2(p, O_NONBLOCK));
	res("send fd", send_fds(sv[0], p[1], 1, SCM_RIGHTS));
	/* The receiver writes through the passed descriptor. */
	{
		char data;
		struct iovec iov = {&data, 1};
		char ctl[CMSG_SPACE(sizeof(int))];
		struct msghdr m = {0};
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = ctl;
		m.msg_controllen = sizeof ctl;
		res("recvmsg fd", recvmsg(sv[1], &m, 0));
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		int fd = *(int *)CMSG_DATA(c);
		res("write via passed fd", write(fd, "via", 3));
		close(fd);
		res("read pipe", read(p[0], buf, sizeof buf));
	}
	res("send 3 fds", send_fds(sv[0], p[1], 3, SCM_RIGHTS));
	recv_fds("recv 3 fds room for 2", sv[1], CMSG_SPACE(sizeof(int)), 0);
	res("send fd", send_fds(sv[0], p[1], 1, SCM_RIGHTS));
	recv_fds("recv fd no control", sv[1], 0, 0);
	res("send fd", send_fds(sv[0], p[1], 1, SCM_RIGHTS));
	recv_fds("recv fd tiny control", sv[1], 8, 0);
	res("send fd", send_fds(sv[0], p[1], 1, SCM_RIGHTS));
	recv_fds("recv peek", sv[1], 64, MSG_PEEK);
	recv_fds("recv cloexec", sv[1], 64, MSG_CMSG_CLOEXEC);
	res("send fd then close", send_fds(sv[0], p[1], 2, SCM_RIGHTS));
	close(sv[1]);
	/* Every copy of the write end is gone now: the one in flight went
	 * with the receiver. */
	close(p[1]);
	res("read pipe eof", read(p[0], buf, sizeof buf));
	close(p[0]);

	res("send bad fd", send_fds(sv[0], 99, 1, SCM_RIGHTS));
	res("send 254 fds", send_fds(sv[0], 0, 254, SCM_RIGHTS));
	res("send unknown scm", send_fds(sv[0], 0, 1, 99));
	close(sv[0]);

	pair(SOCK_STREAM, sv);
	pipe2(p, O_NONBLOCK);
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {"xyz", 3};
	struct msghdr m = {0};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	m.msg_controllen = sizeof ctl;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = 8;
	res("send cmsg_len 8", sendmsg(sv[0], &m, 0));
	c->cmsg_len = sizeof ctl + 8;
	res("send cmsg_len too long", sendmsg(sv[0], &m, 0));
	c->cmsg_level = 123;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	res("send other level", sendmsg(sv[0], &m, 0));
	char rb[8];
	res("recv", recv(sv[1], rb, sizeof rb, 0));
	res("send stream data", send(sv[0], "ab", 2, 0));
	res("send stream fd", send_fds(sv[0], p[1], 1, SCM_RIGHTS));
	res("send stream more", send(sv[0], "cd", 2, 0));
	/* A stream read stops after the data that carried descriptors. */
	{
		char d[16];
		struct iovec ri = {d, sizeof d};
		char rc[64];
		struct msghdr rm = {0};
		rm.msg_iov = &ri;
		rm.msg_iovlen = 1;
		rm.msg_control = rc;
		rm.msg_controllen = sizeof rc;
		int n = recvmsg(sv[1], &rm, 0);
		out("stream recv %d %.3s controllen %d\n", n, d, (int)rm.msg_controllen);
		struct cmsghdr *rc0 = CMSG_FIRSTHDR(&rm);
		if (rc0)
			close(*(int *)CMSG_DATA(rc0));
		res("stream rest", recv(sv[1], d, sizeof d, 0));
	}
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

static void credentials(void) {
	int sv[2];
	pair(SOCK_DGRAM, sv);
	res("send before passcred", send(sv[0], "a", 1, 0));
	int one = 1;
	res("SO_PASSCRED", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one));
	recv_fds("recv unrecorded creds", sv[1], 64, 0);
	res("send", send(sv[0], "b", 1, 0));
	recv_fds("recv creds", sv[1], 64, 0);
	res("send", send(sv[0], "c", 1, 0));
	recv_fds("recv creds no room", sv[1], 0, 0);
	res("send", send(sv[0], "d", 1, 0));
	recv_fds("recv creds cut", sv[1], 20, 0);

	char ctl[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = {"e", 1};
	struct msghdr m = {0};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	m.msg_controllen = sizeof ctl;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
	struct ucred u = {getpid(), getuid(), getgid()};
	memcpy(CMSG_DATA(c), &u, sizeof u);
	res("send own creds", sendmsg(sv[0], &m, 0));
	recv_fds("recv own creds", sv[1], 64, 0);
	u.pid = 12345;
	memcpy(CMSG_DATA(c), &u, sizeof u);
	res("send missing pid", sendmsg(sv[0], &m, 0));
	c->cmsg_len = CMSG_LEN(8);
	res("send short creds", sendmsg(sv[0], &m, 0));
	close(sv[0]);
	close(sv[1]);

	/* Stream data sent with different credentials is not glued. */
	pair(SOCK_STREAM, sv);
	setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
	res("send 1", send(sv[0], "12", 2, 0));
	pid_t pid = fork();
	if (pid == 0)
		_exit(send(sv[0], "34", 2, 0) == 2 ? 0 : 1);
	waitpid(pid, NULL, 0);
	char b[8];
	res("recv first writer", recv(sv[1], b, sizeof b, 0));
	res("recv second writer", recv(sv[1], b, sizeof b, 0));
	close(sv[0]);
	close(sv[1]);
}

static void sigpipe(void) {
	int sv[2];
	signal(SIGPIPE, on_sigpipe);
	pair(SOCK_STREAM, sv);
	close(sv[1]);
	res("write to closed", write(sv[0], "x", 1));
	out("sigpipes %d\n", sigpipes);
	res("send nosignal", send(sv[0], "x", 1, MSG_NOSIGNAL));
	out("sigpipes %d\n", sigpipes);
	res("send", send(sv[0], "x", 1, 0));
	out("sigpipes %d\n", sigpipes);
	close(sv[0]);
	signal(SIGPIPE, SIG_IGN);
}

int main(void) {
	dgram();
	seqpacket();
	iovecs();
	rights();
	credentials();
	sigpipe();
	return 0;
}
