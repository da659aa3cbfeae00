/* sock_inet.c: AF_INET and AF_INET6 sockets over loopback: TCP between
 * two processes (listen on port 0, connect, exchange, shutdown, EOF),
 * UDP datagrams, socket options, ioctls, poll, SIGPIPE and the error
 * paths. No port number or descriptor number is printed: only results,
 * errnos and comparisons. Runs natively and in moat; outputs must
 * match. */
#include "difftest.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

/* ok prints a call's success as "ok" (descriptor numbers and lengths
 * that depend on the environment stay out of the output). */
static void ok_(const char *what, long r) {
	if (r < 0)
		out("%s = -1 %s\n", what, strerrorname_np(errno));
	else
		out("%s = ok\n", what);
}
#define ok(what, r) ok_(what, (long)(r))

static volatile sig_atomic_t got_sigpipe;
static void on_sigpipe(int sig) { (void)sig; got_sigpipe++; }

static struct sockaddr_in loopback4(unsigned short port) {
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_port = port;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int getint(int fd, int level, int name) {
	int v = -12345;
	socklen_t l = sizeof v;
	if (getsockopt(fd, level, name, &v, &l) < 0)
		return -errno;
	return v;
}

/* A listening socket on 127.0.0.1 and its address. */
static int listener(struct sockaddr_in *addr) {
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = loopback4(0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 8) < 0) {
		out("listener: %s\n", strerrorname_np(errno));
		_exit(1);
	}
	socklen_t l = sizeof *addr;
	getsockname(s, (struct sockaddr *)addr, &l);
	return s;
}

