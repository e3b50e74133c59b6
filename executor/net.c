/*
 * net.c — resolution and deadline-bounded non-blocking connect (see net.h).
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"
#include "status.h"
#include "../common/clock.h"

static int connect_one(const struct addrinfo *ai, int64_t deadline_ms)
{
	int fd, err = 0, one = 1;
	socklen_t elen = sizeof err;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	/* SSH packets are small and each waits for an answer: without this, a
	 * delayed ACK holds each round trip ~40 ms (on a warm session, the whole
	 * job's cost). OpenSSH sets it for interactive sessions too. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
		err = errno;
		goto fail;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		err = errno;
		goto fail;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int64_t left = deadline_ms - clock_mono_ms();
		int n;

		if (left <= 0) {
			err = ETIMEDOUT;
			goto fail;
		}
		n = poll(&p, 1, left > 1000 ? 1000 : (int)left);
		if (n < 0 && errno == EINTR) {
			err = EINTR; /* let the caller see a pending signal */
			goto fail;
		}
		if (n < 0) {
			err = errno;
			goto fail;
		}
		if (n == 0)
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
			err = errno;
		if (err)
			goto fail;
		return fd;
	}
fail:
	close(fd);
	return -err;
}

int net_connect(const char *host, int port, int64_t deadline_ms)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	char portstr[16];
	int rc, fd = -ENOENT;

	snprintf(portstr, sizeof portstr, "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0)
		return rc == EAI_SYSTEM ? -errno : -ENOENT;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = connect_one(ai, deadline_ms);
		if (fd >= 0 || fd == -ETIMEDOUT || fd == -EINTR)
			break;
	}
	freeaddrinfo(res);
	return fd;
}
