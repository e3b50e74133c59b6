/*
 * xclient.c — one job run through the remote-executor service (contract in
 * xclient.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/xproto.h"
#include "liveout.h"
#include "slots.h"
#include "xclient.h"

/* The service ends the run at the job's timeout and sends its status at
 * once; the backstop only catches a service that does not. */
#define BACKSTOP_SLACK_MS 1000
/* After the half-close: how long the service has to say how it ended. */
#define HANGUP_GRACE_MS 500
/* How often a wait looks at the shutdown flag. */
#define POLL_SLICE_MS 200

struct xconn {
	const struct xclient_spec *s;
	struct exec_result *r;
	int fd;
	int64_t deadline;      /* the backstop (monotonic ms) */
	int64_t hangup_at;     /* 0, or when the half-close was done */
	struct xproto_dec dec;
	struct exec_tail tail;
	int proto_bad;         /* the service's bytes broke the protocol */
};

/* Deadline or shutdown: half-close once (the service stops the job when
 * its client goes) and note why. 1 when the grace after it has run out. */
static int must_stop(struct xconn *c)
{
	int64_t now = clock_mono_ms();

	if (!c->hangup_at) {
		if (c->s->owner && slots_interrupted(c->s->owner))
			c->r->interrupted = 1;
		else if (now >= c->deadline)
			c->r->killed = 1;
		else
			return 0;
		shutdown(c->fd, SHUT_WR);
		c->hangup_at = now;
		return 0;
	}
	return now >= c->hangup_at + HANGUP_GRACE_MS;
}

/* How long the next poll may wait. */
static int slice(const struct xconn *c)
{
	int64_t until = c->hangup_at ? c->hangup_at + HANGUP_GRACE_MS : c->deadline;
	int64_t left = until - clock_mono_ms();

	return left < 0 ? 0 : left < POLL_SLICE_MS ? (int)left : POLL_SLICE_MS;
}

/* Connect to the service by CONNECT_BY (monotonic ms). A Unix socket's
 * non-blocking connect does not wait: EAGAIN means its backlog is full,
 * and the connect is tried again. 0 or -errno. */
static int xconnect(struct xconn *c, int64_t connect_by)
{
	struct sockaddr_un a;
	size_t n = strlen(c->s->socket_path);

	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	if (n >= sizeof a.sun_path)
		return -ENAMETOOLONG;
	memcpy(a.sun_path, c->s->socket_path, n + 1);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -errno;
	for (;;) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		if (connect(c->fd, (struct sockaddr *)&a, sizeof a) == 0)
			return 0;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		if (clock_mono_ms() >= connect_by || (c->s->owner && slots_interrupted(c->s->owner)))
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
	}
}

/* Send the whole request. 1: sent; 0: the service hung up first, or the
 * deadline or shutdown came (the job did not start); -ENOMEM. */
static int xsend(struct xconn *c, const unsigned char *b, size_t len)
{
	size_t off = 0;

	while (off < len) {
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };
		ssize_t k = send(c->fd, b + off, len - off, MSG_NOSIGNAL);

		if (k > 0) {
			off += (size_t)k;
			continue;
		}
		if (k < 0 && errno != EAGAIN && errno != EINTR)
			return 0;
		if (must_stop(c) || c->hangup_at)
			return 0;
		if (poll(&p, 1, slice(c)) < 0 && errno != EINTR)
			return 0;
	}
	return 1;
}

/* One frame of the answer. 0, or -EPROTO for a frame a run never gets. */
static int on_frame(struct xconn *c, const struct xproto_frame *f)
{
	switch (f->type) {
	case XPROTO_T_STDOUT:
	case XPROTO_T_STDERR:
		exec_tail_put(&c->tail, (const char *)f->data, f->len);
		liveout_put(c->s->live, f->type == XPROTO_T_STDOUT ? LIVEOUT_STDOUT : LIVEOUT_STDERR,
		    (const char *)f->data, f->len);
		if (f->type == XPROTO_T_STDOUT)
			c->r->bytes_out += f->len;
		else
			c->r->bytes_err += f->len;
		return 0;
	case XPROTO_T_STATUS:
		/* The decoder NUL-terminates the payload. */
		exec_parse_status((const char *)f->data, c->r);
		if (!c->r->has_status)
			return -EPROTO;
		return 0;
	default:
		return -EPROTO;
	}
}

/* Read the answer until the status, the end of the stream, or the end of
 * the grace after a half-close. 0 or -ENOMEM. */