static void creation(void) {
	out("-- creation\n");
	int s = socket(AF_INET, SOCK_STREAM, 0);
	ok("socket tcp", s);
	out("SO_TYPE=%d SO_DOMAIN=%d SO_PROTOCOL=%d SO_ACCEPTCONN=%d SO_ERROR=%d\n",
	    getint(s, SOL_SOCKET, SO_TYPE), getint(s, SOL_SOCKET, SO_DOMAIN), getint(s, SOL_SOCKET, SO_PROTOCOL),
	    getint(s, SOL_SOCKET, SO_ACCEPTCONN), getint(s, SOL_SOCKET, SO_ERROR));
	struct stat st;
	res("fstat", fstat(s, &st));
	out("sock=%d mode=%o\n", S_ISSOCK(st.st_mode), st.st_mode & 0777);
	out("getfl=%#x\n", fcntl(s, F_GETFL));
	close(s);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	ok("socket udp nonblock cloexec", s);
	out("getfl=%#x getfd=%d SO_PROTOCOL=%d\n", fcntl(s, F_GETFL), fcntl(s, F_GETFD), getint(s, SOL_SOCKET, SO_PROTOCOL));
	close(s);
	res("socket tcp proto udp", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
	res("socket udp proto tcp", socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
	res("socket6 stream proto udp", socket(AF_INET6, SOCK_STREAM, IPPROTO_UDP));
	res("socket family 200", socket(200, SOCK_STREAM, 0));
	res("socket bad type", socket(AF_INET, 99, 0));
	int sv[2];
	res("socketpair inet", socketpair(AF_INET, SOCK_STREAM, 0, sv));
}

static void errors(void) {
	out("-- errors\n");
	struct sockaddr_in la;
	int l = listener(&la);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	char buf[16];
	res("recv unconnected", recv(s, buf, sizeof buf, 0));
	res("send unconnected", send(s, "x", 1, MSG_NOSIGNAL));
	res("shutdown unconnected", shutdown(s, SHUT_RDWR));
	struct sockaddr_in pa;
	socklen_t pl = sizeof pa;
	res("getpeername unconnected", getpeername(s, (struct sockaddr *)&pa, &pl));
	res("bind in use", bind(s, (struct sockaddr *)&la, sizeof la));
	struct sockaddr_in a = loopback4(0);
	res("bind short", bind(s, (struct sockaddr *)&a, sizeof a - 1));
	struct sockaddr_in6 a6 = {0};
	a6.sin6_family = AF_INET6;
	res("bind v6 addr to v4", bind(s, (struct sockaddr *)&a6, sizeof a));
	res("bind", bind(s, (struct sockaddr *)&a, sizeof a));
	res("bind again", bind(s, (struct sockaddr *)&a, sizeof a));
	res("connect short", connect(s, (struct sockaddr *)&la, 1));
	res("connect", connect(s, (struct sockaddr *)&la, sizeof la));
	res("connect again", connect(s, (struct sockaddr *)&la, sizeof la));
	res("listen connected", listen(s, 1));
	res("accept connected", accept(s, NULL, NULL));
	int c = accept(l, NULL, NULL);
	ok("accept", c);
	close(c);
	close(s);

	/* A bound socket that does not listen refuses connections. */
	int b = socket(AF_INET, SOCK_STREAM, 0);
	a = loopback4(0);
	bind(b, (struct sockaddr *)&a, sizeof a);
	socklen_t bl = sizeof a;
	getsockname(b, (struct sockaddr *)&a, &bl);
	s = socket(AF_INET, SOCK_STREAM, 0);
	res("connect refused", connect(s, (struct sockaddr *)&a, sizeof a));
	close(s);
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int r = connect(s, (struct sockaddr *)&a, sizeof a);
	out("nonblocking connect refused: %s\n",
	    r < 0 && (errno == EINPROGRESS || errno == ECONNREFUSED) ? "in progress or refused" : strerrorname_np(errno));
	struct pollfd p = {s, POLLOUT, 0};
	res("poll", poll(&p, 1, -1));
	int e1 = getint(s, SOL_SOCKET, SO_ERROR);
	int e2 = getint(s, SOL_SOCKET, SO_ERROR);
	out("SO_ERROR=%s then %d\n", strerrorname_np(e1), e2);
	close(s);
	close(b);

	int u = socket(AF_INET, SOCK_DGRAM, 0);
	res("listen udp", listen(u, 1));
	res("accept udp", accept(u, NULL, NULL));
	res("recv udp dontwait", recv(u, buf, sizeof buf, MSG_DONTWAIT));
	res("sendto udp short addr", sendto(u, "x", 1, 0, (struct sockaddr *)&a, 8));
	res("send udp unconnected", send(u, "x", 1, 0));
	close(u);

	/* Accept and recv time out with SO_RCVTIMEO. */
	struct timeval tv = {0, 20000};
	res("SO_RCVTIMEO", setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	res("accept timeout", accept(l, NULL, NULL));
	tv.tv_usec = 1000000;
	res("SO_RCVTIMEO bad usec", setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	res("SO_RCVTIMEO short", setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, 4));
	int fl = fcntl(l, F_GETFL);
	fcntl(l, F_SETFL, fl | O_NONBLOCK);
	res("accept nonblocking", accept(l, NULL, NULL));
	close(l);
}

static void options(void) {
	out("-- options\n");
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	res("SO_REUSEADDR", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
	res("SO_KEEPALIVE", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one));
	res("TCP_NODELAY", setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
	int idle = 77;
	res("TCP_KEEPIDLE", setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle));
	res("SO_REUSEADDR short", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, 2));
	out("reuseaddr=%d keepalive=%d nodelay=%d keepidle=%d\n", getint(s, SOL_SOCKET, SO_REUSEADDR),
	    getint(s, SOL_SOCKET, SO_KEEPALIVE), getint(s, IPPROTO_TCP, TCP_NODELAY), getint(s, IPPROTO_TCP, TCP_KEEPIDLE));
	int ttl = 33;
	res("IP_TTL", setsockopt(s, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl));
	out("ttl=%d\n", getint(s, IPPROTO_IP, IP_TTL));
	struct linger lg = {1, 5};
	res("SO_LINGER", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
	struct linger lg2;
	socklen_t ll = sizeof lg2;
	res("get SO_LINGER", getsockopt(s, SOL_SOCKET, SO_LINGER, &lg2, &ll));
	out("linger=%d,%d len=%d\n", lg2.l_onoff, lg2.l_linger, (int)ll);
	struct timeval tv = {2, 500000}, tv2;
	socklen_t tl = sizeof tv2;
	res("SO_SNDTIMEO", setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
	res("get SO_SNDTIMEO", getsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv2, &tl));
	out("sndtimeo=%ld.%06ld len=%d\n", (long)tv2.tv_sec, (long)tv2.tv_usec, (int)tl);
	int small = -1;
	socklen_t sl = 2;
	res("get SO_TYPE short", getsockopt(s, SOL_SOCKET, SO_TYPE, &small, &sl));
	out("len=%d\n", (int)sl);
	sl = 4;
	res("get unknown level", getsockopt(s, 12345, 1, &small, &sl));
	res("get unknown option", getsockopt(s, SOL_SOCKET, 12345, &small, &sl));
	res("set unknown option", setsockopt(s, SOL_SOCKET, 12345, &one, sizeof one));
	close(s);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	res("SO_BROADCAST", setsockopt(u, SOL_SOCKET, SO_BROADCAST, &one, sizeof one));
	out("broadcast=%d\n", getint(u, SOL_SOCKET, SO_BROADCAST));
	close(u);
}

/* tcp: the parent listens, a child connects; they exchange data, shut
 * down and see EOF. The child prints only once the parent is done (the
 * go pipe), so the output order is fixed. */
static void tcp(void) {
	out("-- tcp\n");
	struct sockaddr_in la;
	int l = listener(&la);
	out("listener family=%d addr=%s port set=%d SO_ACCEPTCONN=%d\n", la.sin_family, inet_ntoa(la.sin_addr),
	    la.sin_port != 0, getint(l, SOL_SOCKET, SO_ACCEPTCONN));
	struct pollfd p = {l, POLLIN, 0};
	res("poll listener idle", poll(&p, 1, 0));
	int go[2];
	if (pipe(go) < 0)
		_exit(1);
	pid_t pid = fork();
	if (pid == 0) {
		char log[1024];
		int n = 0;
		int s = socket(AF_INET, SOCK_STREAM, 0);
		int r = connect(s, (struct sockaddr *)&la, sizeof la);
		n += snprintf(log + n, sizeof log - n, "child connect = %d\n", r);
		struct sockaddr_in me, peer;
		socklen_t ml = sizeof me, pl = sizeof peer;
		getsockname(s, (struct sockaddr *)&me, &ml);
		getpeername(s, (struct sockaddr *)&peer, &pl);
		n += snprintf(log + n, sizeof log - n, "child peer is listener=%d len=%d\n",
			      peer.sin_port == la.sin_port && peer.sin_addr.s_addr == la.sin_addr.s_addr, (int)pl);
		r = send(s, "hello", 5, 0);
		r += send(s, " world", 6, 0);
		n += snprintf(log + n, sizeof log - n, "child sent %d\n", r);
		/* Tell the parent our port through the stream itself. */
		r = send(s, &me.sin_port, sizeof me.sin_port, 0);
		shutdown(s, SHUT_WR);
		char buf[64];
		int got = 0, k;
		while ((k = recv(s, buf + got, sizeof buf - got, 0)) > 0)
			got += k;
		n += snprintf(log + n, sizeof log - n, "child got %d %.*s, then %d\n", got, got, buf, k);
		r = send(s, "x", 1, MSG_NOSIGNAL);
		n += snprintf(log + n, sizeof log - n, "child send after own shutdown = %d %s\n", r,
			      r < 0 ? strerrorname_np(errno) : "");
		signal(SIGPIPE, on_sigpipe);
		r = write(s, "x", 1);
		n += snprintf(log + n, sizeof log - n, "child write after shutdown = %d %s sigpipe=%d\n", r,
			      r < 0 ? strerrorname_np(errno) : "", got_sigpipe);
		close(s);
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		if (write(1, log, n) < 0)
			_exit(3);
		_exit(0);
	}
	close(go[0]);
	res("poll listener", poll(&p, 1, -1));
	out("revents=%#x\n", p.revents);
	struct sockaddr_in peer;
	socklen_t pl = sizeof peer;
	int c = accept4(l, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
	ok("accept4", c);
	out("peer family=%d addr=%s len=%d getfd=%d\n", peer.sin_family, inet_ntoa(peer.sin_addr), (int)pl,
	    fcntl(c, F_GETFD));
	char buf[64];
	struct pollfd cp = {c, POLLIN, 0};
	poll(&cp, 1, -1);
	res("recv peek", recv(c, buf, 3, MSG_PEEK));
	out("peeked %.3s\n", buf);
	res("recv waitall", recv(c, buf, 11, MSG_WAITALL));
	out("got %.11s\n", buf);
	unsigned short port;
	res("read port", read(c, &port, sizeof port));
	out("port is peer's=%d\n", port == peer.sin_port);
	res("recv eof", recv(c, buf, sizeof buf, 0));
	res("read eof", read(c, buf, sizeof buf));
	int avail = -1;
	res("FIONREAD", ioctl(c, FIONREAD, &avail));
	out("avail=%d\n", avail);
	cp.events = POLLIN | POLLOUT | POLLRDHUP;
	res("poll after eof", poll(&cp, 1, -1));
	out("revents=%#x\n", cp.revents);
	res("send reply", send(c, "bye", 3, 0));
	res("shutdown wr", shutdown(c, SHUT_WR));
	res("shutdown bad how", shutdown(c, 7));
	int st;
	if (write(go[1], "g", 1) != 1)
		_exit(1);
	waitpid(pid, &st, 0);
	out("child status %d\n", st);
	close(c);
	close(l);
	close(go[1]);
}

static void udp(void) {
	out("-- udp\n");
	int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in aa = loopback4(0), ba = loopback4(0);
	bind(a, (struct sockaddr *)&aa, sizeof aa);
	bind(b, (struct sockaddr *)&ba, sizeof ba);
	socklen_t l = sizeof aa;
	getsockname(a, (struct sockaddr *)&aa, &l);
	l = sizeof ba;
	getsockname(b, (struct sockaddr *)&ba, &l);
	res("sendto", sendto(a, "ping", 4, 0, (struct sockaddr *)&ba, sizeof ba));
	struct pollfd p = {b, POLLIN, 0};
	res("poll", poll(&p, 1, -1));
	char buf[64];
	struct sockaddr_in from;
	socklen_t fl = sizeof from;
	res("recvfrom peek", recvfrom(b, buf, sizeof buf, MSG_PEEK, (struct sockaddr *)&from, &fl));
	res("FIONREAD", ioctl(b, FIONREAD, &(int){0}));
	fl = sizeof from;
	res("recvfrom", recvfrom(b, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl));
	out("from a=%d len=%d data=%.4s\n", from.sin_port == aa.sin_port, (int)fl, buf);
	res("sendto long", sendto(a, "0123456789", 10, 0, (struct sockaddr *)&ba, sizeof ba));
	poll(&p, 1, -1);
	struct iovec iov = {buf, 4};
	struct msghdr m = {0};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	res("recvmsg trunc", recvmsg(b, &m, MSG_TRUNC));
	out("flags=%#x data=%.4s\n", m.msg_flags, buf);
	res("connect", connect(a, (struct sockaddr *)&ba, sizeof ba));
	struct sockaddr_in pa;
	socklen_t pl = sizeof pa;
	res("getpeername", getpeername(a, (struct sockaddr *)&pa, &pl));
	out("peer is b=%d\n", pa.sin_port == ba.sin_port);
	struct iovec two[2] = {{"ab", 2}, {"cd", 2}};
	m = (struct msghdr){0};
	m.msg_iov = two;
	m.msg_iovlen = 2;
	res("sendmsg iovecs", sendmsg(a, &m, 0));
	poll(&p, 1, -1);
	res("read", read(b, buf, sizeof buf));
	out("data=%.4s\n", buf);
	struct sockaddr_in unspec = {0};
	unspec.sin_family = AF_UNSPEC;
	res("connect unspec", connect(a, (struct sockaddr *)&unspec, sizeof unspec));
	pl = sizeof pa;
	res("getpeername after unspec", getpeername(a, (struct sockaddr *)&pa, &pl));
	close(a);
	close(b);
}

static void ipv6(void) {
	out("-- ipv6\n");
	int s = socket(AF_INET6, SOCK_STREAM, 0);
	ok("socket6", s);
	if (s < 0)
		return;
	out("v6only=%d SO_DOMAIN=%d\n", getint(s, IPPROTO_IPV6, IPV6_V6ONLY), getint(s, SOL_SOCKET, SO_DOMAIN));
	struct sockaddr_in6 a = {0};
	a.sin6_family = AF_INET6;
	a.sin6_addr = in6addr_loopback;
	res("bind6 short", bind(s, (struct sockaddr *)&a, 20));
	int r = bind(s, (struct sockaddr *)&a, sizeof a);
	ok("bind6 ::1", r);
	if (r < 0) {
		close(s);
		return;
	}
	listen(s, 1);
	socklen_t l = sizeof a;
	getsockname(s, (struct sockaddr *)&a, &l);
	out("getsockname6 len=%d\n", (int)l);
	int c = socket(AF_INET6, SOCK_STREAM, 0);
	res("connect6", connect(c, (struct sockaddr *)&a, sizeof a));
	int d = accept(s, NULL, NULL);
	ok("accept6", d);
	res("send6", send(c, "six", 3, 0));
	char buf[8];
	res("recv6", recv(d, buf, sizeof buf, 0));
	close(c);
	close(d);
	close(s);
}

/* netlink: getifaddrs over NETLINK_ROUTE, and the socket's checks. The
 * interface list is the test's network namespace's, the same for both
 * runs. */
static void netlink(void) {
	out("-- netlink\n");
	struct ifaddrs *ifa, *p;
	int r = getifaddrs(&ifa);
	ok("getifaddrs", r);
	if (r == 0) {
		int n = 0, lo4 = 0;
		for (p = ifa; p; p = p->ifa_next) {
			n++;
			if (strcmp(p->ifa_name, "lo") == 0 && p->ifa_addr && p->ifa_addr->sa_family == AF_INET)
				lo4 = ((struct sockaddr_in *)p->ifa_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
			out("%s family=%d\n", p->ifa_name, p->ifa_addr ? p->ifa_addr->sa_family : -1);
		}
		out("entries=%d lo has 127.0.0.1=%d\n", n, lo4);
		freeifaddrs(ifa);
	}
	/* netdevice(7) queries on an inet socket. */
	int q = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, "lo");
	res("SIOCGIFINDEX lo", ioctl(q, SIOCGIFINDEX, &ifr));
	out("index>0=%d\n", ifr.ifr_ifindex > 0);
	int idx = ifr.ifr_ifindex;
	res("SIOCGIFFLAGS lo", ioctl(q, SIOCGIFFLAGS, &ifr));
	out("up=%d loopback=%d\n", !!(ifr.ifr_flags & IFF_UP), !!(ifr.ifr_flags & IFF_LOOPBACK));
	res("SIOCGIFADDR lo", ioctl(q, SIOCGIFADDR, &ifr));
	out("addr=%s\n", inet_ntoa(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr));
	res("SIOCGIFMTU lo", ioctl(q, SIOCGIFMTU, &ifr));
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_ifindex = idx;
	res("SIOCGIFNAME", ioctl(q, SIOCGIFNAME, &ifr));
	out("name=%s\n", ifr.ifr_name);
	strcpy(ifr.ifr_name, "nosuch0");
	res("SIOCGIFINDEX nosuch0", ioctl(q, SIOCGIFINDEX, &ifr));
	struct ifconf ifc = {0};
	res("SIOCGIFCONF size", ioctl(q, SIOCGIFCONF, &ifc));
	int need = ifc.ifc_len;
	struct ifreq reqs[64];
	ifc.ifc_len = sizeof reqs;
	ifc.ifc_req = reqs;
	res("SIOCGIFCONF", ioctl(q, SIOCGIFCONF, &ifc));
	out("same length=%d first=%s\n", need == ifc.ifc_len, ifc.ifc_len > 0 ? reqs[0].ifr_name : "-");
	res("SIOCGIFCONF efault", ioctl(q, SIOCGIFCONF, (void *)8));
	res("unknown ioctl", ioctl(q, 0x1234, &ifr));
	close(q);

	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ok("socket netlink", s);
	struct sockaddr_nl nl = {0};
	nl.nl_family = AF_NETLINK;
	res("bind netlink short", bind(s, (struct sockaddr *)&nl, 8));
	nl.nl_family = AF_INET;
	res("bind netlink wrong family", bind(s, (struct sockaddr *)&nl, sizeof nl));
	nl.nl_family = AF_NETLINK;
	res("bind netlink", bind(s, (struct sockaddr *)&nl, sizeof nl));
	socklen_t l = sizeof nl;
	res("getsockname netlink", getsockname(s, (struct sockaddr *)&nl, &l));
	out("len=%d family=%d pid set=%d SO_PROTOCOL=%d\n", (int)l, nl.nl_family, nl.nl_pid != 0,
	    getint(s, SOL_SOCKET, SO_PROTOCOL));
	close(s);
}

int main(void) {
	creation();
	errors();
	options();
	tcp();
	udp();
	ipv6();
	netlink();
	return 0;
}
