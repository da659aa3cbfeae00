/* sock_unix.c: AF_UNIX sockets: socket(2) argument checks, socketpair,
 * pathname and abstract names, listen/accept/connect and their errors,
 * shutdown, poll, ioctls and socket options. argv[1] is a writable
 * directory for the pathname sockets; with a second argument the
 * program also checks /proc/self/fd links (proc mounted). */
#include "difftest.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/uio.h>
#include <termios.h>

static const char *dir;
static int *volatile bad = (int *)8;

static socklen_t path_addr(struct sockaddr_un *a, const char *name) {
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof a->sun_path, "%s/%s", dir, name);
	return offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1;
}

static socklen_t abs_addr(struct sockaddr_un *a, const char *name) {
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path + 1, name, strlen(name));
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

static int geti(int fd, int opt) {
	int v = -1;
	socklen_t l = sizeof v;
	if (getsockopt(fd, SOL_SOCKET, opt, &v, &l) < 0)
		return -1000 - errno;
	return v;
}

static void names(const char *what, int fd) {
	struct sockaddr_un a;
	socklen_t l = sizeof a;
	memset(&a, 0x7f, sizeof a);
	int r = getsockname(fd, (struct sockaddr *)&a, &l);
	if (r < 0)
		out("%s getsockname = -1 %s\n", what, strerrorname_np(errno));
	else
		out("%s getsockname len %d family %d abstract %d\n", what, (int)l, a.sun_family,
		    l > 2 && a.sun_path[0] == 0);
	l = sizeof a;
	r = getpeername(fd, (struct sockaddr *)&a, &l);
	if (r < 0)
		out("%s getpeername = -1 %s\n", what, strerrorname_np(errno));
	else
		out("%s getpeername len %d family %d\n", what, (int)l, a.sun_family);
}

static void pollstate(const char *what, int fd) {
	struct pollfd p = {fd, POLLIN | POLLOUT | POLLRDHUP | POLLPRI, 0};
	int r = poll(&p, 1, 0);
	out("%s poll = %d revents %#x\n", what, r, p.revents);
}

static void socket_args(void) {
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	out("socket stream ok %d\n", fd >= 0);
	close(fd);
	res("socket bad flags", socket(AF_UNIX, SOCK_STREAM | 0x1000, 0));
	res("socket type 11", socket(AF_UNIX, 11, 0));
	res("socket SOCK_PACKET", socket(AF_UNIX, SOCK_PACKET, 0));
	res("socket SOCK_RDM", socket(AF_UNIX, SOCK_RDM, 0));
	res("socket protocol 7", socket(AF_UNIX, SOCK_STREAM, 7));
	res("socket family -1", socket(-1, SOCK_STREAM, 0));
	res("socket family 1000", socket(1000, SOCK_STREAM, 0));
	fd = socket(AF_UNIX, SOCK_RAW, 0);
	out("socket raw type %d\n", geti(fd, SO_TYPE));
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, PF_UNIX);
	out("nonblock %d cloexec %d\n", !!(fcntl(fd, F_GETFL) & O_NONBLOCK), fcntl(fd, F_GETFD));
	close(fd);
	res("socketpair fault", socketpair(AF_UNIX, SOCK_STREAM, 0, bad));
	int p[2];
	res("pipe", pipe(p));
	struct sockaddr_un a;
	socklen_t l = path_addr(&a, "x");
	res("bind pipe", bind(p[0], (struct sockaddr *)&a, l));
	res("bind -1", bind(-1, (struct sockaddr *)&a, l));
	res("listen pipe", listen(p[0], 1));
	res("getsockopt pipe", geti(p[0], SO_TYPE) + 1000);
	res("shutdown pipe", shutdown(p[0], SHUT_RD));
	close(p[0]);
	close(p[1]);
}

