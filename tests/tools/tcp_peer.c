/*
 * tcp_peer.c — loopback TCP peers that misbehave on purpose, for the
 * executor's timeout tests.
 *
 *   tcp_peer silent     listen on 127.0.0.1:0, print the port, accept every
 *                       connection and never write a byte (an SSH server that
 *                       never sends its banner: a handshake timeout). Says
 *                       "accepted" on stderr for each connection, so a test
 *                       can prove that nothing connected.
 *   tcp_peer blackhole  listen(fd, 0) on 127.0.0.1:0 and never accept; fill
 *                       the accept queue with our own connects so the kernel
 *                       drops further SYNs (a connect timeout). Checks that a
 *                       connect really hangs and says so on stderr if not.
 *
 * Both print the port on stdout (flushed) and run until stdin reaches EOF or
 * SIGTERM/SIGINT arrives.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 64

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int listen_loopback(int backlog, int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t slen = sizeof sa;
	int fd, one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, backlog) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &slen) != 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* A non-blocking connect to 127.0.0.1:PORT; the socket, or -errno. */
static int connect_nb(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* 1 when a fresh connect to PORT is still pending after MS, 0 when it
 * completed or failed (not a blackhole). */
static int connect_hangs(int port, int ms)
{
	struct pollfd p;
	int fd = connect_nb(port), n, err = 0;
	socklen_t elen = sizeof err;

	if (fd < 0)
		return 0;
	p.fd = fd;
	p.events = POLLOUT;
	n = poll(&p, 1, ms);
	if (n > 0)
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
	close(fd);
	if (n > 0)
		fprintf(stderr, "tcp_peer: blackhole check: connect %s\n",
		    err ? strerror(err) : "completed");
	return n == 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	int fds[MAX_FDS], nfds = 0, lfd, port = 0, blackhole, i, rc = 1;

	if (argc != 2 || (strcmp(argv[1], "silent") && strcmp(argv[1], "blackhole"))) {
		fprintf(stderr, "usage: tcp_peer silent|blackhole\n");
		return 2;
	}
	blackhole = !strcmp(argv[1], "blackhole");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd = listen_loopback(blackhole ? 0 : 64, &port);
	if (lfd < 0) {
		fprintf(stderr, "tcp_peer: listen: %s\n", strerror(-lfd));
		return 1;
	}
	fds[nfds++] = lfd;
	if (blackhole) {
		/* With backlog 0 the queue holds one connection; a few more make
		 * sure it is full, whatever the kernel's rounding. Give the
		 * handshakes a moment to land in the queue. */
		for (i = 0; i < 3; i++) {
			int c = connect_nb(port);
			if (c >= 0)
				fds[nfds++] = c;
		}
		poll(NULL, 0, 100);
		if (!connect_hangs(port, 1000))
			fprintf(stderr, "tcp_peer: port %d does NOT blackhole connects\n", port);
	}
	printf("%d\n", port);
	fflush(stdout);

	while (!stop_flag) {
		struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
				       { .fd = lfd, .events = POLLIN } };
		int n = poll(p, blackhole ? 1 : 2, 1000);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "tcp_peer: poll: %s\n", strerror(errno));
			goto out;
		}
		if (p[0].revents) {
			char b[256];
			ssize_t k = read(STDIN_FILENO, b, sizeof b);
			if (k == 0 || (k < 0 && errno != EINTR && errno != EAGAIN))
				break; /* stdin closed: done */
		}
		if (!blackhole && (p[1].revents & POLLIN)) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0)
				fprintf(stderr, "accepted\n");
			if (c >= 0 && nfds < MAX_FDS)
				fds[nfds++] = c; /* held open, never written */
			else if (c >= 0)
				close(c);
		}
	}
	rc = 0;
out:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	return rc;
}