static int xread(struct xconn *c)
{
	unsigned char buf[16384];

	while (!xproto_dec_done(&c->dec)) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		struct xproto_frame f;
		size_t off = 0, used;
		ssize_t n;
		int rc;

		if (must_stop(c))
			return 0;
		if (poll(&p, 1, slice(c)) < 0 && errno != EINTR)
			return 0;
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(c->fd, buf, sizeof buf);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			c->proto_bad = !c->r->has_status && xproto_dec_eof(&c->dec) != 0 && c->dec.total > 0;
			return 0;
		}
		while (off < (size_t)n) {
			rc = xproto_dec_feed(&c->dec, buf + off, (size_t)n - off, &used, &f);
			off += used;
			if (rc == -ENOMEM)
				return rc;
			if (rc < 0 || (rc == 1 && on_frame(c, &f) != 0)) {
				c->proto_bad = 1;
				return 0;
			}
			if (rc == 0)
				break;
		}
	}
	return 0;
}

int xclient_run(const struct xclient_spec *s, struct exec_result *r)
{
	struct xconn c = { .s = s, .r = r, .fd = -1 };
	struct xproto_req q;
	enum xproto_why why = XPROTO_OK;
	unsigned char *req = NULL;
	size_t reqlen = 0;
	int64_t start;
	int rc, sent = 0;

	memset(r, 0, sizeof *r);
	xproto_req_init(&q);
	xproto_dec_init(&c.dec, XPROTO_RESPONSE, 0);
	r->started_ms = clock_wall_ms();
	start = clock_mono_ms();
	c.deadline = start + s->timeout_ms + BACKSTOP_SLACK_MS;
	if ((rc = exec_tail_init(&c.tail, s->tail_bytes)) != 0)
		goto out;
	snprintf(q.dest, sizeof q.dest, "%s", s->destination);
	snprintf(q.identity, sizeof q.identity, "%s", s->identity_name);
	snprintf(q.job_id, sizeof q.job_id, "%s", s->job_id ? s->job_id : "");
	q.command = (char *)s->command; /* not ours: never freed through Q */
	q.command_len = strlen(s->command);
	q.connect_ms = (uint32_t)s->connect_timeout_ms;
	q.handshake_ms = (uint32_t)s->handshake_timeout_ms;
	q.run_ms = (uint32_t)s->timeout_ms;
	q.max_output = s->max_output_bytes;
	q.flags = XPROTO_F_POSIX_SH | (s->reuse ? XPROTO_F_REUSE : 0);
	rc = xproto_req_encode(&q, &req, &reqlen, &why);
	q.command = NULL;
	if (rc == -EINVAL) {
		/* Nothing is sent: a failed job (500) saying why. */
		snprintf(r->message, sizeof r->message, "the job cannot be sent to the remote-executor "
		    "service: %s (a command is at most %d bytes)", xproto_why_text(why), XPROTO_COMMAND_MAX);
	} else if (rc != 0) {
		goto out;
	} else if ((rc = xconnect(&c, start + s->connect_timeout_ms)) != 0) {
		r->unavailable = 1;
		snprintf(r->message, sizeof r->message, "cannot reach the remote-executor service: %s "
		    "(executor.socket %s); the job did not start", strerror(-rc), s->socket_path);
	} else {
		sent = xsend(&c, req, reqlen);
		if ((rc = xread(&c)) != 0)
			goto out;
	}
	if (!r->message[0] && !r->has_status && !r->killed && !r->interrupted) {
		if (!sent) {
			r->unavailable = 1;
			snprintf(r->message, sizeof r->message, "the remote-executor service at %s hung up "
			    "before taking the job; it did not start", s->socket_path);
		} else if (c.proto_bad) {
			snprintf(r->message, sizeof r->message, "the remote-executor service sent a bad "
			    "answer (%s); how the job ended is unknown", xproto_why_text(c.dec.why));
		} else {
			snprintf(r->message, sizeof r->message, "the remote-executor service closed the "
			    "connection without a status; how the job ended is unknown");
		}
	}
	rc = (r->tail = exec_tail_take(&c.tail, &r->tail_len)) ? 0 : -ENOMEM;
out:
	r->finished_ms = clock_wall_ms();
	if (c.fd >= 0)
		close(c.fd);
	if (req) {
		explicit_bzero(req, reqlen); /* a command may hold secrets */
		free(req);
	}
	xproto_dec_free(&c.dec);
	xproto_req_free(&q);
	exec_tail_free(&c.tail);
	return rc;
}