static void stat_and_link(int proc) {
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct stat st;
	res("fstat", fstat(fd, &st));
	out("sock S_ISSOCK %d perm %o nlink %d size %ld\n", S_ISSOCK(st.st_mode), st.st_mode & 07777,
	    (int)st.st_nlink, (long)st.st_size);
	if (proc) {
		char path[64], link[64], want[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(path, link, sizeof link - 1);
		link[n < 0 ? 0 : n] = 0;
		snprintf(want, sizeof want, "socket:[%lu]", (unsigned long)st.st_ino);
		out("proc link matches %d\n", strcmp(link, want) == 0);
	}
	res("lseek", lseek(fd, 0, SEEK_SET));
	close(fd);
}

static void pair_stream(void) {
	int sv[2];
	char buf[64];
	res("socketpair stream", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	names("pair", sv[0]);
	out("type %d domain %d protocol %d acceptconn %d error %d\n", geti(sv[0], SO_TYPE),
	    geti(sv[0], SO_DOMAIN), geti(sv[0], SO_PROTOCOL), geti(sv[0], SO_ACCEPTCONN),
	    geti(sv[0], SO_ERROR));
	struct ucred uc;
	socklen_t l = sizeof uc;
	res("SO_PEERCRED", getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &uc, &l));
	out("peercred len %d pid-is-me %d uid %d gid %d\n", (int)l, uc.pid == getpid(), uc.uid, uc.gid);
	pollstate("pair idle", sv[0]);
	res("write", write(sv[0], "hello", 5));
	res("send", send(sv[0], " world", 6, 0));
	int n = -1;
	res("FIONREAD", ioctl(sv[1], FIONREAD, &n));
	out("FIONREAD %d\n", n);
	/* SIOCOUTQ counts skb truesize on Linux: only whether it works. */
	res("SIOCOUTQ", ioctl(sv[0], SIOCOUTQ, &n));
	res("bad ioctl", ioctl(sv[0], TCGETS, buf));
	pollstate("pair data", sv[1]);
	res("recv peek", recv(sv[1], buf, 3, MSG_PEEK));
	res("read", read(sv[1], buf, sizeof buf));
	out("got %.11s\n", buf);
	res("recv dontwait", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
	struct iovec iov[2] = {{"ab", 2}, {"cde", 3}};
	res("writev", writev(sv[1], iov, 2));
	char b1[1], b2[8];
	struct iovec riov[2] = {{b1, 1}, {b2, 8}};
	res("readv", readv(sv[0], riov, 2));
	out("readv %c %.4s\n", b1[0], b2);
	res("shutdown bad", shutdown(sv[0], 7));
	res("shutdown wr", shutdown(sv[0], SHUT_WR));
	pollstate("after peer SHUT_WR", sv[1]);
	pollstate("after own SHUT_WR", sv[0]);
	res("read eof", read(sv[1], buf, sizeof buf));
	res("send after SHUT_WR", send(sv[0], "x", 1, MSG_NOSIGNAL));
	res("peer can still write", write(sv[1], "y", 1));
	res("read y", read(sv[0], buf, 1));
	close(sv[1]);
	pollstate("after peer close", sv[0]);
	res("read after close", read(sv[0], buf, sizeof buf));
	close(sv[0]);

	/* Closing with unread data resets the peer. */
	res("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	res("write", write(sv[0], "zz", 2));
	close(sv[1]);
	pollstate("reset", sv[0]);
	res("read reset", read(sv[0], buf, sizeof buf));
	res("read then", read(sv[0], buf, sizeof buf));
	close(sv[0]);

	/* An unconnected stream socket. */
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	pollstate("unconnected", s);
	res("send unconnected", send(s, "x", 1, MSG_NOSIGNAL));
	res("recv unconnected", recv(s, buf, 1, 0));
	res("read unconnected", read(s, buf, 1));
	names("unconnected", s);
	res("listen unbound", listen(s, 1));
	res("accept unlistened", accept(s, NULL, NULL));
	close(s);
}

static void options(void) {
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	int v = 65536;
	res("SO_SNDBUF set", setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
	res("SO_RCVBUF set", setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
	out("sndbuf %d rcvbuf %d\n", geti(s, SO_SNDBUF), geti(s, SO_RCVBUF));
	v = 1;
	res("SO_REUSEADDR", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
	res("SO_KEEPALIVE", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v));
	res("SO_PASSCRED", setsockopt(s, SOL_SOCKET, SO_PASSCRED, &v, sizeof v));
	out("reuseaddr %d keepalive %d passcred %d broadcast %d\n", geti(s, SO_REUSEADDR),
	    geti(s, SO_KEEPALIVE), geti(s, SO_PASSCRED), geti(s, SO_BROADCAST));
	res("set SO_TYPE", setsockopt(s, SOL_SOCKET, SO_TYPE, &v, sizeof v));
	res("set unknown", setsockopt(s, SOL_SOCKET, 9999, &v, sizeof v));
	res("get unknown", geti(s, 9999) + 1000);
	res("set short", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2));
	res("set negative len", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, -1));
	res("set level tcp", setsockopt(s, IPPROTO_TCP, 1, &v, sizeof v));
	socklen_t l = sizeof v;
	res("get level tcp", getsockopt(s, IPPROTO_TCP, 1, &v, &l));
	l = -1;
	res("get negative len", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l));
	char c4[4] = {9, 9, 9, 9};
	l = 2;
	res("get short", getsockopt(s, SOL_SOCKET, SO_TYPE, c4, &l));
	out("short len %d bytes %d %d %d\n", (int)l, c4[0], c4[1], c4[2]);
	res("get fault", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, (socklen_t *)8));
	struct timeval tv = {3, 0};
	res("SO_RCVTIMEO", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	memset(&tv, 0, sizeof tv);
	l = sizeof tv;
	res("get SO_RCVTIMEO", getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, &l));
	out("rcvtimeo %ld %ld len %d\n", (long)tv.tv_sec, (long)tv.tv_usec, (int)l);
	tv.tv_usec = 2000000;
	res("SO_SNDTIMEO bad usec", setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
	res("SO_SNDTIMEO short", setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, 8));
	struct linger lg = {1, 5};
	res("SO_LINGER", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
	memset(&lg, 0, sizeof lg);
	l = sizeof lg;
	res("get SO_LINGER", getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &l));
	out("linger %d %d\n", lg.l_onoff, lg.l_linger);
	struct ucred uc;
	l = sizeof uc;
	res("SO_PEERCRED unconnected", getsockopt(s, SOL_SOCKET, SO_PEERCRED, &uc, &l));
	out("peercred %d %d %d\n", uc.pid, (int)uc.uid, (int)uc.gid);
	close(s);

	/* A receive timeout ends a blocking receive with EAGAIN. */
	int sv[2];
	char buf[4];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	struct timeval shortwait = {0, 20000};
	setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &shortwait, sizeof shortwait);
	res("recv timeout", recv(sv[0], buf, sizeof buf, 0));
	struct timeval neg = {-1, 0};
	setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &neg, sizeof neg);
	res("recv negative timeout", recv(sv[0], buf, sizeof buf, 0));
	close(sv[0]);
	close(sv[1]);
}

