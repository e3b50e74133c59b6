/* notify.c — see notify.h. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "notify.h"

#define NOTIFY_MAX 1024 /* one datagram; STATUS is cut to fit */

static int nfd = -1;
static struct sockaddr_un nsa;
static socklen_t nsa_len;

/* "/path" or "@abstract" into NSA; 0 or -EINVAL. */
static int parse_addr(const char *s)
{
	size_t n = strlen(s);

	memset(&nsa, 0, sizeof nsa);
	nsa.sun_family = AF_UNIX;
	if (n < 2 || n >= sizeof nsa.sun_path || (s[0] != '/' && s[0] != '@'))
		return -EINVAL;
	memcpy(nsa.sun_path, s, n);
	if (s[0] == '@')
		nsa.sun_path[0] = '\0'; /* abstract: the length says where it ends */
	else
		n++; /* the path's terminating NUL, as libsystemd sends it */
	nsa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	return 0;
}

int notify_init(void)
{
	const char *e = getenv("NOTIFY_SOCKET");
	int rc = 0;

	notify_close();
	if (!e)
		return 0;
	if ((rc = parse_addr(e)) != 0)
		goto out;
	nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (nfd < 0)
		rc = -errno;
out:
	/* e points into the environment: done with it before unsetenv. */
	unsetenv("NOTIFY_SOCKET");
	return rc;
}

int notify_enabled(void)
{
	return nfd >= 0;
}

int notify_send(const char *msg)
{
	size_t n = strlen(msg);

	if (nfd < 0)
		return 0;
	if (sendto(nfd, msg, n, MSG_NOSIGNAL | MSG_DONTWAIT, (const struct sockaddr *)&nsa, nsa_len) < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return 0;
}

/* Append "STATUS=<status>\n" (one line, cut to fit) to BUF of LEN at *AT. */
static void add_status(char *buf, size_t len, size_t *at, const char *status)
{
	const char *key = "STATUS=";
	size_t i;

	if (!status || *at + strlen(key) + 2 > len)
		return;
	memcpy(buf + *at, key, strlen(key));
	*at += strlen(key);
	for (i = 0; status[i] && *at + 2 < len; i++)
		buf[(*at)++] = status[i] == '\n' || status[i] == '\r' ? ' ' : status[i];
	buf[(*at)++] = '\n';
	buf[*at] = '\0';
}

/* HEAD (fixed lines), then STATUS, then TAIL (fixed lines), as one message. */
static int send3(const char *head, const char *status, const char *tail)
{
	char buf[NOTIFY_MAX];
	size_t at;
	int n;

	if (nfd < 0)
		return 0;
	n = snprintf(buf, sizeof buf, "%s", head);
	if (n < 0 || (size_t)n + strlen(tail) + 1 >= sizeof buf)
		return -EOVERFLOW;
	at = (size_t)n;
	add_status(buf, sizeof buf - strlen(tail), &at, status);
	memcpy(buf + at, tail, strlen(tail) + 1);
	return notify_send(buf);
}

int notify_ready(const char *status)
{
	char tail[32];

	snprintf(tail, sizeof tail, "MAINPID=%ld\n", (long)getpid());
	return send3("READY=1\n", status, tail);
}

int notify_reloading(const char *status)
{
	struct timespec ts;
	char head[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(head, sizeof head, "RELOADING=1\nMONOTONIC_USEC=%llu\n",
	    (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL);
	return send3(head, status, "");
}

int notify_stopping(const char *status, int extend_s)
{
	char tail[48] = "";

	if (extend_s > 0)
		snprintf(tail, sizeof tail, "EXTEND_TIMEOUT_USEC=%llu\n",
		    (unsigned long long)extend_s * 1000000ULL);
	return send3("STOPPING=1\n", status, tail);
}

void notify_close(void)
{
	if (nfd >= 0)
		close(nfd);
	nfd = -1;
}