static void pathname_stream(void) {
	struct sockaddr_un a, b;
	socklen_t al = path_addr(&a, "srv");
	char buf[64];
	umask(022);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	res("bind short", bind(l, (struct sockaddr *)&a, 1));
	res("bind too long", bind(l, (struct sockaddr *)&a, sizeof a + 1));
	res("bind over 128", bind(l, (struct sockaddr *)&a, 129));
	res("bind fault", bind(l, (struct sockaddr *)8, al));
	a.sun_family = AF_INET;
	res("bind AF_INET", bind(l, (struct sockaddr *)&a, al));
	a.sun_family = AF_UNIX;
	res("bind", bind(l, (struct sockaddr *)&a, al));
	names("bound", l);
	struct stat st;
	res("stat node", stat(a.sun_path, &st));
	out("node S_ISSOCK %d perm %o\n", S_ISSOCK(st.st_mode), st.st_mode & 07777);
	res("open node", open(a.sun_path, O_RDWR));
	path_addr(&b, "other");
	res("bind again", bind(l, (struct sockaddr *)&b, al));
	int l2 = socket(AF_UNIX, SOCK_STREAM, 0);
	res("bind in use", bind(l2, (struct sockaddr *)&a, al));
	socklen_t fl = path_addr(&b, "file");
	close(open(b.sun_path, O_CREAT | O_WRONLY, 0644));
	res("bind on file", bind(l2, (struct sockaddr *)&b, fl));
	res("connect file", connect(l2, (struct sockaddr *)&b, fl));
	socklen_t nl = path_addr(&b, "missing");
	res("connect missing", connect(l2, (struct sockaddr *)&b, nl));
	res("connect not listening", connect(l2, (struct sockaddr *)&a, al));
	res("connect bad len", connect(l2, (struct sockaddr *)&a, 2));
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	res("listen dgram", listen(d, 1));
	res("accept dgram", accept(d, NULL, NULL));
	if (listen(l, 0) < 0) {
		/* Nothing below can work, and a blocking accept would hang. */
		out("listen = -1 %s\n", strerrorname_np(errno));
		return;
	}
	out("listen = 0\n");
	res("connect wrong type", connect(d, (struct sockaddr *)&a, al));
	close(d);
	out("acceptconn %d\n", geti(l, SO_ACCEPTCONN));
	fcntl(l, F_SETFL, O_NONBLOCK);
	res("accept empty", accept(l, NULL, NULL));
	pollstate("listener idle", l);
	res("read listener", read(l, buf, 1));

	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	res("connect", connect(c, (struct sockaddr *)&a, al));
	res("sendto connected", sendto(c, "x", 1, MSG_NOSIGNAL, (struct sockaddr *)&a, al));
	names("client", c);
	pollstate("listener pending", l);
	res("write before accept", write(c, "early", 5));
	/* Backlog 0 admits one pending connection. */
	int c2 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	res("connect backlog full", connect(c2, (struct sockaddr *)&a, al));
	close(c2);
	struct sockaddr_un pa;
	socklen_t pl = sizeof pa;
	memset(&pa, 0x7f, sizeof pa);
	int s = accept4(l, (struct sockaddr *)&pa, &pl, SOCK_CLOEXEC);
	out("accept ok %d peer len %d family %d cloexec %d\n", s >= 0, (int)pl, pa.sun_family,
	    fcntl(s, F_GETFD));
	names("accepted", s);
	res("connect again", connect(c, (struct sockaddr *)&a, al));
	res("connect listener to itself", connect(l, (struct sockaddr *)&a, al));
	res("read early", read(s, buf, sizeof buf));
	struct ucred uc;
	socklen_t ul = sizeof uc;
	getsockopt(c, SOL_SOCKET, SO_PEERCRED, &uc, &ul);
	out("client peercred pid-is-me %d uid %d\n", uc.pid == getpid(), uc.uid);
	res("accept4 bad flags", accept4(l, NULL, NULL, 0x1));
	close(s);
	close(c);

	/* A blocking accept and connect across processes. */
	fcntl(l, F_SETFL, 0);
	pid_t pid = fork();
	if (pid == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&a, al) < 0)
			_exit(1);
		if (write(c, "ping", 4) != 4)
			_exit(2);
		char r[8];
		int n = read(c, r, sizeof r);
		_exit(n == 4 && memcmp(r, "pong", 4) == 0 ? 0 : 3);
	}
	s = accept(l, NULL, NULL);
	int n = recv(s, buf, 4, MSG_WAITALL);
	out("server got %d %.4s\n", n, buf);
	res("reply", write(s, "pong", 4));
	int status;
	waitpid(pid, &status, 0);
	out("child exit %d\n", WEXITSTATUS(status));
	close(s);

	/* Closing a listener resets the connections it never accepted. */
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	res("connect pending", connect(c, (struct sockaddr *)&a, al));
	close(l);
	res("read after listener close", read(c, buf, sizeof buf));
	res("read again", read(c, buf, sizeof buf));
	close(c);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	res("connect closed listener", connect(c, (struct sockaddr *)&a, al));
	res("unlink", unlink(a.sun_path));
	res("connect unlinked", connect(c, (struct sockaddr *)&a, al));
	close(c);
	close(l2);
	unlink(b.sun_path);
	path_addr(&b, "file");
	unlink(b.sun_path);
}

static void abstract_names(void) {
	struct sockaddr_un a;
	socklen_t al = abs_addr(&a, "moat-difftest-sock-unix");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	res("bind abstract", bind(s, (struct sockaddr *)&a, al));
	names("abstract", s);
	int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
	res("bind abstract in use", bind(s2, (struct sockaddr *)&a, al));
	res("listen", listen(s, 5));
	res("connect abstract", connect(s2, (struct sockaddr *)&a, al));
	names("abstract client", s2);
	close(s2);
	close(s);
	s2 = socket(AF_UNIX, SOCK_STREAM, 0);
	res("connect abstract gone", connect(s2, (struct sockaddr *)&a, al));
	res("autobind", bind(s2, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path)));
	names("autobound", s2);
	res("autobind again", bind(s2, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path)));
	close(s2);

	/* SO_PASSCRED makes a connect autobind. */
	int srv = socket(AF_UNIX, SOCK_DGRAM, 0);
	al = abs_addr(&a, "moat-difftest-sock-unix-dgram");
	res("bind dgram abstract", bind(srv, (struct sockaddr *)&a, al));
	int c = socket(AF_UNIX, SOCK_DGRAM, 0);
	int one = 1;
	setsockopt(c, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
	res("connect passcred", connect(c, (struct sockaddr *)&a, al));
	names("passcred client", c);
	close(c);
	close(srv);
}

static void pathname_dgram(void) {
	struct sockaddr_un a, b, from;
	socklen_t al = path_addr(&a, "dsrv");
	socklen_t bl = path_addr(&b, "dcli");
	char buf[64];
	int srv = socket(AF_UNIX, SOCK_DGRAM, 0);
	res("bind srv", bind(srv, (struct sockaddr *)&a, al));
	int c = socket(AF_UNIX, SOCK_DGRAM, 0);
	res("send unconnected", send(c, "x", 1, 0));
	res("sendto", sendto(c, "anon", 4, 0, (struct sockaddr *)&a, al));
	socklen_t fl = sizeof from;
	memset(&from, 0x7f, sizeof from);
	res("recvfrom", recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl));
	out("from len %d\n", (int)fl);
	res("bind cli", bind(c, (struct sockaddr *)&b, bl));
	res("sendto bound", sendto(c, "named", 5, 0, (struct sockaddr *)&a, al));
	fl = sizeof from;
	res("recvfrom", recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl));
	out("from len %d same %d\n", (int)fl, strcmp(from.sun_path, b.sun_path) == 0);
	fl = 4;
	res("sendto again", sendto(c, "short", 5, 0, (struct sockaddr *)&a, al));
	res("recvfrom short name", recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl));
	out("from len %d\n", (int)fl);
	res("recv empty", recv(srv, buf, sizeof buf, MSG_DONTWAIT));
	struct sockaddr_un m;
	socklen_t ml = path_addr(&m, "nothing");
	res("sendto missing", sendto(c, "x", 1, 0, (struct sockaddr *)&m, ml));
	ml = abs_addr(&m, "moat-difftest-nobody");
	res("sendto abstract missing", sendto(c, "x", 1, 0, (struct sockaddr *)&m, ml));
	res("sendto bad len", sendto(c, "x", 1, 0, (struct sockaddr *)&a, 200));
	res("connect srv to cli", connect(srv, (struct sockaddr *)&b, bl));
	names("connected dgram", srv);
	int third = socket(AF_UNIX, SOCK_DGRAM, 0);
	res("sendto srv from stranger", sendto(third, "x", 1, 0, (struct sockaddr *)&a, al));
	res("connect stranger to srv", connect(third, (struct sockaddr *)&a, al));
	res("send to peer", send(srv, "back", 4, 0));
	res("recv", recv(c, buf, sizeof buf, 0));
	m.sun_family = AF_UNSPEC;
	res("disconnect", connect(srv, (struct sockaddr *)&m, sizeof(sa_family_t)));
	names("disconnected", srv);
	res("sendto srv from stranger now", sendto(third, "y", 1, 0, (struct sockaddr *)&a, al));
	res("recv", recv(srv, buf, sizeof buf, 0));
	/* The queue of a socket holds max_dgram_qlen + 1 messages from
	 * senders that are not its peer. */
	int i, r = 0;
	for (i = 0; i < 20; i++) {
		r = sendto(third, "q", 1, MSG_DONTWAIT, (struct sockaddr *)&a, al);
		if (r < 0)
			break;
	}
	out("queued %d then %s\n", i, strerrorname_np(errno));
	pollstate("full receiver", srv);
	close(third);
	close(c);
	close(srv);
	unlink(a.sun_path);
	unlink(b.sun_path);
}

int main(int argc, char **argv) {
	dir = argc > 1 ? argv[1] : "/tmp";
	signal(SIGPIPE, SIG_IGN);
	socket_args();
	stat_and_link(argc > 2);
	pair_stream();
	options();
	pathname_stream();
	abstract_names();
	pathname_dgram();
	return 0;
}
